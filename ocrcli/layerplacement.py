"""Where each row of the text layer is drawn: its words' frames, levelled and moved so that readers
which rebuild lines from positions (poppler, pdf.js) read the rows the sidecar has.

- Every line is drawn along the page axis (0, 90, 180 or 270 degrees) nearest its direction, each
  word centred on its quad: poppler ends a word wherever a glyph's baseline drifts 0.5 pt from the
  word's first glyph, so a long word drawn along a 3 degree skew came out in fragments
  ("(I nc lu si ve"), and a chart's slanted labels letter by letter. A skewed line's words are
  drawn on about one level (see line_words) so that poppler also keeps the line whole; where
  that moves a word further off its box than a one-em box allows, the line is drawn in the font
  with taller character boxes (pdffont's with_box), whose boxes still cover the words.
- The lines of one row (a receipt's item and price) are drawn closer to one level (each moved at
  most MAX_ROW_SHIFT_EM, see row_shifts): poppler orders a block's separate lines by their
  baselines, so on a receipt photographed tilted a price a little higher than its item was read
  before it.
- Within a block, a line more than 1.45 font sizes below the one before (a heading set apart
  from its paragraph) is drawn up to MAX_GAP_SHIFT_EM closer (see close_block_gaps): poppler
  starts a new block there, and where both columns of a page broke at the same heights, it took
  the four pieces for a table and read them row by row across the columns.
- A row that pdf.js would run into the row before is moved a little away from it (see
  apart_for_pdfjs), and a row is kept inside the page (see on_page).
"""

from __future__ import annotations

import math
import statistics

from ocrcli.document import Line
from ocrcli.layergeometry import (
    UPSIDE_DOWN,
    Frame,
    Point,
    clamp,
    distance_along,
    height_across,
    least_width,
    level_of,
    moved_frame,
    nearest_axis,
    normal_to,
    quad_frame,
    tilt_of,
    word_frame,
)
from ocrcli.pdffont import BOX_EMS
from ocrcli.readerrules import PDFJS_BACK, PDFJS_LINE_DROP, POPPLER_LINE_SPREAD

# Each word of a skewed line is drawn up to this share of its box's height closer to the line's
# middle level (see line_words): the taller of the box it was read in and the box it is drawn in.
# The geometry check lets a word move a third of that height.
MAX_LEVEL_SHIFT = 0.25
# Levelled lines' words end this close to their middle: poppler takes into a line words within 0.5
# em of its first word's level, so what a line keeps of its tilt brings its ends that much closer to
# the lines beside it. At 0.2, docbank 117 turned 2 degrees, whose lines lie 0.7 em apart (a table's
# size, see layersizes.TABLE_SIZE), had a line's last word read before it as a line of its own.
LEVEL_LEFT_EM = 0.1
MAX_LEVEL_TILT = 0.17  # sine of 10 degrees: steeper lines (a chart's slanted labels) stay as they lie
MAX_LEVEL_DRIFT_EM = 1.0  # rows drifting further stay as they lie (see row_shifts)
MAX_ROW_SHIFT_EM = 0.3  # see row_shifts; the geometry check lets a word move a third of an em
# A word levelled with its line and moved with its row ends at most this share of its box's height
# off (see line_words), in a taller box where need be.
MAX_TOTAL_SHIFT = 0.3
MAX_BLOCK_GAP = 1.45  # font sizes between baselines that poppler keeps in one block (1.5, less a margin)
MAX_GAP_SHIFT_EM = 0.2  # see close_block_gaps
PAGE_INSET_PT = 0.5  # how far inside the page every baseline is drawn (see on_page)
# A row that pdf.js would run into the row before (see apart_for_pdfjs) is drawn this much further
# off than PDFJS_LINE_DROP (positions are rounded to 0.1 pt)...
NEW_LINE_MARGIN_PT = 0.2
MAX_NEW_LINE_SHIFT_EM = 0.07  # ...moved at most this far for it (times its character box's ems)

