"""The direction a page's text runs in, from its lines' quads, and quads (and the page) turned level.

The reading order (layout) and the gutter cuts (linesplit) work on axis-aligned boxes. On a scan a
few degrees off level, a long line's box grows tall and the boxes of one row sit at different
heights: columns were read line across line, and a receipt's price went onto a row of its own. The
quads give each line's direction, so the page's skew is known: those steps are given the boxes of
the quads turned level instead, and a table's horizontal rules are looked for on the page turned
level (a rule 3 degrees off level is no long level run). The text rows (document.Page.rows) run
along it too.

Only long lines are counted: the detector fits a short word's quad around a compact blob, which
can come out tilted by 10 degrees on a perfectly level page.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

import cv2
import numpy as np

Quad = tuple[float, ...]  # x0, y0, ..., x3, y3: clockwise from the text's top-left corner

LONG_LINE = 5.0  # a line at least this many of its heights long gives the page's direction...
MIN_LONG_LINES = 3  # ...and this many such lines are needed, else the page is taken as level
STEEP = 30.0  # degrees off the page's reading direction: vertical text and the like, not counted


def direction(quad: Quad) -> float:
    """The angle a quad reads along, in degrees clockwise from left-to-right (y points down)."""
    return math.degrees(math.atan2(quad[3] - quad[1], quad[2] - quad[0]))


def text_skew(quads: Iterable[Quad], upright: float = 0.0) -> float:
    """Degrees the page's text runs clockwise of `upright`, the direction upright text reads along
    (0 unless the quads are in the frame of a page shown turned): the median over its long lines."""
    angles = []
    for quad in quads:
        length = math.dist(quad[0:2], quad[2:4])
        height = math.dist(quad[0:2], quad[6:8])
        off = difference(direction(quad), upright)
        if height > 0 and length >= LONG_LINE * height and abs(off) <= STEEP:
            angles.append(off)
    return statistics.median(angles) if len(angles) >= MIN_LONG_LINES else 0.0


def turned(quad: Quad, degrees: float, centre: tuple[float, float]) -> Quad:
    """The quad turned clockwise by `degrees` about `centre`."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    cx, cy = centre
    out: list[float] = []
    for x, y in zip(quad[0::2], quad[1::2], strict=True):
        out += [cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos]
    return tuple(out)


def turned_image(image: np.ndarray, degrees: float, fill: int) -> np.ndarray:
    """The image turned clockwise by `degrees` about its centre, as `turned` turns quads, in a frame
    of the same size (corners turned out are lost, those turned in are `fill`). Nearest pixel: a thin
    grey rule keeps its grey rather than being blended with the paper (and it is 1.5-3x faster)."""
    height, width = image.shape[:2]
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    cx, cy = width / 2, height / 2
    matrix = np.array([[cos, -sin, cx - cx * cos + cy * sin], [sin, cos, cy - cx * sin - cy * cos]])
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=fill)


def difference(angle: float, reference: float) -> float:
    """Degrees `angle` lies clockwise of `reference`, in [-180, 180)."""
    return (angle - reference + 180.0) % 360.0 - 180.0
