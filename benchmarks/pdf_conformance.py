"""What validators find in ocrcli's output PDFs that they do not find in the inputs. Prints one row
per output (findings in the input, new in the output, gone) and every new finding.

    python benchmarks/pdf_conformance.py OUT_DIR [--inputs DIR ...] [--pypdf PYTHON] [--json FILE]

OUT_DIR holds outputs named as benchmarks/check_pdfs.py --out writes them: STEM.pdf for
../shared/data/pdfs/STEM.pdf or an --inputs folder's STEM.pdf (and STEM.SUFFIX.pdf, e.g.
STEM.force.pdf, for other runs of it); an output with no such input (an image's PDF) has all its
findings new. Validators, each run if installed: qpdf --check, mutool info and clean
(mupdf-tools), Ghostscript, Apache PDFBox's Preflight (PDF/A-1b rules; a PDF/A-2 or -3 file is
judged by them in a copy whose XMP says part 1) and its text extraction (libpdfbox2-java,
libjaxb-api-java, libactivation-java), pypdf in strict mode (--pypdf PYTHON: a Python that has
it), and, in tagged PDFs, text drawn neither in the structure tree (marked content with an MCID)
nor as an artifact. Findings are compared with their numbers blanked out (object numbers, pages,
lengths differ between input and output).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pikepdf

ROOT = Path(__file__).resolve().parents[1]
PDFS = ROOT.parent / "shared" / "data" / "pdfs"
JAVA_DIR = Path("/usr/share/java")
JARS = ("preflight", "pdfbox2", "pdfbox2-tools", "fontbox2", "xmpbox", "commons-logging")
JARS += ("javax.activation", "jaxb-api")
# Log lines that say nothing about the file (PDFBox building its font cache on first use)
NOISE = re.compile(r"font cache|fontTools is required")
LOG_HEAD = re.compile(r"\tat |[A-Z][a-z]{2} \d\d, \d{4} ")  # a stack frame; java.util.logging's date line
QPDF_OK = "No syntax or stream encoding errors found"
SHOW_TEXT = {"Tj", "TJ", "'", '"'}
PYPDF_STRICT = """
import sys, logging, warnings, pypdf
found = []
class Log(logging.Handler):
    def emit(self, record): found.append(record.getMessage())
logging.getLogger("pypdf").addHandler(Log())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        reader = pypdf.PdfReader(sys.argv[1], strict=True)
        for page in reader.pages:
            page.extract_text()
        reader.metadata
        for number in range(1, reader.trailer["/Size"]):
            reader.get_object(number)
    except Exception as err:
        found.append(f"{type(err).__name__}: {err}")
found += [str(w.message) for w in caught]
print("\\n".join(found))
"""


def run(command: list[str], timeout: float = 300) -> tuple[int | str, str, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", "", ""
    return done.returncode, done.stdout, done.stderr


def normalised(line: str, path: Path) -> str:
    """`line` without what differs between input and output: numbers, and what Preflight quotes
    of a stream's bytes in brackets."""
    return re.sub(r"\d+", "N", re.sub(r" \[.*", "", line.replace(str(path), "FILE").strip()))[:160]


def findings(path: Path, pypdf_python: str | None) -> set[str]:
    """Every validator's findings on the PDF at `path`, as "tool: finding"."""
    found: set[str] = set()

    def add(tool: str, lines: str) -> None:
        found.update(f"{tool}: {normalised(x, path)}" for x in lines.splitlines() if x.strip())

    code, out, err = run(["qpdf", "--check", str(path)])
    if code != 0:  # its warnings and errors; the rest is a summary (version, encryption)
        lines = (out + err).replace(str(path), "FILE").splitlines()
        add("qpdf", "\n".join(x for x in lines if re.search("WARNING|ERROR|error", x) and QPDF_OK not in x))
        found.add(f"qpdf: exit {code}")
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("mutool"):
            for command in (["info", str(path)], ["clean", "-s", str(path), f"{tmp}/clean.pdf"]):
                code, _, err = run(["mutool", *command])
                add(f"mutool {command[0]}", err + (f"\nexit {code}" if code else ""))
        _, out, err = run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=nullpage", str(path)])
        add("gs", out + err)
        jars = [JAVA_DIR / f"{name}.jar" for name in JARS]
        if shutil.which("java") and all(jar.is_file() for jar in jars):
            classpath = ["java", "-cp", ":".join(map(str, jars))]
            judged = _as_pdfa_1(path, Path(tmp) / "as-pdfa-1.pdf")
            code, out, err = run([*classpath, "org.apache.pdfbox.preflight.Validator_A1b", str(judged)])
            add("preflight", "\n".join(x for x in out.splitlines() if x[:1].isdigit()))
            if code not in (0, 255):  # 255: not valid, the findings listed; else it could not finish
                thrown = next((x for x in err.splitlines() if x.startswith("Exception")), "")
                found.add(f"preflight: exit {code}: {normalised(thrown, path)}")
            add("pdfbox", "\n".join(x for x in err.splitlines() if "WARN" in x or "SEVERE" in x))
            _, _, err = run([*classpath, "org.apache.pdfbox.tools.ExtractText", str(path), f"{tmp}/text"])
            add("pdfbox text", "\n".join(x for x in err.splitlines() if not LOG_HEAD.match(x)))
    if pypdf_python:
        _, out, err = run([pypdf_python, "-c", PYPDF_STRICT, str(path)])
        add("pypdf strict", out + err)
    untagged = _text_outside_structure(path)
    if untagged:
        found.add(f"tagged pdf: text neither in the structure tree nor an artifact ({untagged} operators)")
    return {f for f in found if not NOISE.search(f)}