# A line's words (text, frame), font size, em, and the height of its font's character box in ems
SizedWords = tuple[list[tuple[str, Frame]], float, float, int]
RowWords = list[tuple[str, Frame, float, int]]  # a row's words (text, frame, font size, box), in order


def line_words(
    line: Line, points_per_px: float, height_pt: float, size: float, min_box: int, shift: float = 0.0
) -> tuple[list[tuple[str, Frame]], int]:
    """The words of a line with the frames they are drawn in, along the page axis nearest the
    line's direction, in `size`, and the height of the character box of the font they are drawn
    in (pdffont.BOX_EMS). Each word is drawn through its quad's centre; on a line skewed by up to
    10 degrees, each is then moved towards the line's middle level, so that poppler's default mode
    reads the line whole. It builds a line from the leftmost word among baselines within 16 pt of
    the highest one left, and takes in only words within half an em of that word's baseline: a
    receipt line rising 15 pt to the right (sroie 100) was read right to left, a word per line,
    and rotated_skew's lines, rising 1.6-1.8 em across the page, were read in pieces, several
    lines' pieces interleaved (order 0.49). Then the whole line moves `shift` up (see row_shifts).

    A word moves at most MAX_LEVEL_SHIFT of its box's height towards the middle: the taller of
    the box it was read in (a skewed word's box is taller than its line) and the box of the font it
    is drawn in. The font is the one with the lowest box, from `min_box` up, that lets every word
    end within LEVEL_LEFT_EM of the middle and no word end more than MAX_TOTAL_SHIFT of its box
    off, or the tallest. rotated_skew's body lines are drawn level in boxes of 2 to 4 ems."""
    line_frame = quad_frame(line.quad, points_per_px, height_pt)
    if line_frame is None:
        return [], min_box
    axis = nearest_axis(*line_frame[1])
    tilt = tilt_of(line_frame[1], axis)
    placed = [
        (text, frame, height_across(word.quad, axis, points_per_px, height_pt))
        for word in line.words
        if (text := word.text.strip())
        and (frame := word_frame(word.quad, points_per_px, height_pt, size, axis, least_width(text, size)))
    ]
    levels = [level_of(origin, axis) for _, (origin, _, _), _ in placed]
    levelled = len(placed) >= 2 and tilt <= MAX_LEVEL_TILT
    middle = (min(levels) + max(levels)) / 2 if levelled else 0.0
    # An upside-down row is drawn on one baseline (see textlayer._upside_down_row): its words must end on
    # the middle, or flattening them there moves them further than their box allows.
    left = 0.0 if axis == UPSIDE_DOWN else LEVEL_LEFT_EM * size

    def room(height: float, box: int) -> float:
        return max(height, box * size)

    def move(level: float, height: float, box: int) -> float:
        return shift + (clamp(middle - level, MAX_LEVEL_SHIFT * room(height, box)) if levelled else 0.0)

    def fits(level: float, height: float, box: int) -> bool:
        near_middle = not levelled or abs(middle - level) - MAX_LEVEL_SHIFT * room(height, box) <= left
        return near_middle and abs(move(level, height, box)) <= MAX_TOTAL_SHIFT * room(height, box)

    box = next(
        (
            box
            for box in BOX_EMS
            if box >= min_box
            and all(fits(level, height, box) for (_, _, height), level in zip(placed, levels, strict=True))
        ),
        BOX_EMS[-1],
    )
    words = [
        (text, moved_frame(frame, normal_to(axis), move(level, height, box)))
        for (text, frame, height), level in zip(placed, levels, strict=True)
    ]
    return words, box


