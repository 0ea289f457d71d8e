"""Reading order of detected text lines, from their boxes alone: columns, rows and blocks.

The page is cut recursively. In a region, a column gutter is a vertical strip that few boxes cross
(a dip in the profile of boxes crossing each x). The boxes that do cross it (titles, abstracts,
full-width captions, footers) cut the region into horizontal bands; each band is read left side first,
then right side, and each side is cut again (three columns, nested layouts). A gutter is only believed
when some band has a real text column on both sides: several lines, each side's lines wide. That
rejects the big gap between a receipt's labels and its right-aligned prices. A region without a gutter
is read row by row: boxes at the same height (pieces of one line, a key and its value) left to right,
and a vertical gap much larger than a line starts a new block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]

MIN_COLUMN_LINES = 3  # lines each side of a gutter needs, in at least one band
MIN_COLUMN_WIDTH = 6.0  # median line width of a text column, in line heights (prices are ~3)
ROW_OVERLAP = 0.5  # vertical overlap, as a fraction of the smaller height, that puts boxes in one row
BLOCK_GAP = 1.0  # blank space between rows, in line heights, that starts a new block
MAX_BINS = 1000  # resolution cap of the crossing profile


def reading_order(boxes: Sequence[Box], page_width: float, page_height: float) -> list[list[int]]:
    """Return blocks in reading order; each block is a list of indices into `boxes`, in reading order
    within the block. Flattened, the blocks list every index exactly once."""
    if len(boxes) == 0:
        return []
    raw = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    raw = np.nan_to_num(raw)
    # Tolerate flipped corners; boxes are kept as (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1.
    arr = np.column_stack(
        [
            np.minimum(raw[:, 0], raw[:, 2]),
            np.minimum(raw[:, 1], raw[:, 3]),
            np.maximum(raw[:, 0], raw[:, 2]),
            np.maximum(raw[:, 1], raw[:, 3]),
        ]
    )
    heights = arr[:, 3] - arr[:, 1]
    # Floor: degenerate boxes must not make every gap look huge.
    line_height = max(float(np.median(heights)), 1e-3 * max(page_width, page_height, 1.0), 1.0)
    return _segment(arr, np.arange(len(arr)), line_height)


def _segment(arr: np.ndarray, idx: np.ndarray, line_height: float) -> list[list[int]]:
    """Blocks of the region made of boxes `idx`, in reading order."""
    parts = _split_columns(arr, idx, line_height) if len(idx) >= 2 * MIN_COLUMN_LINES else None
    if parts is None:
        return _row_blocks(arr, idx, line_height)
    return [block for part in parts if len(part) for block in _segment(arr, part, line_height)]


@dataclass
class _Gutter:
    score: float
    parts: list[np.ndarray]


def _split_columns(arr: np.ndarray, idx: np.ndarray, line_height: float) -> list[np.ndarray] | None:
    """Cut the region at its best column gutter: index groups in reading order, or None."""
    x0, x1 = arr[idx, 0], arr[idx, 2]
    lo, hi = float(x0.min()), float(x1.max())
    step = max(line_height / 4, (hi - lo) / MAX_BINS)
    edges = np.arange(lo, hi + step, step)
    if len(edges) < 4:
        return None
    centers = (edges[:-1] + edges[1:]) / 2
    crossing = _crossing_profile(x0, x1, centers)
    # Boxes sorted top to bottom once; every candidate gutter reuses this order.
    by_y = idx[np.argsort((arr[idx, 1] + arr[idx, 3]) / 2, kind="stable")]
    best: _Gutter | None = None
    for start, stop in _dips(crossing):
        gutter = _try_gutter(arr, by_y, float(edges[start]), float(edges[stop]), line_height)
        if gutter is not None and (best is None or gutter.score > best.score):
            best = gutter
    return None if best is None else best.parts


def _crossing_profile(x0: np.ndarray, x1: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Number of boxes strictly crossing each bin center."""
    first = np.searchsorted(centers, x0, side="right")
    last = np.searchsorted(centers, x1, side="left")
    diff = np.zeros(len(centers) + 1, dtype=np.int64)
    np.add.at(diff, first, 1)
    np.add.at(diff, last, -1)
    return np.cumsum(diff)[:-1]


