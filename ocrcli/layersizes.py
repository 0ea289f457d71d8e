"""The font size each line of the text layer is drawn in, chosen for how poppler (pdftotext, Evince,
Okular) groups words into blocks: it takes words and lines into a block only at about the block's
own size (see readerrules), so sizes decide which lines poppler reads as one block.

- Lines of about the same height (within SAME_SIZE) share one size, so body text whose detected
  line heights vary stays in one poppler block, while a caption or heading of another size is
  kept apart from it, as poppler does with born-digital text; with one size for the whole page, a
  caption between two columns joined them into one block read line across line. The size is
  LINE_SIZE times the lines' height: poppler takes a line into the block above it only within 1.5
  font sizes of the block's last baseline, and a detected line is less high than its type's size,
  so a heading set a little apart above its column became a block of its own, which poppler's
  reading order put before the column beside (docbank 10's right-hand heading was read between
  the left column's lines).
- A block that overlaps the box of a larger text column (a caption beside a picture the columns
  wrap around), or stands beside it closer than poppler keeps columns apart, is drawn at
  INSET_SIZE times the column's size (see inset_sizes). poppler takes into a block any word on its
  lines that overlaps it horizontally (or comes within 0.7 em of it) at a size within 60 % of its own: on tess
  8087 the caption joined the left column's block and widened it into the right column, whose
  lines were then taken in one by one, and the page read line across line; so were rotated_skew's
  two columns, 3 pt apart. Under 0.4 times the size, neither block takes in the other's words. Of
  two such columns as long as each other, the one read second is drawn small. The small block's
  words are drawn wider into the gaps between them (see wordgaps.closer_words): a gap of 0.3 em at
  its own size is 0.8 em at the small one, where poppler breaks a line into pieces that it reads
  out of order. They are drawn in the font whose character boxes are 3 ems tall, so that the box
  poppler gives each word (and Evince highlights) is about as tall as the line, not a third.
- A block with rows of lines side by side (a receipt's items and prices) is drawn in one size,
  TABLE_SIZE times its median line height. poppler grows a block only down to lines of the same
  size within 1.5 em and overlapping it, and takes in words beside it only within 1 em: at the
  text's own size a receipt fell apart, at its wider gaps between rows and between item and
  price, into blocks of items and blocks of prices, read one after the other. In the larger size
  the block holds together and is read row by row (the lines of one row are also drawn closer to
  one level, see layerplacement.row_shifts). A grid of at least three columns standing further
  apart than poppler bridges even at that size is instead drawn a row at a time in sizes
  ROW_SIZE_STEP apart (see font_sizes): each cell is then a block of its own, and poppler's table
  finder reads them row by row.
"""

from __future__ import annotations

import itertools
import statistics

from ocrcli.document import Line, Page, Quad
from ocrcli.layergeometry import (
    Point,
    distance_along,
    frame_centre,
    level_of,
    nearest_axis,
    quad_corners,
    quad_frame,
    tilt_of,
)
from ocrcli.layerplacement import MAX_LEVEL_TILT
from ocrcli.layout import MIN_COLUMN_WIDTH
from ocrcli.readerrules import POPPLER_COLUMN_SPACE, POPPLER_OVERLAP_SIZES, POPPLER_SIDE_SPACE

SAME_SIZE = 0.25  # lines whose heights differ by at most this share get one font size
BLOCK_SIZE_RANGE = (0.6, 1.7)  # heights, as shares of a text block's median, drawn in its size
# Font size / line height (see the module's docstring), measured with benchmarks/check_pdfs.py. At
# 1.0, docbank 10's right-hand heading was read before the left column once the detector's boxes
# came out a little lower (a detector change tried 2026-12-04; passing from 1.03 with it). tess
# 8071, whose columns stand 9 to 12 pt apart, failed at 1.07, 1.08 and from 1.12 (at 0.7 font
# sizes poppler takes in words beside a block: its columns joined line across line). 1.05 passed
# as many outputs as 1.0 did (46 of 53).
LINE_SIZE = 1.05
# A block overlapping a column's box, or beside it, is drawn at this share of the column's size:
# just under 1 - POPPLER_OVERLAP_SIZES, where poppler no longer takes either's words into the other.
INSET_SIZE = 0.38
COLUMN_LINES = 6  # a text column has this many lines, most of them MIN_COLUMN_WIDTH heights wide
TABLE_SIZE = 1.5  # font size / line height in a block of side-by-side rows (see the module's docstring)
# Font size from one row of a wide table to the next (see font_sizes): poppler grows a block down
# only to lines whose size is within 5 % of its own.
ROW_SIZE_STEP = 1.07
# Rows and cells per row of such a table. poppler's table finder wants the cells of two neighbouring
# columns aligned (left, right or centred) in both of two rows: on receipts, whose items and
# prices are ragged on one side, it found none, and sroie 196's totals were read as all labels,
# then all prices; ccitt-endofline-true's header of 5 cells over 2 was read column-wise.
GRID_MIN = 3