def row_shifts(lines: list[SizedWords]) -> list[float]:
    """How far to move each line of a row (a receipt's item and its price) up, towards the row's
    middle level, at most MAX_ROW_SHIFT_EM: poppler reads separate lines of a block by their
    baselines, so on a photo tilted up to the right a price a few pixels higher than its item was
    read first. Lines within that reach of the middle end on one level; those further off end that
    much closer (on sroie 100, whose "Total: 7.00 0.42" rises 13 px, 0.4 em, 0.2 em was enough for
    poppler to read the row as one line). Its "Item Qty. S/Price Amount Tax" rises 0.55 em, too far
    apart for poppler to see one line: it orders such lines by their baselines, so "Item", left
    0.14 em lower at a reach of 0.2 em, was read after "Tax"; at 0.3 em the row is level (measured
    on the sidecars of 108 tess, docbank and sroie pages: two more pass, sroie 436 and docbank 99,
    none fails newly). A row with a line more than MAX_LEVEL_DRIFT_EM from its middle, or of
    several sizes or directions, is left as it lies."""
    drawn = [(words, size, em) for words, size, em, _ in lines if words]
    directions = {direction for words, _, _ in drawn for _, (_, direction, _) in words}
    if len(drawn) < 2 or len({(size, em) for _, size, em in drawn}) > 1 or len(directions) > 1:
        return [0.0] * len(lines)
    direction, em = directions.pop(), drawn[0][2]
    levels = [
        statistics.fmean(level_of(frame[0], direction) for _, frame in words) if words else None
        for words, _, _, _ in lines
    ]
    target = statistics.median(level for level in levels if level is not None)
    if max(abs(level - target) for level in levels if level is not None) > MAX_LEVEL_DRIFT_EM * em:
        return [0.0] * len(lines)
    return [0.0 if level is None else clamp(target - level, MAX_ROW_SHIFT_EM * em) for level in levels]


def close_block_gaps(rows: list[RowWords], row_blocks: list[tuple[int, float]]) -> list[RowWords]:
    """The rows, with the lines of a text block moved up to MAX_GAP_SHIFT_EM closer where one lies
    further than MAX_BLOCK_GAP font sizes below the line before it. poppler starts a new block there
    (it takes a line into a block only within 1.5 font sizes of its last baseline), so a column
    broke in two after a heading or below a paragraph set apart; where the other column broke at the
    same height, poppler took the four pieces for a table and read it row by row, across the columns
    (ocrmypdf_poster, docbank 246); a table or a receipt went on as a block of its first column and
    one of the rest, read one after the other. Only rows of one font size and one direction that
    follow each other in a block are moved, each as a whole; each gap is closed by moving the lower
    row up, then the upper one down, as far as the gap above it allows. Rows of several lines (a
    receipt's item and price) count too: docbank 143's table (order 0.875, now passing) and sroie
    000 turned 2 degrees clockwise (0.927, now 0.972) broke where two rows lay over 1.45 font sizes
    apart.

    A row within half a font size below the one before (an item's name and, a little lower, its
    quantity and price) poppler takes into that row's line without lowering the block's last
    baseline, so the gap below it is measured from the row before: on sroie 140 turned 2 degrees,
    the totals 1.7 font sizes further down were read as a block of their own, before their prices."""
    shifts = [0.0] * len(rows)
    bottom_of = list(range(len(rows)))  # the row at poppler's block bottom once each row is in
    for i in range(1, len(rows)):
        prev = bottom_of[i - 1]
        (block, em), (prev_block, _) = row_blocks[i], row_blocks[prev]
        sizes = {size for words in (rows[prev], rows[i]) for _, _, size, _ in words}
        directions = {frame[1] for words in (rows[prev], rows[i]) for _, frame, _, _ in words}
        if block != prev_block or len(sizes) > 1 or len(directions) > 1:
            continue
        size, direction, reach = sizes.pop(), directions.pop(), MAX_GAP_SHIFT_EM * em
        gap = _row_level(rows[prev], direction) + shifts[prev] - _row_level(rows[i], direction) - shifts[i]
        if 0 < gap <= POPPLER_LINE_SPREAD * size:
            bottom_of[i] = prev
            continue
        excess = gap - MAX_BLOCK_GAP * size
        if excess <= 0 or excess > 2 * reach:
            continue
        up = min(reach, excess)
        down = excess - up
        upper = bottom_of[prev - 1] if prev >= 1 else None
        if down > 0 and upper is not None and row_blocks[upper][0] == block:  # the gap above must stay closed
            above = _row_level(rows[upper], direction) + shifts[upper] - _row_level(rows[prev], direction)
            if above - shifts[prev] + down > MAX_BLOCK_GAP * size:
                continue
        shifts[i] += up
        shifts[prev] -= down
    return [
        [
            (text, moved_frame(frame, normal_to(frame[1]), shift), size, box)
            for text, frame, size, box in words
        ]
        for words, shift in zip(rows, shifts, strict=True)
    ]


