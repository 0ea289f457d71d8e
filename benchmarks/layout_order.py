"""Reading-order accuracy of `ocrcli.layout.reading_order` on DocBank pages and SROIE receipts.

DocBank gives word boxes: they are merged into line boxes the way a text detector sees them (same
row, small gap), shuffled, ordered, and the resulting word sequence is compared with the page text
(difflib ratio over the tokens both sides have). SROIE gives line boxes listed in reading order; the
ratio is over box indices. "naive" is the baseline top-to-bottom, left-to-right sort. Run from the
project root:

    python benchmarks/layout_order.py [--verbose] [--skew DEGREES] [--data ../shared/data]

DocBank's `two_column` flag marks the pages whose text follows the columns. Eleven pages without the
flag are two-column as well (checked by eye), but their text reads across the gutter, row by row:
they are reported apart, and a column-aware order must score low there.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import re
import statistics
import sys
import unicodedata
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ocrcli.layout import Box, reading_order  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CID = re.compile(r"\(cid:\d+\)")
# Two-column pages whose DocBank text interleaves the columns (see the module docstring).
ROW_WISE_TRUTH = {
    "img/102.tar_1705.05217.gz_final_report_3.jpg",
    "img/135.tar_1805.05760.gz_cataracts_3.jpg",
    "img/209.tar_1807.08272.gz_main_1.jpg",
    "img/219.tar_1611.03873.gz_Manuscript_0.jpg",
    "img/246.tar_1808.08720.gz_conll2018_3.jpg",
    "img/253.tar_1809.00537.gz_main_5.jpg",
    "img/275.tar_1809.08252.gz_PapierFluctuations3_0.jpg",
    "img/63.tar_1504.07006.gz_mayak_arxiv_20141204_7.jpg",
    "img/71.tar_1803.05570.gz_draft_eta_p_enu_2.jpg",
    "img/91.tar_1605.05268.gz_Tunnelingtime12_0.jpg",
    "img/98.tar_1705.03369.gz_main_13.jpg",
}


@dataclasses.dataclass
class Page:
    name: str
    width: float
    height: float
    boxes: list[Box]
    tokens: list[list[str]]  # DocBank: comparable tokens of each box; SROIE: empty
    truth: list[str] | list[int]  # DocBank: page tokens in reading order; SROIE: box indices
    layout: str = "receipt"  # DocBank: "two-column", "one-column" or "row-wise truth"


def normalize(text: str) -> list[str]:
    """NFKC tokens without the `(cid:N)` placeholders of unmapped glyphs."""
    return unicodedata.normalize("NFKC", CID.sub(" ", text)).split()


def words_to_lines(boxes: Sequence[Box], max_gap: float = 0.8) -> list[list[int]]:
    """Group word boxes into detector-like lines: same row, gap below max_gap x the word height."""
    lines: list[list[int]] = []
    ends: list[Box] = []  # last word of each line
    for i in sorted(range(len(boxes)), key=lambda k: boxes[k][0]):
        x0, y0, x1, y1 = boxes[i]
        best, best_overlap = -1, 0.0
        for k, (_, ly0, lx1, ly1) in enumerate(ends):
            height = min(y1 - y0, ly1 - ly0)
            overlap = min(y1, ly1) - max(y0, ly0)
            gap = x0 - lx1
            if overlap > max(0.5 * height, best_overlap) and -0.3 * height <= gap <= max_gap * height:
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
        # Some words carry a misplaced accent glyph that makes their box several lines tall; a detector
        # would not see that, so a box keeps at most the median height, at its bottom (its own line).
        height = statistics.median(b[3] - b[1] for b in word_boxes)
        word_boxes = [(x0, max(y0, y1 - height), x1, y1) for x0, y0, x1, y1 in word_boxes]
        lines = words_to_lines(word_boxes)
        if row["two_column"]:
            layout = "two-column"
        else:
            layout = "row-wise truth" if row["image"] in ROW_WISE_TRUTH else "one-column"
        pages.append(
            Page(
                name=row["image"],
                width=row["width"],
                height=row["height"],
                boxes=[union([word_boxes[i] for i in line]) for line in lines],
                tokens=[[t for i in line for t in normalize(words[i]["text"])] for line in lines],
                truth=normalize(row["text"]),
                layout=layout,
            )
        )
    return pages


def sroie_pages(data: Path = DATA) -> list[Page]:
    pages = []
    for row in map(json.loads, (data / "sroie" / "gt.jsonl").read_text().splitlines()):
        boxes = [tuple(map(float, line["box"])) for line in row["lines"]]
        pages.append(Page(row["image"], row["width"], row["height"], boxes, [], list(range(len(boxes)))))
    return pages


def rotated(page: Page, degrees: float) -> Page:
    """The page turned about its center: each box becomes the bounds of its turned corners."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = page.width / 2, page.height / 2

    def turn(box: Box) -> Box:
        corners = ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3]))
        xs = [cx + (x - cx) * cos - (y - cy) * sin for x, y in corners]
        ys = [cy + (x - cx) * sin + (y - cy) * cos for x, y in corners]
        return min(xs), min(ys), max(xs), max(ys)

    return dataclasses.replace(page, boxes=[turn(b) for b in page.boxes])


def similarity(page: Page, order: Sequence[int]) -> float:
    """difflib ratio between the predicted and true sequences (tokens for DocBank, boxes for SROIE)."""
    if not page.tokens:
        return SequenceMatcher(None, list(order), page.truth, autojunk=False).ratio()
    predicted = [t for i in order for t in page.tokens[i]]
    # Only tokens both sides have: the page text and the word boxes do not cover quite the same glyphs.
    shared = set(predicted) & set(page.truth)
    a = [t for t in predicted if t in shared]
    b = [t for t in page.truth if t in shared]
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def ordered(page: Page, seed: int = 0) -> list[int]:
    """Line order from reading_order, given the page's boxes shuffled."""
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
            print(f"    {score:.3f}  {page.name}")
    if scores:
        mean, low = statistics.mean(scores), min(scores)
        print(f"  {label:26s} pages {len(scores):3d}  mean {mean:.3f}  min {low:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--verbose", action="store_true", help="print every page's score")
    parser.add_argument("--skew", type=float, default=0.0, help="turn every page by this many degrees")
    args = parser.parse_args()
    docbank = [rotated(p, args.skew) for p in docbank_pages(args.data)]
    groups = {
        f"docbank {layout}": [p for p in docbank if p.layout == layout]
        for layout in ("two-column", "one-column", "row-wise truth")
    }
    groups["sroie"] = [rotated(p, args.skew) for p in sroie_pages(args.data)]
    for name, order in (("reading_order", ordered), ("naive top-to-bottom", naive)):
        print(name)
        for label, pages in groups.items():
            report(label, pages, order, args.verbose)


if __name__ == "__main__":
    main()
