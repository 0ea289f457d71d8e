"""How many docbank words typeset with a ligature (fi, fl, ff, ffi, ffl) come out right.

    python benchmarks/ligature_words.py [--tier fast|accurate] [--save FILE] [--predictions FILE]

Runs `ocr image` on docbank's pages through ../shared/tools/score_ocr.py (or reads the predictions
it saved with --save), takes what its scorer compares (evalkit.page_view: formulae, tables and
figures left out), and counts, per letter pair, the truth's words that hold it and how many of them
the OCR has as they are (bag of words, per page). Lists the words still misread. docs/engine.md: Ligatures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT.parent / "shared" / "tools"
PAIRS = ("ffi", "ffl", "fl", "fi", "ff")  # longest first: a word counts once, under its first match


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tier", default="fast", choices=("fast", "accurate"))
    parser.add_argument("--predictions", type=Path, help="score_ocr.py --save output to read instead")
    parser.add_argument("--save", type=Path, help="keep the predictions here")
    args = parser.parse_args()
    sys.path.insert(0, str(TOOLS))
    import evalkit
    import score_ocr

    docbank = ROOT.parent / "shared" / "data" / "docbank"
    saved = args.predictions
    if saved is None:
        saved = args.save or Path(tempfile.mkdtemp()) / "docbank.jsonl"
        ocr = f"{sys.executable} -m ocrcli image --tier {args.tier} {{paths}} --json -"
        scorer = [sys.executable, str(TOOLS / "score_ocr.py"), str(docbank), "--cmd", ocr]
        subprocess.run([*scorer, "--save", str(saved)], check=True, cwd=tempfile.gettempdir())
    with saved.open(encoding="utf-8") as file:
        predictions = {row["image"]: row["pred"] for row in map(json.loads, file)}
    counts: Counter[tuple[str, str]] = Counter()
    misread: Counter[str] = Counter()
    for truth in score_ocr.load_gt(str(docbank), None):
        view = evalkit.page_view(predictions[truth["image"]], truth)
        read = Counter(evalkit.norm(view["pred_text"]).split())
        for word, n in Counter(evalkit.norm(view["gt_text"]).split()).items():
            pair = next((pair for pair in PAIRS if pair in word), None)
            if pair is None:
                continue
            right = min(n, read[word])
            counts[pair, "words"] += n
            counts[pair, "right"] += right
            misread[word] += n - right
    print("| letters | words | read right |\n| --- | ---: | ---: |")
    for pair in PAIRS:
        print(f"| {pair} | {counts[pair, 'words']} | {counts[pair, 'right']} |")
    total = sum(counts[pair, "words"] for pair in PAIRS)
    print(f"| all | {total} | {sum(counts[pair, 'right'] for pair in PAIRS)} |")
    print("\nstill misread:", ", ".join(f"{word} ({n})" for word, n in misread.most_common() if n))


if __name__ == "__main__":
    main()
