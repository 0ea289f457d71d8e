"""Reading order of detected text lines, from their boxes alone: columns, rows and blocks.

The page is cut recursively. In a region, a candidate column gutter is a vertical strip that few
boxes cross (a dip in the count of boxes crossing each x). The boxes that do cross it (title,
abstract, full-width captions, footers) cut the region into horizontal bands; each band is read left
side first, then right side, and every part is cut again (three columns, nested layouts). A box
across the gutter with column text beside it on both sides (a caption set between the columns) does
not cut: it is read between the band's two sides. A gutter is
only believed when, in some band, both sides hold a text column: several wide lines, running beside
each other, and not merely a few rows cut in two. That rejects the gap between a receipt's labels
and its right-aligned prices. A region without a gutter is read row by row: boxes at the same height
(pieces of one line, a key and its value) left to right; a blank gap taller than a line starts a new
block.

A table's horizontal rules, where the page has them, cut bands too: two columns of wide cells ruled
row by row are a table, read row by row, and not two text columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Box = tuple[float, float, float, float]

MIN_COLUMN_LINES = 3  # wide lines each side of a gutter needs, in at least one band
MIN_COLUMN_WIDTH = 6.0  # a text column's wide lines, in line heights (prices are ~3)
MIN_TEXT_COLUMN_WIDTH = 10.0  # their median (12 to 29 on tess and DocBank pages; table cells 7 to 9)
LOCKSTEP_LINES = 6  # fewer lines than this each side, all row-aligned: a table or key/value pairs
ROW_OVERLAP = 0.5  # vertical overlap, as a fraction of the smaller height, that makes one row
BLOCK_GAP = 1.0  # blank space between rows, in line heights, that starts a new block
COLUMN_LINE_SHARE = 0.5  # a band whose lines are all narrower than this share of its columns' holds none
HEADING_GAP = 0.5  # blank space above a heading, in line heights (lines of a paragraph: ~0.2)
MAX_BINS = 1000  # cap on the crossing profile's resolution (bins are a quarter line height)


def reading_order(
    boxes: Sequence[Box], page_width: float, page_height: float, rules: Sequence[Box] = ()
) -> list[list[int]]:
    """Return blocks in reading order; each block is a list of indices into `boxes`, in reading order
    within the block. Flattened, the blocks list every index exactly once. `rules` are the page's
    horizontal rules (see ink.horizontal_rules): those between rows of cells cut column bands."""
    if len(boxes) == 0:
        return []
    arr = _normalised(boxes)
    # The floor keeps degenerate boxes (points, rules) from making every gap look huge.
    floor = max(1.0, 1e-3 * max(page_width, page_height))
    line_height = max(float(np.median(arr[:, 3] - arr[:, 1])), floor)
    table_rules = _table_rules(arr, _normalised(rules), line_height) if len(rules) else np.empty((0, 4))
    return _segment(
        np.vstack([arr, table_rules]), np.arange(len(arr) + len(table_rules)), line_height, len(arr)
    )


def _normalised(boxes: Sequence[Box]) -> np.ndarray:
    """The boxes as an n x 4 array, corners flipped where needed so that x0 <= x1 and y0 <= y1."""
    raw = np.nan_to_num(np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
    return np.column_stack([np.minimum(raw[:, :2], raw[:, 2:]), np.maximum(raw[:, :2], raw[:, 2:])])


def _table_rules(arr: np.ndarray, rules: np.ndarray, line_height: float) -> np.ndarray:
    """The rules that separate rows of a table: within a line height above or below, a rule runs
    under (or over) two boxes side by side on one row. A rule under a heading, a fraction bar, or a
    picture's edge has no such row and does not count."""
    keep = []
    for rule in rules:
        near = np.flatnonzero(
            (arr[:, 0] < rule[2])
            & (arr[:, 2] > rule[0])
            & (arr[:, 1] < rule[3] + line_height)
            & (arr[:, 3] > rule[1] - line_height)
            & ((arr[:, 3] <= rule[1] + line_height / 4) | (arr[:, 1] >= rule[3] - line_height / 4))
        )
        keep.append(any(_same_row_as_any(arr, int(i), near[arr[near, 0] >= arr[i, 2]]) for i in near))
    return rules[np.array(keep, dtype=bool)]


