"""Ink and background in a line crop: which columns hold ink, and the blank runs between them."""

from __future__ import annotations

import bisect

import cv2
import numpy as np


def ink_pixels(crop: np.ndarray) -> np.ndarray:
    """Which pixels of a line crop are ink (far from the background, dark or light text)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    counts = np.bincount(grey.ravel(), minlength=256)
    background = int(np.searchsorted(np.cumsum(counts), grey.size / 2))  # the median grey
    distance = cv2.absdiff(grey, np.full_like(grey, background))
    contrast = max(30, int(0.4 * int(distance.max())))
    return distance > contrast


def ink_contrast(crop: np.ndarray) -> float:
    """How far a line crop's ink stands out from its background: from the median grey to the
    1st or the 99th percentile, whichever is farther (dark text on light paper, or light on dark)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    low, middle, high = grey_percentiles(grey, (1, 50, 99))
    return float(max(middle - low, high - middle))


def grey_percentiles(grey: np.ndarray, percents: tuple[float, ...]) -> np.ndarray:
    """np.percentile of an 8-bit image (linear interpolation, the same values), from its histogram:
    0.03 ms for a line crop where np.percentile's sort took 0.3 ms (some 90 crops a page)."""
    cumulative = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    rank = np.asarray(percents) / 100 * (cumulative[-1] - 1)  # in the sorted pixels
    below = np.floor(rank)
    low = np.searchsorted(cumulative, below, side="right")  # the value at that rank
    high = np.searchsorted(cumulative, np.minimum(below + 1, cumulative[-1] - 1), side="right")
    return low + (high - low) * (rank - below)


def ink_columns(crop: np.ndarray) -> np.ndarray:
    """Which columns of a line crop hold ink."""
    return ink_pixels(crop).any(axis=0)


def pad_with_background(crop: np.ndarray, left: int, right: int) -> np.ndarray:
    """The crop with columns of its background colour (the median of its top and bottom rows,
    which lie outside the text) added at each end."""
    background = np.median(np.concatenate([crop[0], crop[-1]]), axis=0)
    return cv2.copyMakeBorder(crop, 0, 0, left, right, cv2.BORDER_CONSTANT, value=background.tolist())


class BlankRuns:
    """The runs of blank (inkless) columns of a line crop, to find the widest between two points.

    Words are split and snapped at blanks between every pair of neighbouring characters, so the
    runs are found once per line (a column-by-column search per pair took 13 ms a docbank page).
    """

    def __init__(self, ink: np.ndarray):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], ~ink.astype(bool), [0])).astype(np.int8)))
        self.starts: list[int] = edges[0::2].tolist()  # each run is columns start..end-1
        self.ends: list[int] = edges[1::2].tolist()

    def widest(self, left: float, right: float) -> tuple[float, int]:
        """The middle and length of the widest blank run of columns in [left, right) (the first
        of equal ones; the middle of the span and 0 if none)."""
        lo, hi = int(max(left, 0)), int(right)
        best, best_len = (left + right) / 2, 0
        for k in range(bisect.bisect_right(self.ends, lo), len(self.starts)):
            start, end = max(self.starts[k], lo), min(self.ends[k], hi)
            if start >= hi:
                break
            if end - start > best_len:
                best, best_len = (start + end) / 2, end - start
        return best, best_len


def horizontal_rules(
    page: np.ndarray, min_length: int, max_thickness: float
) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, y0, x1, y1) of the page's horizontal rules: runs of dark pixels (grey under 192,
    so that a table's thin grey border counts) at least `min_length` long, at most `max_thickness`
    thick. The dark mask is eroded by the run length and the outlines of what is left found (4 ms on
    a receipt photo, where labelling the opened mask's components took 18)."""
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) if page.ndim == 3 else page
    length = max(min_length, 2)
    runs = cv2.erode((grey < 192).astype(np.uint8), np.ones((1, length), np.uint8))  # anchor: its middle
    outlines, _ = cv2.findContours(runs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    before, after = length // 2, length - 1 - length // 2  # the run's pixels either side of the anchor
    return [
        (float(x - before), float(y), float(x + w + after), float(y + h))
        for x, y, w, h in map(cv2.boundingRect, outlines)
        if h <= max_thickness
    ]
