"""Reading-order accuracy of `ocrcli.layout.reading_order` on DocBank pages and SROIE receipts.

DocBank gives word boxes: words are merged into line boxes the way a text detector would see them
(same row, small horizontal gap), shuffled, ordered, and the resulting word sequence is compared with
the page text (difflib ratio over tokens). SROIE gives line boxes whose listed order is the truth; the
ratio is over line indices. Run from the project root:

    python benchmarks/layout_order.py [--data ../shared/data] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ocrcli.layout import Box, reading_order  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CID = re.compile(r"\(cid:\d+\)")
NOT_TEXT: set[str] = set()  # DocBank labels whose tokens are not real text (see data README)


@dataclass
class Page:
    name: str
    width: float
    height: float
    boxes: list[Box]
    tokens: list[list[str]]  # comparable tokens of each box (DocBank); unused for SROIE
    truth: list[str] | list[int]  # DocBank: page tokens in reading order; SROIE: box indices
    two_column: bool = False


def normalize(text: str) -> list[str]:
    """NFKC tokens without the `(cid:N)` placeholders of unmapped glyphs."""
    return [t for t in unicodedata.normalize("NFKC", CID.sub(" ", text)).split() if t]


def words_to_lines(boxes: Sequence[Box], max_gap: float = 1.0) -> list[list[int]]:
    """Group word boxes into detector-like lines: same row and a gap below max_gap x the word height."""
    lines: list[list[int]] = []
    ends: list[Box] = []  # last word of each line
    for i in sorted(range(len(boxes)), key=lambda k: boxes[k][0]):
        x0, y0, x1, y1 = boxes[i]
        best, best_overlap = -1, 0.0
        for k, (_, ly0, lx1, ly1) in enumerate(ends):
            height = min(y1 - y0, ly1 - ly0)
            overlap = min(y1, ly1) - max(y0, ly0)
            gap = x0 - lx1
            if overlap > 0.5 * height and -0.3 * height <= gap <= max_gap * height and overlap > best_overlap:
                best, best_overlap = k, overlap
        if best < 0:
            lines.append([i])
            ends.append(boxes[i])
        else:
            lines[best].append(i)
            ends[best] = boxes[i]
    return lines


def union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def docbank_pages(data: Path = DATA) -> list[Page]:
    pages = []
    for row in map(json.loads, (data / "docbank" / "gt.jsonl").read_text().splitlines()):
        words = row["words"]
        word_boxes = [tuple(map(float, w["box"])) for w in words]
        lines = words_to_lines(word_boxes)
        tokens = [
            [t for i in line if words[i]["label"] not in NOT_TEXT for t in normalize(words[i]["text"])]
            for line in lines
        ]
        pages.append(
            Page(
                name=row["image"],
                width=row["width"],
                height=row["height"],
                boxes=[union([word_boxes[i] for i in line]) for line in lines],
                tokens=tokens,
                truth=normalize(row["text"]),
                two_column=row["two_column"],
            )
        )
    return pages


def sroie_pages(data: Path = DATA) -> list[Page]:
    pages = []
    for row in map(json.loads, (data / "sroie" / "gt.jsonl").read_text().splitlines()):
        boxes = [tuple(map(float, line["box"])) for line in row["lines"]]
        pages.append(Page(row["image"], row["width"], row["height"], boxes, [], list(range(len(boxes)))))
    return pages


def similarity(page: Page, order: Sequence[int]) -> float:
    """difflib ratio between the predicted and true sequences (tokens for DocBank, boxes for SROIE)."""
    if not page.tokens:
        return SequenceMatcher(None, list(order), page.truth, autojunk=False).ratio()
    predicted = [t for i in order for t in page.tokens[i]]
    # Compare only tokens both sides have: the page text and the word boxes do not cover the same glyphs.
    shared = set(predicted) & set(page.truth)
    a = [t for t in predicted if t in shared]
    b = [t for t in page.truth if t in shared]
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def ordered(page: Page, seed: int = 0) -> list[int]:
    """Line order from reading_order on the page's boxes given in a shuffled order."""
    perm = list(range(len(page.boxes)))
    random.Random(seed).shuffle(perm)
    blocks = reading_order([page.boxes[i] for i in perm], page.width, page.height)
    return [perm[i] for block in blocks for i in block]


def naive(page: Page) -> list[int]:
    """Baseline: top to bottom, then left to right."""
    return sorted(range(len(page.boxes)), key=lambda i: (page.boxes[i][1], page.boxes[i][0]))


def report(label: str, pages: list[Page], order: Callable[[Page], list[int]], verbose: bool) -> None:
    scores = [similarity(p, order(p)) for p in pages]
    if verbose:
        for page, score in zip(pages, scores, strict=True):
            print(f"  {score:.3f}  {page.name}")
    if scores:
        print(f"{label:28s} pages {len(scores):3d}  mean {statistics.mean(scores):.3f}  min {min(scores):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--verbose", action="store_true", help="print every page's score")
    args = parser.parse_args()
    docbank = docbank_pages(args.data)
    sroie = sroie_pages(args.data)
    groups = {
        "docbank two-column": [p for p in docbank if p.two_column],
        "docbank one-column": [p for p in docbank if not p.two_column],
        "sroie": sroie,
    }
    for name, order in (("reading_order", ordered), ("naive top-to-bottom", naive)):
        print(f"== {name}")
        for label, pages in groups.items():
            report(label, pages, order, args.verbose)


if __name__ == "__main__":
    main()