def _segment(arr: np.ndarray, idx: np.ndarray, line_height: float, lines: int) -> list[list[int]]:
    """Blocks of the region made of the boxes `idx`, in reading order. Boxes from `lines` on are
    rules: they cut the region, and are in no block."""
    parts = _split_columns(arr, idx, line_height) if len(idx) >= 2 * MIN_COLUMN_LINES else None
    if parts is None or len(parts) == 1:  # one part: no progress, stop cutting
        return _row_blocks(arr, idx[idx < lines], line_height)
    return [block for part in parts for block in _segment(arr, part, line_height, lines)]


def _split_columns(arr: np.ndarray, idx: np.ndarray, line_height: float) -> list[np.ndarray] | None:
    """Cut the region at its best column gutter into parts in reading order; None without one."""
    x0, x1 = arr[idx, 0], arr[idx, 2]
    lo, hi = float(x0.min()), float(x1.max())
    step = max(line_height / 4, (hi - lo) / MAX_BINS)
    edges = np.arange(lo, hi + step, step)
    if len(edges) < 4:
        return None
    crossing = _crossing_profile(x0, x1, (edges[:-1] + edges[1:]) / 2)
    by_y = _top_down(arr, idx)  # every candidate reuses this order
    best, best_score = None, 0
    for start, stop in _dips(crossing):
        strip = float(edges[start]), float(edges[stop])
        score = _gutter_score(arr, by_y, strip, line_height)
        if score > best_score:
            best, best_score = strip, score
    return None if best is None else _cut(arr, by_y, best, line_height)