Extent = tuple[Point, float, float, float, float]  # a block's text axis, its span along and across


def font_sizes(
    page: Page, rows: list[list[Line]], points_per_px: float, height_pt: float
) -> dict[int, float]:
    """A font size per line (keyed by id) from the line's height, lines of about the same height
    sharing one size (see the module's docstring): the median height of the lines takes every line
    within SAME_SIZE of it, drawn LINE_SIZE times that height, then the median of the rest does the
    same, until all have a size. Then each block of side-by-side rows (`rows` is page.rows()) gets
    one size of its own, TABLE_SIZE times its median height (a grid too wide for that, LINE_SIZE
    times it, alternately ROW_SIZE_STEP larger a row), and in every other block the lines
    within BLOCK_SIZE_RANGE of its median line's height take that line's size: a line with a
    formula in it, a third taller, was drawn in a size of its own, and poppler broke the column
    there into two blocks (docbank 171 and 219 were then read across their columns)."""
    heights = {
        id(line): frame[3]
        for line in page.lines
        if (frame := quad_frame(line.quad, points_per_px, height_pt))
    }
    sizes: dict[int, float] = {}
    while len(sizes) < len(heights):
        left = {key: h for key, h in heights.items() if key not in sizes}
        size = statistics.median_high(left.values())
        drawn = round(LINE_SIZE * size, 2)
        sizes.update({key: drawn for key, h in left.items() if abs(h / size - 1) <= SAME_SIZE})
    for _, block in itertools.groupby(rows, key=lambda row: row[0].block):
        block_rows = list(block)
        block_lines = [line for row in block_rows for line in row if id(line) in heights]
        keys = [id(line) for line in block_lines]
        if not keys:
            continue
        if all(len(row) == 1 for row in block_rows):
            # A text block in one size, its median line's: poppler starts a new block at a line
            # whose size differs by 5 % (see the module's docstring).
            median = statistics.median_high(heights[key] for key in keys)
            size = sizes[next(key for key in keys if heights[key] == median)]
            low, high = BLOCK_SIZE_RANGE
            sizes.update({key: size for key in keys if low <= heights[key] / median <= high})
            continue
        median = statistics.median(heights[key] for key in keys)
        size = round(TABLE_SIZE * median, 2)
        cells = {len(row) for row in block_rows}
        if (
            len(block_rows) < GRID_MIN or len(cells) > 1 or min(cells) < GRID_MIN
            or _widest_column_gap(block_lines, points_per_px, height_pt) <= POPPLER_COLUMN_SPACE * size
        ):  # fmt: skip
            sizes.update(dict.fromkeys(keys, size))
            continue
        # A grid whose columns stand too far apart for poppler to hold a row together, even at
        # TABLE_SIZE: each row is drawn ROW_SIZE_STEP larger or smaller than the next, so that
        # each cell stays a block of its own, which poppler's table finder then reads row by row
        # (docbank 102's table was read column after column).
        for index, row in enumerate(block_rows):
            row_size = round(LINE_SIZE * median * ROW_SIZE_STEP ** (index % 2), 2)
            sizes.update({id(line): row_size for line in row if id(line) in heights})
    return sizes


def _widest_column_gap(lines: list[Line], points_per_px: float, height_pt: float) -> float:
    """The widest stretch along the text axis (of the first line) between the lines' ends that
    none of the lines covers: the gap between a table's columns where no row bridges it."""
    frame = quad_frame(lines[0].quad, points_per_px, height_pt)
    if frame is None:
        return 0.0
    axis = nearest_axis(*frame[1])
    spans = sorted(_reach_along([line.quad], axis, points_per_px, height_pt) for line in lines)
    widest, reach = 0.0, spans[0][1]
    for start, end in spans[1:]:
        widest, reach = max(widest, start - reach), max(reach, end)
    return widest