def apart_for_pdfjs(rows: list[RowWords]) -> list[RowWords]:
    """The rows, each moved by up to MAX_NEW_LINE_SHIFT_EM away from the row before where pdf.js
    (Firefox) would run the two together. It starts a new line only where a glyph lies over half
    the font size below or above the last one; a glyph further behind (the next row's first word,
    back at the left margin) but less far down starts a new piece of the same line, with no space.
    The rows of a receipt, drawn 1.5 times their line height, can sit that close: Firefox copied
    sroie 024's "BATANG BERJUNTAI" above "SELANGOR DARUL EHSAN" as "BERJUNTAISELANGOR" (the rows
    25.8 pt apart, the font 52.5 pt). Only rows that close to a new line move; a row moved down
    brings the next row closer, which may then move in turn. A row drawn in taller character boxes
    may move as many times further (the box's height in ems): a skewed line drawn level comes
    closer at one end to a short line above it (rotated_skew's "(even drop frame!)" and the
    bullet below, 0.4 em apart)."""
    moved: list[RowWords] = []
    for words in rows:
        shift = 0.0
        if moved:
            (_, (origin, direction, width), size, _), (_, (start, ahead, _), _, _) = moved[-1][-1], words[0]
            end = (origin[0] + direction[0] * width, origin[1] + direction[1] * width)
            drop = level_of(start, direction) - level_of(end, direction)
            need = PDFJS_LINE_DROP * size + NEW_LINE_MARGIN_PT - abs(drop)
            reach = MAX_NEW_LINE_SHIFT_EM * size * min(box for _, _, _, box in words)
            back = distance_along(end, start, direction) < -PDFJS_BACK * size
            if ahead == direction and back and 0 < need <= reach:
                shift = math.copysign(need, drop)
        normal = normal_to(words[0][1][1])
        moved.append(
            [(text, moved_frame(frame, normal, shift), size, box) for text, frame, size, box in words]
        )
    return moved


def _row_level(words: RowWords, direction: Point) -> float:
    return statistics.fmean(level_of(frame[0], direction) for _, frame, _, _ in words)


def on_page(words: RowWords, width_pt: float, height_pt: float) -> RowWords:
    """A row moved, if need be, so that its words' baselines lie PAGE_INSET_PT inside the page:
    poppler drops every glyph whose origin is off the page. A row at the page's edge drawn in a font
    larger than its box (a block of side-by-side rows is drawn 1.5 times its line height) had its
    baseline below the bottom edge: sroie 100's last line, 0.7 pt below, lost its four words in
    pdftotext. Moved as a whole, the row keeps one level."""
    ends = [
        point
        for _, ((x, y), (dx, dy), width), _, _ in words
        for point in ((x, y), (x + dx * width, y + dy * width))
    ]
    shift = []
    for axis, size in ((0, width_pt), (1, height_pt)):
        low, high = min(p[axis] for p in ends), max(p[axis] for p in ends)
        if high - low > size - 2 * PAGE_INSET_PT:  # cannot fit: moving it would push one end out
            shift.append(0.0)
            continue
        shift.append(max(0.0, PAGE_INSET_PT - low) or min(0.0, size - PAGE_INSET_PT - high))
    if shift == [0.0, 0.0]:
        return words
    return [(text, ((x + shift[0], y + shift[1]), d, w), *font) for text, ((x, y), d, w), *font in words]