def _as_pdfa_1(path: Path, copy: Path) -> Path:
    """`path`, or if its XMP claims PDF/A-2 or -3, a copy claiming PDF/A-1 for Preflight to judge."""
    try:
        with pikepdf.open(path) as pdf:
            metadata = pdf.Root.get("/Metadata")
            xmp = metadata.read_bytes() if isinstance(metadata, pikepdf.Stream) else b""
            claimed = re.sub(rb"(pdfaid:part(?:=['\"]|>))[23]", rb"\g<1>1", xmp)
            if claimed == xmp:
                return path
            metadata.write(claimed)
            pdf.save(copy, fix_metadata_version=False)
            return copy
    except Exception:  # noqa: BLE001 - the validators say what is wrong with it
        return path


def _text_outside_structure(path: Path) -> int:
    """In a tagged PDF, the text-showing operators neither in marked content with an MCID nor in
    an /Artifact sequence, its forms' included (ISO 32000-1 14.8.2.2; PDF/UA-1 7.1)."""

    def count(holder: pikepdf.Object, resources: pikepdf.Object, marks: list[str], depth: int) -> int:
        total = 0
        for instruction in pikepdf.parse_content_stream(holder):
            op, operands = str(instruction.operator), instruction.operands
            if op in ("BMC", "BDC"):
                mcid = op == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]
                marks.append("artifact" if operands[0] == "/Artifact" else "mcid" if mcid else "")
            elif op == "EMC" and marks:
                marks.pop()
            elif op in SHOW_TEXT:
                total += not {"artifact", "mcid"} & set(marks)
            elif op == "Do" and depth < 10 and isinstance(resources, pikepdf.Dictionary):
                form = resources.get("/XObject", {}).get(operands[0])
                if isinstance(form, pikepdf.Stream) and form.get("/Subtype") == "/Form":
                    total += count(form, form.get("/Resources"), list(marks), depth + 1)
        return total

    try:
        with pikepdf.open(path) as pdf:
            if "/StructTreeRoot" not in pdf.Root:
                return 0
            return sum(count(page, page.obj.get("/Resources"), [], 0) for page in pdf.pages)
    except Exception:  # noqa: BLE001 - the validators say what is wrong with it
        return 0


def _input_of(out: Path, folders: list[Path]) -> Path | None:
    """The input PDF that `out` was made from: STEM.pdf for STEM.pdf or STEM.SUFFIX.pdf."""
    parts = out.name.removesuffix(".pdf").split(".")
    for end in range(len(parts), 0, -1):
        for folder in folders:
            if (original := folder / (".".join(parts[:end]) + ".pdf")).is_file():
                return original
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="outputs, named as check_pdfs.py --out names them")
    parser.add_argument("--pypdf", metavar="PYTHON", help="a Python with pypdf (not the project's)")
    parser.add_argument("--json", type=Path, help="write every finding here")
    parser.add_argument("--inputs", type=Path, action="append", default=[], help="inputs beside the corpus's")
    args = parser.parse_args()
    report = {}
    for out in sorted(args.out.glob("*.pdf")):
        original = _input_of(out, [*args.inputs, PDFS])
        before = findings(original, args.pypdf) if original else set()
        after = findings(out, args.pypdf)
        new, gone = sorted(after - before), sorted(before - after)
        report[out.name] = {"input": sorted(before), "new": new, "gone": gone}
        print(f"{out.name[:50]:<51} input {len(before):3}  new {len(new):3}  gone {len(gone):3}", flush=True)
        for finding in new:
            print(f"    + {finding}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(f"\n{sum(bool(r['new']) for r in report.values())} of {len(report)} outputs have new findings")


if __name__ == "__main__":
    main()
