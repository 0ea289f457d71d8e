"""Peak memory of `ocr pdf` as a PDF gets longer: it must level off, not grow with the page count.

    python benchmarks/long_pdf_memory.py [--image ../shared/data/tess/img/phototest.tif]
                                         [--pages 60,240,480] [--select PAGES]

For each count, a PDF of that many copies of one scanned page (img2pdf, so every page is the same
image) is OCRed by `ocr pdf` in a fresh process, and its peak RSS (`ru_maxrss` of the child) and CPU
time are printed. A small scan keeps the run short; the memory that grew with the page count was
the heap's freed buffers (see ocrcli.runtime.KEEP_FREED_MB), not the pages' results. With
`--select 1` only page 1 is OCRed (`ocr pdf --pages 1`): what the other pages cost then is the
work around the OCR, which must grow in step with the page count (`--pages 20000,100000 --select 1`:
pikepdf's pages[i] made it grow with its square, 376 s for 100,000 pages). Not a test: quote the
output in notes.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import img2pdf
import pikepdf

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=DATA / "tess" / "img" / "phototest.tif")
    parser.add_argument("--pages", default="60,240,480", help="page counts, comma-separated")
    parser.add_argument("--select", help="OCR only these pages (ocr pdf --pages), e.g. 1")
    args = parser.parse_args()
    print("| pages | peak RSS MB | CPU s | CPU s / page |")
    print("|------:|-----------:|------:|-------------:|")
    page = io.BytesIO(img2pdf.convert(str(args.image)))
    with tempfile.TemporaryDirectory() as tmp, pikepdf.open(page) as one:
        for count in (int(n) for n in args.pages.split(",")):
            source = Path(tmp) / f"{count}.pdf"
            with pikepdf.new() as pdf:
                for _ in range(count):
                    pdf.pages.append(one.pages[0])
                pdf.save(source)
            command = [sys.executable, "-m", "ocrcli", "pdf", str(source), "-o", f"{source}.out.pdf"]
            command += ["--pages", args.select] if args.select else []
            peak_mb, cpu = _run(command, Path(tmp) / "stderr.txt")
            print(f"| {count} | {peak_mb:.0f} | {cpu:.1f} | {cpu / count:.3f} |", flush=True)


def _run(command: list[str], stderr_path: Path) -> tuple[float, float]:
    """(peak RSS in MB, user+sys CPU seconds) of the command, from its own rusage."""
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{command}: exit {os.waitstatus_to_exitcode(status)}: {stderr_path.read_text()[-500:]}")
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
