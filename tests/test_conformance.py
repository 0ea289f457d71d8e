"""Outputs judged by a standards validator none of us wrote: Apache PDFBox's Preflight, the PDF/A-1b
validator of Debian's libpdfbox2-java (veraPDF, which also knows PDF/A-2 and -3, is not packaged),
and qpdf --check. A missing java or Preflight is an error, never a skip: .ci/run installs them."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import img2pdf
import numpy as np
import pikepdf
import pytest
from common import DATA, TESS, grey_scan, ocr, pdftotext
from PIL import Image, ImageCms

JAVA_DIR = Path("/usr/share/java")
GS_PROFILES = Path("/usr/share/color/icc/ghostscript")  # ICC profiles of version 2, with Ghostscript
PREFLIGHT_JARS = ("preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging")
PREFLIGHT_JARS += ("javax.activation", "jaxb-api")  # which Java 11 and later no longer bring
INSTALL_HINT = "apt-get install default-jre-headless libpdfbox2-java libjaxb-api-java libactivation-java"
# What Preflight finds in any PDF that does not claim to be PDF/A: no XMP, no output intent, and
# (PDF/A-1 being PDF 1.4) the cross-reference stream of a PDF with object streams.
ICC_VERSION_4 = "2.1.6: Invalid graphics object, Invalid version of the ICCProfile"
# What Preflight finds in a PDF/A-2b file that it allows and PDF/A-1 does not.
PDFA_2_BY_PDFA_1_RULES = {
    "1.4: Trailer Syntax error, /XRef cross reference streams are not allowed",
    ICC_VERSION_4,
    "7.11.2: Error on MetaData, part must be 1",
}
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


def image_kinds(folder: Path) -> dict[str, Path]:
    """tess's phototest in each kind of image that makes a different kind of page: bilevel (JBIG2),
    16-bit grey, CMYK JPEG, RGBA (flattened), palette, an RGB JPEG with its ICC profile (version 2,
    Ghostscript's), and a JPEG drawn mirrored. By name."""
    grey = Image.fromarray((grey_scan() * 255).astype(np.uint8))
    paths = {name: folder / name for name in ("bw.png", "grey16.png", "cmyk.jpg", "rgba.png", "palette.png")}
    grey.convert("1").save(paths["bw.png"])
    Image.fromarray(np.asarray(grey).astype(np.uint16) * 257).save(paths["grey16.png"])
    grey.convert("CMYK").save(paths["cmyk.jpg"])
    grey.convert("RGBA").save(paths["rgba.png"])
    grey.convert("P").save(paths["palette.png"])
    paths["profiled.jpg"] = folder / "profiled.jpg"  # Adobe RGB (1998) as a camera may take it
    grey.convert("RGB").save(paths["profiled.jpg"], icc_profile=(GS_PROFILES / "a98.icc").read_bytes())
    exif = Image.Exif()
    exif[0x0112] = 2  # stored mirrored, shown as scanned
    paths["mirrored.jpg"] = folder / "mirrored.jpg"
    grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT).convert("RGB").save(paths["mirrored.jpg"], exif=exif)
    return paths


def test_image_pdfs_are_sound_to_qpdf_and_to_preflight_but_for_not_claiming_pdfa(tmp_path: Path) -> None:
    """Each kind of page an image makes, with its text layer: qpdf finds nothing, nor does
    Preflight beyond what it finds in any PDF that does not claim to be PDF/A."""
    images = list(image_kinds(tmp_path).values())
    out = tmp_path / "images.pdf"
    run = ocr("image", *images, "--pdf", out)
    assert run.returncode == 0, run.stderr
    assert all("quick brown" in pdftotext(out, page=page) for page in range(1, len(images) + 1))
    assert qpdf_check(out) == ""
    assert preflight_errors(out) - NOT_CLAIMING_PDFA == set()
    assert "/OutputIntents" not in pikepdf.open(out).Root  # PDF/A only when asked: it costs 1.4 KB


