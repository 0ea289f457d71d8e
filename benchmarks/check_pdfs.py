"""Run `ocr image --pdf` / `ocr pdf` on the issue's sets and judge every output with the shared
yardstick, ../shared/tools/check_searchable_pdf.py. Prints one row per input (checks failed, size
growth) and a summary.

    python benchmarks/check_pdfs.py [--out DIR] [--sets images,pdfs] [--images SET:FIRST:END ...]
                                    [--skew DEGREES]

Images: all of tess/img, the first 10 docbank and 10 sroie pages (the issue's sets); --images
takes others instead, e.g. `--images sroie:10:40` for sroie's 11th to 40th image by name, pages
not used in tuning. --skew turns each image input by that many degrees (anticlockwise, on white,
at its resolution), as a page fed crooked into a scanner, and judges the output against the turned
copy (written to DIR/skewed). PDFs: every file in ../shared/data/pdfs that opens and has a page
without text (per index.tsv), run with a 60 s limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CHECKER = ROOT.parent / "shared" / "tools" / "check_searchable_pdf.py"
OCR = [sys.executable, "-m", "ocrcli"]


def images(ranges: list[str]) -> list[Path]:
    if ranges:
        chosen = []
        for spec in ranges:
            name, first, end = spec.split(":")
            chosen += sorted((DATA / name / "img").iterdir())[int(first) : int(end)]
        return chosen
    docbank = sorted((DATA / "docbank" / "img").iterdir())[:10]
    sroie = sorted((DATA / "sroie" / "img").iterdir())[:10]
    return sorted((DATA / "tess" / "img").iterdir()) + docbank + sroie


def skewed(original: Path, degrees: float, folder: Path) -> Path:
    """A copy of the image turned `degrees` anticlockwise, the corners filled white, as PNG."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{original.stem}_skew{degrees:g}.png"
    with Image.open(original) as image:
        dpi = image.info.get("dpi")
        grey = image.mode in ("1", "L", "LA", "I", "I;16")  # kept grey: a bilevel page turned is grey
        turned = image.convert("L" if grey else "RGB").rotate(
            degrees, Image.Resampling.BICUBIC, expand=True, fillcolor="white"
        )
        turned.save(out, **({"dpi": dpi} if dpi else {}))
    return out


def pdfs() -> list[Path]:
    with open(DATA / "pdfs" / "index.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [DATA / "pdfs" / r["file"] for r in rows]


def judge(original: Path, out: Path) -> tuple[bool, list[str]]:
    run = subprocess.run(
        [sys.executable, str(CHECKER), str(original), str(out), str(out.with_suffix(".json")), "--json"],
        capture_output=True,
        text=True,
    )
    if run.returncode not in (0, 1):
        return False, [run.stderr.strip()[:120]]
    verdict = json.loads(run.stdout)
    failed = []
    for r in verdict["results"]:
        if r["status"] == "FAIL":
            figures = " ".join(f"{k} {v}" for k, v in r["figures"].items() if k in ("recall", "order"))
            failed.append(f"{r['check']} p{r['page']} {figures}")
    return verdict["pass"], failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/ocrcli-check-pdfs"))
    parser.add_argument("--sets", default="images,pdfs")
    parser.add_argument("--images", action="append", default=[], metavar="SET:FIRST:END")
    parser.add_argument("--skew", type=float, metavar="DEGREES", help="turn each image input first")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = []
    if "images" in args.sets:
        chosen = images(args.images)
        if args.skew:
            chosen = [skewed(p, args.skew, args.out / "skewed") for p in chosen]
        jobs += [("image", p) for p in chosen]
    if "pdfs" in args.sets:
        jobs += [("pdf", p) for p in pdfs()]
    passed = judged = 0
    for kind, original in jobs:
        out = args.out / (original.stem + ".pdf")
        command = (
            [*OCR, "image", str(original), "--pdf", str(out)]
            if kind == "image"
            else [*OCR, "pdf", str(original), "-o", str(out)]
        )
        start = time.perf_counter()
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=60)
            code, err = run.returncode, run.stderr.strip().splitlines()
        except subprocess.TimeoutExpired:
            code, err = "timeout", []
        seconds = time.perf_counter() - start
        if code != 0:
            print(f"{original.name[:44]:<45} exit {code} {seconds:5.1f}s  {err[-1][:90] if err else ''}")
            continue
        sidecar = json.loads(out.with_suffix(".json").read_text())
        if all("skipped" in p for p in sidecar["pages"]):  # a page OCRed with no text found is judged
            print(f"{original.name[:44]:<45} exit 0 {seconds:5.1f}s  no page OCRed (all have text)")
            continue
        ok, failed = judge(original, out)
        judged += 1
        passed += ok
        growth = 100 * (out.stat().st_size / original.stat().st_size - 1)
        verdict = "PASS" if ok else "FAIL " + "; ".join(failed)
        print(f"{original.name[:44]:<45} exit 0 {seconds:5.1f}s  size {growth:+6.1f}%  {verdict}", flush=True)
    print(f"\n{passed} of {judged} OCRed outputs pass check_searchable_pdf.py")


if __name__ == "__main__":
    main()