def _crossing_profile(x0: np.ndarray, x1: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Number of boxes strictly crossing each bin center."""
    diff = np.zeros(len(centers) + 1, dtype=np.int64)
    np.add.at(diff, np.searchsorted(centers, x0, side="right"), 1)
    np.add.at(diff, np.searchsorted(centers, x1, side="left"), -1)
    return np.cumsum(diff)[:-1]


def _dips(profile: np.ndarray) -> list[tuple[int, int]]:
    """Bin ranges [start, stop) of the plateaus lower than both neighbouring plateaus."""
    change = np.flatnonzero(np.diff(profile)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(profile)]])
    values = profile[starts]
    low = (values[1:-1] < values[:-2]) & (values[1:-1] < values[2:])
    return [(int(starts[k + 1]), int(stops[k + 1])) for k in np.flatnonzero(low)]


def _sides(arr: np.ndarray, by_y: np.ndarray, strip: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Masks over `by_y`: boxes crossing the whole strip, and boxes right of it (the rest is left)."""
    x0, x1 = arr[by_y, 0], arr[by_y, 2]
    spanning = (x0 < strip[0]) & (x1 > strip[1])
    right = ~spanning & ((x0 + x1) / 2 >= (strip[0] + strip[1]) / 2)
    return spanning, right


def _gutter_score(arr: np.ndarray, by_y: np.ndarray, strip: tuple[float, float], line_height: float) -> int:
    """Lines in the bands that prove the gutter (0: not a gutter)."""
    spanning, right = _sides(arr, by_y, strip)
    band, proving = _proving_bands(arr, by_y, spanning, right, line_height)
    return int(np.count_nonzero(proving[band] & ~spanning))


def _proving_bands(
    arr: np.ndarray, by_y: np.ndarray, spanning: np.ndarray, right: np.ndarray, line_height: float
) -> tuple[np.ndarray, np.ndarray]:
    """The band of each box of `by_y` (spanning boxes cut the region into bands), and for each band
    whether it proves the gutter: both its sides hold a text column (see _proves_gutter)."""
    band = np.cumsum(spanning)
    wide = _wide(arr, by_y, line_height)
    left = ~spanning & ~right
    count = band[-1] + 1
    wide_left = np.bincount(band[wide & left], minlength=count)
    wide_right = np.bincount(band[wide & right], minlength=count)
    proving = np.zeros(count, dtype=bool)
    # Cheap count first: only the few bands with enough wide lines each side get the full test.
    for b in np.flatnonzero((wide_left >= MIN_COLUMN_LINES) & (wide_right >= MIN_COLUMN_LINES)):
        in_band = band == b
        proving[b] = _proves_gutter(arr, by_y[in_band & left], by_y[in_band & right], line_height)
    return band, proving


def _proves_gutter(arr: np.ndarray, left: np.ndarray, right: np.ndarray, line_height: float) -> bool:
    """Both sides hold a text column, beside each other, and not just a few rows cut in two.

    Wide lines are counted rather than a median width taken: a column also holds small pieces
    (formulas, a line the detector cut up). Typeset columns share a baseline grid too, so rows aligned
    across the gutter only count against short columns.
    """
    wide_left = left[_wide(arr, left, line_height)]
    wide_right = right[_wide(arr, right, line_height)]
    side_by_side = min(_level_with(arr, wide_left, wide_right), _level_with(arr, wide_right, wide_left))
    if side_by_side < MIN_COLUMN_LINES:
        return False
    if (
        min(_median_width(arr, wide_left), _median_width(arr, wide_right))
        < MIN_TEXT_COLUMN_WIDTH * line_height
    ):
        return False  # the cells of a table, not running text
    if min(len(left), len(right)) >= LOCKSTEP_LINES:
        return True
    few, many = (left, right) if len(left) <= len(right) else (right, left)
    return not all(_same_row_as_any(arr, i, many) for i in few)


def _median_width(arr: np.ndarray, ids: np.ndarray) -> float:
    return float(np.median(arr[ids, 2] - arr[ids, 0]))


def _wide(arr: np.ndarray, ids: np.ndarray, line_height: float) -> np.ndarray:
    """Mask of the boxes `ids` wide enough to be a line of running text."""
    return arr[ids, 2] - arr[ids, 0] >= MIN_COLUMN_WIDTH * line_height


def _level_with(arr: np.ndarray, ids: np.ndarray, other: np.ndarray) -> int:
    """How many boxes `ids` have their middle within the vertical extent of the boxes `other`."""
    if len(ids) == 0 or len(other) == 0:
        return 0
    middle = (arr[ids, 1] + arr[ids, 3]) / 2
    return int(np.count_nonzero((middle >= arr[other, 1].min()) & (middle <= arr[other, 3].max())))


def _same_row_as_any(arr: np.ndarray, i: int, others: np.ndarray) -> bool:
    """Box i overlaps one of the boxes `others` by more than ROW_OVERLAP of the smaller height."""
    overlap = np.minimum(arr[i, 3], arr[others, 3]) - np.maximum(arr[i, 1], arr[others, 1])
    smaller = np.minimum(arr[i, 3] - arr[i, 1], arr[others, 3] - arr[others, 1])
    return bool(np.any(overlap > ROW_OVERLAP * smaller))


def _cut(
    arr: np.ndarray, by_y: np.ndarray, strip: tuple[float, float], line_height: float
) -> list[np.ndarray]:
    """Parts in reading order: runs of spanning boxes, and each band's left then right side."""
    spanning, right = _sides(arr, by_y, strip)
    middle = _between_columns(arr, by_y, spanning, right, line_height)
    spanning &= ~middle
    spanning |= _alone_in_gutter(arr, by_y, spanning, right, line_height)
    spanning |= _headings_below_columns(arr, by_y, spanning, right, line_height)
    spanning |= _level_with_spanning(arr, by_y, spanning, line_height)
    spanning |= _bands_without_columns(arr, by_y, spanning, right, line_height)
    parts: list[list[int]] = []
    run: list[int] = []
    sides: tuple[list[int], list[int], list[int]] = ([], [], [])  # left, middle, right
    for i, is_spanning, is_middle, is_right in zip(by_y.tolist(), spanning, middle, right, strict=True):
        if is_spanning:
            parts += sides
            sides = ([], [], [])
            run.append(i)
        else:
            parts.append(run)
            run = []
            sides[1 if is_middle else 2 if is_right else 0].append(i)
    parts += [run, *sides]
    return [np.array(part, dtype=np.int64) for part in parts if part]


def _level_with_spanning(
    arr: np.ndarray, by_y: np.ndarray, spanning: np.ndarray, line_height: float
) -> np.ndarray:
    """Mask of the short boxes on the same row as a spanning box, of about its height: the other cells
    of a table row that crosses the gutter, a page number beside a running head. Left in a band, they
    would start the columns below. A column's line stays (a skewed scan's lines can cross the gutter)."""
    level = np.zeros(len(by_y), dtype=bool)
    rows = by_y[spanning]
    if len(rows) == 0:
        return level
    short = arr[by_y, 2] - arr[by_y, 0] < MIN_TEXT_COLUMN_WIDTH * line_height
    for k in np.flatnonzero(~spanning & short):
        i = int(by_y[k])
        overlap = np.minimum(arr[i, 3], arr[rows, 3]) - np.maximum(arr[i, 1], arr[rows, 1])
        larger = np.maximum(arr[i, 3] - arr[i, 1], arr[rows, 3] - arr[rows, 1])
        level[k] = bool(np.any(overlap > ROW_OVERLAP * larger))
    return level


def _bands_without_columns(
    arr: np.ndarray, by_y: np.ndarray, spanning: np.ndarray, right: np.ndarray, line_height: float
) -> np.ndarray:
    """Mask of the bands that hold no column text: neither do they prove the gutter, nor does either
    side have a line half as wide as that side's column lines in the bands that do. A table or a
    figure across the page is read by rows, as a whole, not left half then right half."""
    band, proving = _proving_bands(arr, by_y, spanning, right, line_height)
    if not proving.any():
        return np.zeros(len(by_y), dtype=bool)
    width = arr[by_y, 2] - arr[by_y, 0]
    sides = (~spanning & ~right, right)
    column_width = [width[proving[band] & side].max(initial=0.0) for side in sides]
    without = np.zeros(len(by_y), dtype=bool)
    for b in np.flatnonzero(~proving):
        in_band = (band == b) & ~spanning
        narrow = all(
            width[in_band & side].max(initial=0.0) < COLUMN_LINE_SHARE * line_width
            for side, line_width in zip(sides, column_width, strict=True)
        )
        without |= in_band & narrow
    return without


def _between_columns(
    arr: np.ndarray, by_y: np.ndarray, spanning: np.ndarray, right: np.ndarray, line_height: float
) -> np.ndarray:
    """Mask of the boxes across the gutter with column text beside them on both sides: a caption or
    pull quote set between the columns. They are read as a part of their own, between the band's
    left and right sides; as spanning boxes they would cut both columns into bands line by line.
    Only lines of running text count as neighbours, so a table row across the gutter stays a row."""
    wide = _wide(arr, by_y, line_height)
    left_lines, right_lines = by_y[wide & ~spanning & ~right], by_y[wide & right]
    middle = np.zeros(len(by_y), dtype=bool)
    for k in np.flatnonzero(spanning):
        i = int(by_y[k])
        middle[k] = _beside(arr, i, left_lines, on_left=True) and _beside(arr, i, right_lines, on_left=False)
    return middle


def _beside(arr: np.ndarray, i: int, others: np.ndarray, on_left: bool) -> bool:
    """One of the boxes `others` overlaps box i vertically and lies wholly on its left (or right)."""
    level = (arr[others, 1] < arr[i, 3]) & (arr[others, 3] > arr[i, 1])
    clear = arr[others, 2] <= arr[i, 0] if on_left else arr[others, 0] >= arr[i, 2]
    return bool(np.any(level & clear))


def _alone_in_gutter(
    arr: np.ndarray, by_y: np.ndarray, spanning: np.ndarray, right: np.ndarray, line_height: float
) -> np.ndarray:
    """Mask of boxes in the blank between the columns with no line beside them (a centered page
    number): full-width elements too. A speck in the gutter beside column text must not cut a band."""
    wide = _wide(arr, by_y, line_height)
    left_wide, right_wide = wide & ~spanning & ~right, wide & right
    alone = np.zeros(len(by_y), dtype=bool)
    if not (left_wide.any() and right_wide.any()):
        return alone
    gap_start = np.percentile(arr[by_y[left_wide], 2], 90)
    gap_end = np.percentile(arr[by_y[right_wide], 0], 10)
    middle = (arr[by_y, 0] + arr[by_y, 2]) / 2
    for k in np.flatnonzero(~spanning & (middle > gap_start) & (middle < gap_end)):
        others = by_y[~spanning & (by_y != by_y[k])]
        alone[k] = not _same_row_as_any(arr, int(by_y[k]), others)
    return alone


def _headings_below_columns(
    arr: np.ndarray, by_y: np.ndarray, spanning: np.ndarray, right: np.ndarray, line_height: float
) -> np.ndarray:
    """Mask of the headings of full-width text that sit under one column after both have ended:
    a band's lowest box on one side, below everything on the other, under half as wide as its
    side's widest line, set off from the text above it and right above the next full-width box.
    ("Additional Features" over a poster's full-width list was read before the right column.)"""
    heading = np.zeros(len(by_y), dtype=bool)
    band = np.cumsum(spanning)
    width = arr[by_y, 2] - arr[by_y, 0]
    for b in range(int(band[-1])):  # every band followed by a spanning box
        in_band = (band == b) & ~spanning
        if not in_band.any():
            continue
        below = arr[by_y[np.flatnonzero(band == b + 1)[0]], 1]  # top of the next spanning box
        for side in (in_band & ~right, in_band & right):
            other = in_band & ~side
            if not side.any() or not other.any():
                continue
            last = np.flatnonzero(side)[np.argmax(arr[by_y[side], 1])]
            rest = side.copy()
            rest[last] = False
            top, bottom = arr[by_y[last], 1], arr[by_y[last], 3]
            other_bottom = arr[by_y[other], 3].max()
            above = max(other_bottom, arr[by_y[rest], 3].max() if rest.any() else -np.inf)
            if (
                width[last] < 0.5 * width[side].max()
                and top > other_bottom
                and top - above >= HEADING_GAP * line_height
                and below - bottom < BLOCK_GAP * line_height
            ):
                heading[last] = True
    return heading


def _row_blocks(arr: np.ndarray, idx: np.ndarray, line_height: float) -> list[list[int]]:
    """Single-column region: rows top to bottom, boxes of a row left to right, blocks at big gaps."""
    blocks: list[list[int]] = []
    bottom = -np.inf
    for row in _rows(arr, idx):
        top = float(arr[row, 1].min())
        if top - bottom > BLOCK_GAP * line_height:
            blocks.append([])
        blocks[-1].extend(row)
        bottom = max(bottom, float(arr[row, 3].max()))
    return blocks


def _rows(arr: np.ndarray, idx: np.ndarray) -> list[list[int]]:
    """Group boxes into visual rows: side by side, level with the row's mean vertical extent."""
    rows: list[list[int]] = []
    top = bottom = 0.0  # mean extent of the current row
    for i in _top_down(arr, idx).tolist():
        y0, y1 = float(arr[i, 1]), float(arr[i, 3])
        if rows and _level(y0, y1, top, bottom) and _side_by_side(arr, i, rows[-1]):
            row = rows[-1]
            row.append(i)
            top += (y0 - top) / len(row)
            bottom += (y1 - bottom) / len(row)
        else:
            rows.append([i])
            top, bottom = y0, y1
    return [sorted(row, key=lambda i: tuple(arr[i])) for row in rows]


def _level(y0: float, y1: float, top: float, bottom: float) -> bool:
    """Vertical overlap of at least ROW_OVERLAP of the smaller height. `>=` and the 0 let a
    zero-height box (a dot, a rule) join a row it touches."""
    return min(y1, bottom) - max(y0, top) >= max(ROW_OVERLAP * min(y1 - y0, bottom - top), 0.0)


def _side_by_side(arr: np.ndarray, i: int, row: list[int]) -> bool:
    """Box i is left or right of every box of the row, not above or below one: on a skewed page the
    boxes of consecutive lines grow tall enough to overlap vertically, but they are stacked."""
    overlap = np.minimum(arr[i, 2], arr[row, 2]) - np.maximum(arr[i, 0], arr[row, 0])
    narrower = np.minimum(arr[i, 2] - arr[i, 0], arr[row, 2] - arr[row, 0])
    return bool(np.all(overlap <= ROW_OVERLAP * narrower))


def _top_down(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """`idx` sorted by vertical middle, then left edge, so that the input order never matters."""
    b = arr[idx]
    return idx[np.lexsort((b[:, 3], b[:, 2], b[:, 0], (b[:, 1] + b[:, 3]) / 2))]
