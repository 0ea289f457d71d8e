"""Outputs judged by a standards validator none of us wrote: Apache PDFBox's Preflight, the PDF/A-1b
validator of Debian's libpdfbox2-java (veraPDF, which also knows PDF/A-2 and -3, is not packaged),
and qpdf --check. A missing java or Preflight is an error, never a skip: .ci/run installs them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import img2pdf
import numpy as np
import pytest
from common import DATA, TESS, grey_scan, ocr, pdftotext
from PIL import Image

JAVA_DIR = Path("/usr/share/java")
PREFLIGHT_JARS = ("preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging")
PREFLIGHT_JARS += ("javax.activation", "jaxb-api")  # which Java 11 and later no longer bring
INSTALL_HINT = "apt-get install default-jre-headless libpdfbox2-java libjaxb-api-java libactivation-java"
# What Preflight finds in any PDF that does not claim to be PDF/A: no XMP, no output intent, and
# (PDF/A-1 being PDF 1.4) the cross-reference stream of a PDF with object streams.
NOT_CLAIMING_PDFA = {
    "7.1: Error on MetaData, Metadata is not a stream",
    "2.4.3: Invalid Color space, DestOutputProfile is missing",
    "1.4: Trailer Syntax error, /XRef cross reference streams are not allowed",
}
# Ghostscript's lib/PDFA_def.ps, with Ghostscript's own sRGB profile as the output intent's.
PDFA_DEF = b"""
/ICCProfile currentuserparams /ICCProfilesDir get (default_rgb.icc) concatstrings def
[/_objdef {icc_PDFA} /type /stream /OBJ pdfmark
[{icc_PDFA} << /N 3 >> /PUT pdfmark
[{icc_PDFA} ICCProfile (r) file /PUT pdfmark
[/_objdef {OutputIntent_PDFA} /type /dict /OBJ pdfmark
[{OutputIntent_PDFA} << /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {icc_PDFA}
  /OutputConditionIdentifier (sRGB) >> /PUT pdfmark
[{Catalog} << /OutputIntents [ {OutputIntent_PDFA} ] >> /PUT pdfmark
"""


def preflight_errors(path: Path) -> set[str]:
    """Preflight's findings on `path` as PDF/A-1b, "CODE: details", each once whatever the pages it
    is found on (none: it is valid PDF/A-1b)."""
    java = shutil.which("java")
    jars = [JAVA_DIR / f"{name}.jar" for name in PREFLIGHT_JARS]
    missing = [jar.name for jar in jars if not jar.is_file()]
    if java is None or missing:
        raise RuntimeError(f"Preflight needs java and {', '.join(missing) or 'its jars'}: {INSTALL_HINT}")
    classpath = ":".join(map(str, jars))
    command = [java, "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b", "xml", str(path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    try:
        report = ElementTree.fromstring(run.stdout)
    except ElementTree.ParseError as err:
        raise RuntimeError(f"Preflight gave no report on {path}: {run.stderr[-500:]}") from err
    # An exception ends the validation with no finding listed: that is no verdict, not a pass.
    if (thrown := report.find("exceptionThrown")) is not None:
        raise RuntimeError(f"Preflight could not validate {path}: {thrown.findtext('message')}")
    return {f"{e.findtext('code')}: {e.findtext('details')}" for e in report.iter("error")}


def qpdf_check(path: Path) -> str:
    """qpdf --check's report when it finds anything, warnings included; "" when it finds nothing."""
    run = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    return "" if run.returncode == 0 and "WARNING" not in run.stdout + run.stderr else run.stdout + run.stderr


def pdfa_1b_scan(folder: Path) -> Path:
    """tess's phototest as Ghostscript converts an image's PDF to PDF/A-1b."""
    scan, definition, pdfa = folder / "scan.pdf", folder / "pdfa_def.ps", folder / "pdfa.pdf"
    scan.write_bytes(img2pdf.convert(str(TESS / "phototest.tif")))
    definition.write_bytes(PDFA_DEF)
    # Ghostscript 10.00 dates a file made in UTC D:...Z00'00', which Preflight does not match with
    # the XMP's date: any other time zone (POSIX's UTC-1 is an hour east)
    env = {**os.environ, "TZ": "UTC-1"}
    pdfa_options = ["-dPDFA=1", "-sColorConversionStrategy=RGB", "-dPDFACompatibilityPolicy=1"]
    command = ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", *pdfa_options, f"-sOutputFile={pdfa}"]
    subprocess.run([*command, str(definition), str(scan)], check=True, env=env, capture_output=True)
    return pdfa


def test_a_validation_that_preflight_could_not_finish_is_no_pass() -> None:
    """Preflight that meets an exception reports it with no finding: a PDF it could not read, or
    pdflatex-forms.pdf (a NullPointerException in Preflight), was taken for valid PDF/A-1b."""
    for path in (DATA / "pdfs" / "pypdf_sample_files_pdflatex-forms.pdf", DATA / "no such file.pdf"):
        with pytest.raises(RuntimeError, match="Preflight could not validate"):
            preflight_errors(path)


def test_a_pdfa_1b_scan_stays_valid_pdfa_1b_when_ocred_and_when_redone(tmp_path: Path) -> None:
    """The layer (a glyphless TrueType font, a form, marked content) is all PDF/A-1b allows, and
    the document's metadata, which PDF/A ties together (the Info's dates and producer and the
    XMP's), is kept as it was. Measured on the corpus's PDF/A files too: OCRmyPDF's PDF/A-2b and
    -3b, Ghostscript's PDF/A-1b, -2b and -3b; in none does Preflight find anything it did not
    find in the input (the PDF/A-2 and -3 ones judged by PDF/A-1b's rules)."""
    original = pdfa_1b_scan(tmp_path)
    assert preflight_errors(original) == set()
    out, redone = tmp_path / "out.pdf", tmp_path / "redone.pdf"
    for source, target, options in ((original, out, []), (out, redone, ["--redo"])):
        run = ocr("pdf", source, "-o", target, *options)
        assert run.returncode == 0, run.stderr
        assert "quick brown" in pdftotext(target)
        assert preflight_errors(target) == set()
        assert qpdf_check(target) == ""


def test_image_pdfs_are_sound_to_qpdf_and_to_preflight_but_for_not_claiming_pdfa(tmp_path: Path) -> None:
    """Each kind of page an image makes (bilevel JBIG2, 16-bit grey, CMYK JPEG, flattened RGBA, a
    JPEG drawn mirrored), with its text layer: qpdf finds nothing, nor does Preflight beyond what
    it finds in any PDF that does not claim to be PDF/A."""
    grey = (grey_scan() * 255).astype(np.uint8)
    images = [tmp_path / name for name in ("bw.png", "grey16.png", "cmyk.jpg", "rgba.png", "mirrored.jpg")]
    Image.fromarray(grey).convert("1").save(images[0])
    Image.fromarray(grey.astype(np.uint16) * 257).save(images[1])
    Image.fromarray(grey).convert("CMYK").save(images[2])
    Image.fromarray(grey).convert("RGBA").save(images[3])
    exif = Image.Exif()
    exif[0x0112] = 2  # stored mirrored, shown as scanned
    Image.fromarray(grey[:, ::-1]).convert("RGB").save(images[4], exif=exif)
    out = tmp_path / "images.pdf"
    run = ocr("image", *images, "--pdf", out)
    assert run.returncode == 0, run.stderr
    assert all("quick brown" in pdftotext(out, page=page) for page in range(1, len(images) + 1))
    assert qpdf_check(out) == ""
    assert preflight_errors(out) - NOT_CLAIMING_PDFA == set()