def _dips(profile: np.ndarray) -> list[tuple[int, int]]:
    """Bin ranges [start, stop) of local-minimum plateaus, lower than something on both sides."""
    change = np.flatnonzero(np.diff(profile)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(profile)]])
    values = profile[starts]
    dips = []
    for k in range(1, len(starts) - 1):
        if values[k] < values[k - 1] and values[k] < values[k + 1]:
            dips.append((int(starts[k]), int(stops[k])))
    return dips


def _try_gutter(
    arr: np.ndarray, by_y: np.ndarray, left_edge: float, right_edge: float, line_height: float
) -> _Gutter | None:
    """Bands and sides for a gutter strip; None unless some band holds a text column on each side."""
    x0, x1 = arr[by_y, 0], arr[by_y, 2]
    spanning = (x0 < left_edge) & (x1 > right_edge)
    right = ~spanning & ((x0 + x1) / 2 >= (left_edge + right_edge) / 2)
    # A band is a run of non-spanning boxes between spanning ones.
    band = np.cumsum(spanning)
    score = 0.0
    parts: list[np.ndarray] = []
    for b in np.unique(band):
        in_band = band == b
        span = by_y[in_band & spanning]
        left_ids = by_y[in_band & ~spanning & ~right]
        right_ids = by_y[in_band & right]
        if len(span):
            parts.append(span)
        parts.extend([left_ids, right_ids])
        if _is_column(arr, left_ids, line_height) and _is_column(arr, right_ids, line_height):
            score += len(left_ids) + len(right_ids)
    if score == 0:
        return None
    return _Gutter(score, parts)


def _is_column(arr: np.ndarray, ids: np.ndarray, line_height: float) -> bool:
    """Several lines of running text, as opposed to a stack of labels or prices."""
    if len(ids) < MIN_COLUMN_LINES:
        return False
    widths = arr[ids, 2] - arr[ids, 0]
    return float(np.median(widths)) >= MIN_COLUMN_WIDTH * line_height


def _row_blocks(arr: np.ndarray, idx: np.ndarray, line_height: float) -> list[list[int]]:
    """Single-column region: rows top to bottom, boxes of a row left to right, blocks at big gaps."""
    rows = _rows(arr, idx)
    blocks: list[list[int]] = []
    bottom = -np.inf
    for row in rows:
        top = float(arr[row, 1].min())
        if not blocks or top - bottom > BLOCK_GAP * line_height:
            blocks.append([])
        blocks[-1].extend(int(i) for i in row)
        bottom = max(bottom, float(arr[row, 3].max()))
    return blocks


def _rows(arr: np.ndarray, idx: np.ndarray) -> list[list[int]]:
    """Group boxes into visual rows: vertical overlap with the row's mean extent."""
    order = idx[np.argsort((arr[idx, 1] + arr[idx, 3]) / 2, kind="stable")]
    rows: list[list[int]] = []
    top = bottom = 0.0  # mean extent of the current row
    for i in order:
        y0, y1 = float(arr[i, 1]), float(arr[i, 3])
        overlap = min(y1, bottom) - max(y0, top)
        # `>=` with the max lets a zero-height box join a row it touches.
        if rows and overlap >= max(ROW_OVERLAP * min(y1 - y0, bottom - top), 0.0):
            row = rows[-1]
            row.append(int(i))
            top += (y0 - top) / len(row)
            bottom += (y1 - bottom) / len(row)
        else:
            rows.append([int(i)])
            top, bottom = y0, y1
    return [sorted(row, key=lambda i: (arr[i, 0], arr[i, 1])) for row in rows]
