"""OCR every PDF of ../shared/data/pdfs that has text of its own (per index.tsv) with `ocr pdf
--force`, and judge each output with the shared yardstick: how many words the sidecar adds (OCR
words not lying on the page's own text, see searchable._drop_words_on_text) and the double-text
figure (sidecar words extracted twice over: words of the page's own text not recognised as such).
Run from the checkout whose ocrcli is to be measured.

    python benchmarks/force_double_text.py --out DIR
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "pdfs"
CHECKER = ROOT.parent / "shared" / "tools" / "check_searchable_pdf.py"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with open(DATA / "index.tsv", newline="") as index:
        rows = [
            r
            for r in csv.DictReader(index, delimiter="\t")
            if r["encrypted"] == "no" and int(r["text_chars_p1-3"]) > 0
        ]
    total_words = total_doubled = 0.0
    for row in rows:
        original, pdf = DATA / row["file"], out / row["file"]
        run = subprocess.run(
            [sys.executable, "-m", "ocrcli", "pdf", original, "-o", pdf, "--force"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if run.returncode != 0 or not pdf.exists():
            print(f"{row['file']:45} exit {run.returncode}: {run.stderr.strip()[:80]}")
            continue
        sidecar = pdf.with_suffix(".json")
        pages = json.loads(sidecar.read_text())["pages"]
        words = sum(len(w) for p in pages for line in p.get("lines", []) for w in [line["words"]])
        verdict = json.loads(
            subprocess.run(
                [sys.executable, CHECKER, original, pdf, sidecar, "--json"], capture_output=True, text=True
            ).stdout
        )
        doubled = [r for r in verdict["results"] if r["check"] == "double-text" and r["status"] != "SKIP"]
        worst = max((float(r["detail"].split()[0]) for r in doubled), default=0.0)
        total_words += words
        total_doubled += worst * words
        print(f"{row['file']:45} words added {words:5}  double-text worst page {worst:.3f}")
    print(f"total: {total_words:.0f} words added, about {total_doubled:.0f} of them extracted twice over")


if __name__ == "__main__":
    main()
