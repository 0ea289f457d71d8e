"""The OCR result tree: document -> page -> line -> word, with geometry and confidence.

Coordinates are pixels of the page image as the file displays it (origin top-left), even when the
page was rotated to be read. `to_dict()` gives the JSON form described in ocrcli/document.schema.json.
"""

from __future__ import annotations

import cmath
import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocrcli import skew

SCHEMA_VERSION = "1.0"
# Between pages in plain text: a form feed on a line of its own, as pdftotext separates them.
PAGE_BREAK = "\n\f\n"
# A line turned less than this (degrees) from the page's text direction runs along it in a row: a
# short word's quad can come out tilted by 10 degrees on a level page, a lone digit's by 30, while
# a chart's labels set at 45 degrees (40-50) are no row (as one, they were drawn in a table's size).
ROW_TILT = 35.0

# Why a page was not OCRed, as scripts tell them apart (a page's `skip_kind`; stable, in README.md)
SKIP_KINDS = {
    "not-selected": "outside --pages",
    "has-text": "the page has text of its own (--force OCRs it anyway)",
    "has-ocr-layer": "the page has an invisible OCR text layer (--redo replaces it)",
    "shows-nothing": "the page is less than a pixel wide or high as displayed",
    "too-complex": "its content is too large to rewrite safely (millions of drawing operators)",
    "damaged": "the page renders blank because part of it (an image, its content) cannot be decoded",
}

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Quad = tuple[float, ...]  # x0, y0, ..., x3, y3: clockwise from the text's top-left corner


def _round(values: Any, ndigits: int = 1) -> list[float]:
    # + 0.0: a value a hair below 0 (a quad mapped back from its crop, -1e-14) rounds to -0.0,
    # which json writes as "-0.0"
    return [round(float(v), ndigits) + 0.0 for v in values]


def mean_confidence(words: Sequence[Any]) -> float:
    """Word confidences weighted by length, like a mean over characters (of Words, or of the
    WordSpans read in a line crop)."""
    return sum(w.confidence * len(w.text) for w in words) / sum(len(w.text) for w in words)


def shows_text(lines: Iterable[Line], min_confidence: float) -> bool:
    """Whether a page's lines show it has text: one of two characters or more (spaces aside) read
    with `min_confidence` or more (a page of noise reads lone digits at up to 0.9); any line if
    `min_confidence` is 0 (see RecognizerSettings.min_page_confidence)."""
    return any(
        min_confidence <= 0 or (len(line.text.replace(" ", "")) >= 2 and line.confidence >= min_confidence)
        for line in lines
    )


def box_of_quad(quad: Quad) -> Box:
    xs, ys = quad[0::2], quad[1::2]
    return (min(xs), min(ys), max(xs), max(ys))


@dataclass
class Word:
    text: str
    quad: Quad
    confidence: float

    @property
    def box(self) -> Box:
        return box_of_quad(self.quad)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": _round(self.box),
            "quad": _round(self.quad),
            "confidence": round(self.confidence, 4),
        }

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Word:
        return cls(entry["text"], tuple(entry["quad"]), entry["confidence"])


@dataclass
class Line:
    text: str
    quad: Quad
    confidence: float
    words: list[Word] = field(default_factory=list)
    block: int = 0

    @property
    def box(self) -> Box:
        return box_of_quad(self.quad)

    def moved(self, move: Callable[[Quad], Quad]) -> Line:
        """The line with its quad and its words' quads passed through `move` (turned, say)."""
        words = [Word(word.text, move(word.quad), word.confidence) for word in self.words]
        return Line(self.text, move(self.quad), self.confidence, words, self.block)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": _round(self.box),
            "quad": _round(self.quad),
            "confidence": round(self.confidence, 4),
            "block": self.block,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Line:
        words = [Word.from_dict(w) for w in entry["words"]]
        return cls(entry["text"], tuple(entry["quad"]), entry["confidence"], words, entry.get("block", 0))