def test_pdfa_makes_image_pdfs_pdfa_2b(tmp_path: Path) -> None:
    """--pdfa: every kind of page an image makes is PDF/A-2b, but an unprofiled CMYK JPEG's.
    Preflight knows PDF/A-1's rules only, and finds just the three things PDF/A-2 allows and
    PDF/A-1 does not: cross-reference streams, an ICC profile of version 4, and the part, 2. Saved
    as part 1 without object streams, the same file gets past the part to the metadata's other
    rules (the Info and the XMP agree), and only the profile's version is left. The output
    intent's profile is itself a sound ICC profile, for a display, in RGB, of version 4 (as ISO
    19005-2 6.2.3 asks)."""
    images = [path for name, path in image_kinds(tmp_path).items() if name != "cmyk.jpg"]
    images.append(tmp_path / "profiled-cmyk.jpg")  # CMYK with a profile, its own ICC colour space
    Image.open(tmp_path / "cmyk.jpg").save(
        images[-1], icc_profile=(GS_PROFILES / "default_cmyk.icc").read_bytes()
    )
    out = tmp_path / "images.pdf"
    run = ocr("image", *images, "--pdf", out, "--pdfa")
    assert run.returncode == 0, run.stderr
    assert all("quick brown" in pdftotext(out, page=page) for page in range(1, len(images) + 1))
    assert qpdf_check(out) == ""
    assert preflight_errors(out) == PDFA_2_BY_PDFA_1_RULES
    as_part_1 = tmp_path / "part1.pdf"
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        xmp = pdf.Root.Metadata.read_bytes().replace(b"<pdfaid:part>2<", b"<pdfaid:part>1<")
        pdf.Root.Metadata = pdf.make_stream(xmp, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
        pdf.save(as_part_1, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        (intent,) = pdf.Root.OutputIntents
        profile = ImageCms.ImageCmsProfile(io.BytesIO(intent.DestOutputProfile.read_bytes())).profile
    assert preflight_errors(as_part_1) == {ICC_VERSION_4}
    assert (profile.device_class, profile.xcolor_space, int(profile.version)) == ("mntr", "RGB ", 4)


def test_pdfa_refuses_a_cmyk_image_and_ocr_scan_makes_only_images_pdfa(tmp_path: Path) -> None:
    """A CMYK image cannot be shown through the sRGB intent, and its pixels are not converted: it
    is refused in one line, exit 3, nothing written. In ocr scan it fails alone, before its OCR; the
    folder's other image is PDF/A-2b, its PDF keeps its own form, and a run without --pdfa redoes
    the image (its outputs are current only for the options they were made with)."""
    cmyk = image_kinds(tmp_path)["cmyk.jpg"]
    run = ocr("image", cmyk, "--pdf", tmp_path / "cmyk.pdf", "--pdfa")
    assert (run.returncode, run.stderr.splitlines()) == (
        3,
        [
            f"ocr: error: {cmyk}: cannot be PDF/A-2b: an image in DeviceCMYK with no ICC profile of its own "
            "(only RGB and grey need none)"
        ],
    )
    assert not (tmp_path / "cmyk.pdf").exists()
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(cmyk, scans)
    shutil.copy(TESS / "phototest.tif", scans)
    shutil.copy(DATA / "pdfs" / "ocrmypdf_linn.pdf", scans)
    run = ocr("scan", scans, "--pdfa", "-q")
    assert run.returncode == 3 and "cmyk.jpg: cannot be PDF/A-2b" in run.stderr
    out = tmp_path / "scans-ocr"
    assert sorted(path.name for path in out.iterdir()) == [
        "ocrmypdf_linn.json",
        "ocrmypdf_linn.pdf",
        "phototest.json",
        "phototest.pdf",
    ]
    assert preflight_errors(out / "phototest.pdf") == PDFA_2_BY_PDFA_1_RULES
    with pikepdf.open(out / "ocrmypdf_linn.pdf") as pdf:
        assert "/OutputIntents" not in pdf.Root and pdf.open_metadata().pdfa_status == ""
    run = ocr("scan", scans, "--json", "-", "-q")
    records = [json.loads(line) for line in run.stdout.splitlines()]
    redone = {Path(record["source"]["path"]).name for record in records if record.get("status") != "current"}
    assert redone == {"cmyk.jpg", "phototest.tif"}, run.stderr
    with pikepdf.open(out / "phototest.pdf") as pdf:
        assert "/OutputIntents" not in pdf.Root