def inset_sizes(
    page: Page, sizes: dict[int, float], points_per_px: float, height_pt: float
) -> dict[int, float]:
    """`sizes`, but with each block that overlaps the box of a larger text column (a caption beside
    a picture the columns wrap around), or is a text column standing beside it within
    POPPLER_SIDE_SPACE font sizes (closer than poppler keeps columns apart; an equation's number
    beside its column is left alone), drawn at INSET_SIZE times the column's smallest size, if its
    own size would let poppler merge the two (see the module's docstring); of two columns as long,
    the one read first counts as the larger (tess 8071 and 8087 turned 2 degrees: their leaning
    columns, 36 and 53 lines each, came 0.2 font sizes apart or into each other's boxes, and
    neither was drawn smaller). Such a block then comes out of pdftotext as a paragraph per line,
    apart from the column. A block that is itself shrunk does not count as a column for another,
    and sizes are read from `sizes` alone, so the result does not depend on the order the blocks
    are visited in. The inset size overrides a table's."""
    blocks: dict[int, list[Line]] = {}
    for line in page.lines:
        if id(line) in sizes:
            blocks.setdefault(line.block, []).append(line)
    extents = {key: _block_extent(lines, points_per_px, height_pt) for key, lines in blocks.items()}
    columns = [key for key, lines in blocks.items() if _text_column(lines)]

    def apart(key: int, column: int) -> float:  # how far apart poppler keeps two text columns
        if key not in columns:
            return 0.0
        return POPPLER_SIDE_SPACE * max(
            statistics.median(sizes[id(line)] for line in blocks[b]) for b in (key, column)
        )

    around = {
        key: [
            column
            for column in columns
            if (len(blocks[column]), -column) > (len(lines), -key)  # of two as long, the first
            and _overlap(extents[key], extents[column], apart(key, column))
        ]
        for key, lines in blocks.items()
    }
    drawn = dict(sizes)
    for key, lines in blocks.items():
        column_lines = [line for column in around[key] if not around[column] for line in blocks[column]]
        if not column_lines:
            continue
        column_size = min(sizes[id(line)] for line in column_lines)
        ratio = statistics.median(sizes[id(line)] for line in lines) / column_size
        if 1 - POPPLER_OVERLAP_SIZES < ratio < 1 / (1 - POPPLER_OVERLAP_SIZES):
            drawn.update({id(line): round(INSET_SIZE * column_size, 2) for line in lines})
    return drawn


def _block_extent(lines: list[Line], points_per_px: float, height_pt: float) -> Extent:
    """The box of a block's lines (those with a frame) in the frame of their first one's text
    axis, as they are drawn: along the axis, their words' extent (a line's box reaches a few
    points beyond its words); across it, each line skewed by up to 10 degrees spans its own height
    about its middle, where layerplacement.line_words levels it. Measured by its corners, a skewed
    column's box reached into the block above it (rotated_skew)."""
    frames = [(line, frame) for line in lines if (frame := quad_frame(line.quad, points_per_px, height_pt))]
    if not frames:
        return (0.0, 0.0), 0.0, 0.0, 0.0, 0.0  # overlaps nothing
    axis = nearest_axis(*frames[0][1][1])
    along, across = [], []
    for line, (middle_left, (dx, dy), width, height) in frames:
        corners = quad_corners(line.quad, points_per_px, height_pt)
        quads = [word.quad for word in line.words] or [line.quad]
        along += _reach_along(quads, axis, points_per_px, height_pt)
        if tilt_of((dx, dy), axis) > MAX_LEVEL_TILT:
            across += [level_of(corner, axis) for corner in corners]
            continue
        middle = level_of(frame_centre(middle_left, (dx, dy), width), axis)
        across += [middle - height / 2, middle + height / 2]
    return axis, min(along), max(along), min(across), max(across)


def _reach_along(
    quads: list[Quad], axis: Point, points_per_px: float, height_pt: float
) -> tuple[float, float]:
    """Where the quads' corners begin and end along a text axis, in displayed-page points."""
    along = [
        distance_along((0.0, 0.0), c, axis)
        for quad in quads
        for c in quad_corners(quad, points_per_px, height_pt)
    ]
    return min(along), max(along)


def _overlap(a: Extent, b: Extent, apart: float = 0.0) -> bool:
    """Whether two blocks' boxes overlap, or stand side by side less than `apart` from each other
    along their axis (blocks along different axes never do)."""
    return a[0] == b[0] and min(a[2], b[2]) + apart > max(a[1], b[1]) and min(a[4], b[4]) > max(a[3], b[3])


def _text_column(lines: list[Line]) -> bool:
    """Enough lines, mostly wide ones: running text, not a chart's labels or a small table."""
    if len(lines) < COLUMN_LINES:
        return False
    # Width / height is the same in pixels as in points, so no page frame is needed here.
    shapes = [quad_frame(line.quad, 1.0, 0.0) for line in lines]
    return statistics.median(shape[2] / shape[3] if shape else 0.0 for shape in shapes) >= MIN_COLUMN_WIDTH
