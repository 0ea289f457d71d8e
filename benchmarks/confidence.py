"""What a word's confidence means: the share of words read exactly right, per confidence band.

    python benchmarks/confidence.py [--tier fast|accurate] [--sets docbank,sroie,tess] [--keep DIR]

Runs `ocr image {the set's images} --json FILE` on each ground-truth set of ../shared/data and
matches each word to the truth: docbank's to the truth's word boxes (a word on one truth word;
words covering several truth words are "run together", words inside part of one "cut apart", both
wrong; words on formulae, tables and figures, which the truth leaves out, not counted, as in
../shared/tools/evalkit.py); sroie's to the truth line holding most of its box, then in order
within the line (difflib); tess's in order over the page (over each zone on the UNLV pages). A
word is right if its text is the truth's (NFKC), with and without letter case. Prints, per set, a
table of confidence bands and what a `confidence < T` filter catches. README: Confidence.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT.parent / "shared" / "tools"))
import evalkit  # noqa: E402 - the scorer's own normalisation, matching and docbank filters

BANDS = [0.0, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0001]
FILTERS = [0.8, 0.9, 0.95, 0.99]
Word = dict[str, Any]


def read_set(name: str, tier: str, keep: Path) -> list[tuple[dict, list[Word]]]:
    """(truth, words read) per page of a set."""
    truths = evalkit.load_gt(name)
    out = keep / f"{tier}-{name}.jsonl"
    command = [sys.executable, "-m", "ocrcli", "image", *[t["path"] for t in truths], "--tier", tier]
    subprocess.run([*command, "--json", str(out)], check=True, cwd=ROOT)
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    pages = []
    for truth, doc in zip(truths, docs, strict=True):
        words = [
            {"text": evalkit.norm(w["text"]), "box": w["box"], "confidence": w["confidence"]}
            for page in doc["pages"]
            for line in page["lines"]
            for w in line["words"]
        ]
        pages.append((truth, words))
    return pages


def label_in_order(words: list[Word], truth: list[str]) -> None:
    """Mark words right or wrong by aligning them, in order, with the truth's words."""
    for key, right in ((str, "right"), (str.lower, "right_ci")):
        read = [key(w["text"]) for w in words]
        ops = difflib.SequenceMatcher(None, read, [key(t) for t in truth], autojunk=False)
        for op, i1, i2, _, _ in ops.get_opcodes():
            for w in words[i1:i2]:
                w[right] = op == "equal"


def label_sroie(truth: dict, words: list[Word]) -> None:
    lines = [{"text": evalkit.norm(line["text"]), "box": line["box"]} for line in truth["lines"]]
    iw, ih, wa, ha = evalkit._overlaps([w["box"] for w in words], [line["box"] for line in lines])[:4]
    share = iw * ih / np.maximum(wa * ha, 1e-9)[:, None]
    by_line: dict[int, list[Word]] = defaultdict(list)
    for w, row in zip(words, share, strict=True):
        if row.max(initial=0) >= 0.5:  # else text the truth does not label: not counted
            by_line[int(row.argmax())].append(w)
    for k, line_words in by_line.items():
        label_in_order(sorted(line_words, key=lambda w: w["box"][0]), lines[k]["text"].split())


def label_tess(truth: dict, words: list[Word]) -> None:
    if not truth.get("zones"):
        label_in_order(words, evalkit.norm(truth["text"]).split())
        return
    zoned = [w for z in truth["zones"] for w in words if evalkit._inside(evalkit._center(w["box"]), z["box"])]
    label_in_order(zoned, evalkit.norm(truth["text"]).split())


def label_docbank(truth: dict, words: list[Word]) -> None:
    kept, ignored = evalkit.docbank_split(truth["words"])
    ignored += truth.get("figures", [])
    boxes, truth_boxes = [w["box"] for w in words], [t["box"] for t in kept]
    near = evalkit.line_iou_matrix(boxes, truth_boxes).max(axis=1, initial=0)
    iw, ih, wa, ha, wb, hb = evalkit._overlaps(boxes, truth_boxes)
    same_line = (ih >= 0.5 * np.minimum(ha[:, None], hb[None, :])) & (iw > 0)
    ignored_iw, ignored_ih = evalkit._overlaps(boxes, ignored)[:2]
    for i, w in enumerate(words):
        on_ignored = [ignored[j] for j in np.flatnonzero(ignored_iw[i] * ignored_ih[i])]
        centred = any(evalkit._inside(evalkit._center(w["box"]), b) for b in on_ignored)
        if (
            near[i] < 0.5
            and on_ignored
            and (centred or evalkit.covered_fraction(w["box"], on_ignored) >= 0.5)
        ):
            continue  # on a formula, table or figure
        covered = [j for j in np.flatnonzero(same_line[i]) if iw[i, j] >= 0.5 * wb[j]]
        inside = [j for j in np.flatnonzero(same_line[i]) if iw[i, j] >= 0.5 * wa[i]]
        if len(covered) == 1 and inside == covered:
            text = kept[covered[0]]["text"]
            w["right"], w["right_ci"] = w["text"] == text, w["text"].lower() == text.lower()
        elif covered or inside or same_line[i].any():  # run together, cut apart, or astray
            w["right"] = w["right_ci"] = False


LABEL = {"docbank": label_docbank, "sroie": label_sroie, "tess": label_tess}


def report(name: str, words: list[Word]) -> None:
    print(f"\n{name}: {len(words)} words matched to the truth")
    print("| confidence | words | right | right, case ignored |\n|---|---|---|---|")
    for low, high in zip(BANDS, BANDS[1:], strict=False):
        band = [w for w in words if low <= w["confidence"] < high]
        if band:
            right, right_ci = (100 * sum(w[k] for w in band) / len(band) for k in ("right", "right_ci"))
            print(f"| {low}-{min(high, 1.0)} | {len(band)} | {right:.1f} % | {right_ci:.1f} % |")
    wrong = [w for w in words if not w["right_ci"]]
    for limit in FILTERS:
        flagged = [w for w in words if w["confidence"] < limit]
        caught = sum(not w["right_ci"] for w in flagged)
        print(
            f"confidence < {limit}: {len(flagged)} words ({100 * len(flagged) / len(words):.1f} %), "
            f"{caught} of the {len(wrong)} wrong ones"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tier", default="fast", choices=["fast", "accurate"])
    parser.add_argument("--sets", default="docbank,sroie,tess")
    parser.add_argument("--keep", type=Path, help="keep ocrcli's JSON Lines in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        keep = args.keep or Path(scratch)
        keep.mkdir(parents=True, exist_ok=True)
        for name in args.sets.split(","):
            matched: list[Word] = []
            for truth, words in read_set(name, args.tier, keep):
                LABEL[name](truth, words)
                matched += [w for w in words if "right" in w]
            report(name, matched)


if __name__ == "__main__":
    main()