@dataclass
class Page:
    page: int  # 1-based
    width: int
    height: int
    dpi: float | None
    orientation: int = 0  # degrees clockwise the page was turned to be read upright
    orientation_confidence: float = 1.0
    lines: list[Line] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    skipped: str | None = None  # why a PDF page was not OCRed
    skip_kind: str | None = None  # the same as a stable name, one of SKIP_KINDS
    turned: int = 0  # degrees counter-clockwise --rotate-pages turned its display (see upright)
    # In a document of several images: which one (an index into source["paths"]) and which of its
    # frames (1-based) the page is
    image: tuple[int, int] | None = None
    # The sha256 of the text layer drawn on a PDF's page from these lines (pdfgraft.layer_sha256),
    # by which a later run finds the page again; of a skipped page, of the layer found on it.
    layer_sha256: str | None = None

    def __post_init__(self) -> None:
        assert self.skip_kind is None or self.skip_kind in SKIP_KINDS, self.skip_kind

    def rows(self) -> list[list[Line]]:
        """Lines in reading order, grouped into rows: lines side by side on one row of a block (a
        receipt's item and price) share a row."""
        upright = float(self.orientation)  # upright text, on the page as shown, reads this way
        level = upright + skew.text_skew((line.quad for line in self.lines), upright)
        rows: list[list[Line]] = []
        for line in self.lines:
            if rows and rows[-1][-1].block == line.block and _same_row(rows[-1][-1], line, level):
                rows[-1].append(line)
            else:
                rows.append([line])
        return rows

    def upright(self) -> Page:
        """The page as it reads once turned `orientation` degrees back (counter-clockwise):
        the size and every quad in that frame, orientation 0, and `turned` that many degrees
        (--rotate-pages)."""
        turn = self.orientation % 360
        if turn == 0:
            return self
        width, height = self.width, self.height

        def point(x: float, y: float) -> tuple[float, float]:
            if turn == 90:
                return y, width - x
            if turn == 180:
                return width - x, height - y
            return height - y, x

        def turned(quad: Quad) -> Quad:
            return tuple(v for i in range(4) for v in point(quad[2 * i], quad[2 * i + 1]))

        lines = [line.moved(turned) for line in self.lines]
        across, down = (height, width) if turn in (90, 270) else (width, height)
        return dataclasses.replace(self, width=across, height=down, orientation=0, lines=lines, turned=turn)

    @property
    def text(self) -> str:
        """The page's text in reading order, a row per text line."""
        return "\n".join(" ".join(line.text for line in row) for row in self.rows())

    def to_dict(self) -> dict[str, Any]:
        blocks: dict[int, list[int]] = {}
        for i, line in enumerate(self.lines):
            blocks.setdefault(line.block, []).append(i)
        return {
            "page": self.page,
            "width": self.width,
            "height": self.height,
            "dpi": round(self.dpi, 2) if self.dpi else None,
            "orientation": self.orientation,
            # a skipped page was never classified: no confidence to give
            **({} if self.skipped else {"orientation_confidence": round(self.orientation_confidence, 4)}),
            "blocks": [
                {
                    "box": _round(_union([self.lines[i].box for i in idx])),
                    "lines": idx,
                }
                for _, idx in sorted(blocks.items())
            ],
            "lines": [line.to_dict() for line in self.lines],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            **({"skipped": self.skipped} if self.skipped else {}),
            **({"skip_kind": self.skip_kind} if self.skip_kind else {}),
            **({"turned": self.turned} if self.turned else {}),
            **({"image": {"index": self.image[0], "frame": self.image[1]}} if self.image else {}),
            **({"layer_sha256": self.layer_sha256} if self.layer_sha256 and self.lines else {}),
        }

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Page:
        """A page of a JSON document (a sidecar) back as the tree; coordinates as written, to 0.1 px."""
        return cls(
            page=entry["page"],
            width=entry["width"],
            height=entry["height"],
            dpi=entry["dpi"],
            orientation=entry["orientation"],
            orientation_confidence=entry.get("orientation_confidence", 1.0),
            lines=[Line.from_dict(line) for line in entry["lines"]],
            timings=dict(entry.get("timings", {})),
            skipped=entry.get("skipped"),
            skip_kind=entry.get("skip_kind"),
            turned=entry.get("turned", 0),
            image=(entry["image"]["index"], entry["image"]["frame"]) if "image" in entry else None,
            layer_sha256=entry.get("layer_sha256"),
        )


@dataclass
class Document:
    source: dict[str, Any]  # {"path": ..., "sha256": ...}
    pages: list[Page]
    models: dict[str, str]  # role -> model name
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The pages' text, each in reading order, a form feed between pages (see PAGE_BREAK)."""
        return PAGE_BREAK.join(page.text for page in self.pages)

    def to_dict(self) -> dict[str, Any]:
        from ocrcli import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "ocrcli", "version": __version__},
            "source": self.source,
            "models": self.models,
            "pages": [p.to_dict() for p in self.pages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def record_without_pages(path: str, **fields: Any) -> dict[str, Any]:
    """A JSON Lines record for an input with no OCR result to give (it failed, or `ocr scan` found
    its outputs current without a readable sidecar), still valid against the schema: `pages` is
    empty, so `jq '.pages[]'` skips it instead of failing."""
    from ocrcli import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ocrcli", "version": __version__},
        "source": {"path": path, "sha256": None},
        "pages": [],
        **fields,
    }


def _same_row(first: Line, then: Line, level: float) -> bool:
    """Does `then` continue `first`'s row: level with it and further along its reading direction?
    The row runs along `level`, the page's text direction (degrees), unless `first` is turned
    ROW_TILT or more from it (vertical text, slanted labels)."""
    p0, p1, _, p3 = (complex(first.quad[2 * i], first.quad[2 * i + 1]) for i in range(4))
    along, across = p1 - p0, p3 - p0
    if not along or not across:
        return False
    if abs(skew.difference(skew.direction(first.quad), level)) < ROW_TILT:
        along = cmath.rect(1.0, math.radians(level))
    centre_first = sum(complex(first.quad[2 * i], first.quad[2 * i + 1]) for i in range(4)) / 4
    centre_then = sum(complex(then.quad[2 * i], then.quad[2 * i + 1]) for i in range(4)) / 4
    offset = centre_then - centre_first
    # Projections onto the row's direction and its normal (complex numbers as 2-D vectors).
    forward = (offset * along.conjugate()).real / abs(along)
    sideways = (offset * (1j * along).conjugate()).real / abs(along)
    then_height = abs(complex(then.quad[6] - then.quad[0], then.quad[7] - then.quad[1]))
    return forward > 0 and abs(sideways) < 0.5 * min(abs(across), then_height)


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
