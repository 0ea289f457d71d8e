"""The invisible text layer of one page: a content stream that draws each word on its box.

Each word is drawn in text render mode 3 (invisible): the em box (the font is one em from descender
to ascender, see pdffont) is centred on the quad's middle line, and horizontal scaling stretches
the word's advance to the quad's width. Between two words of a row (a line, or lines side by side
like a receipt's item and price) an explicit space is drawn, scaled to fill exactly the gap to the
next word, so extractors that read spaces and those that infer word breaks from positions both see
two words. Rows follow in reading order; each starts a new text matrix, which extractors read as a
new line unless it continues the last row's level just after its end (see _with_gaps).

Two choices follow from how poppler (pdftotext, Evince, Okular) rebuilds text from positions:
- Every line is drawn along the page axis (0, 90, 180 or 270 degrees) nearest its direction, each
  word centred on its quad: poppler ends a word wherever a glyph's baseline drifts 0.5 pt from the
  word's first glyph, so a long word drawn along a 3 degree skew came out in fragments
  ("(I nc lu si ve"), and a chart's slanted labels letter by letter. A skewed line's words are
  drawn on about one level (see _line_words) so that poppler also keeps the line whole; where
  that moves a word further off its box than a one-em box allows, the line is drawn in the font
  with taller character boxes (pdffont's with_box), whose boxes still cover the words.
- Font sizes: lines of about the same height (within SAME_SIZE) share one size, so body text whose
  detected line heights vary stays in one poppler block, while a caption or heading of another
  size is kept apart from it, as poppler does with born-digital text; with one size for the whole
  page, a caption between two columns joined them into one block read line across line. The size
  is LINE_SIZE times the lines' height: poppler takes a line into the block above it only within
  1.5 font sizes of the block's last baseline, and a detected line is less high than its type's
  size, so a heading set a little apart above its column became a block of its own, which
  poppler's reading order put before the column beside (docbank 10's right-hand heading was read
  between the left column's lines).
- A block that overlaps the box of a larger text column (a caption beside a picture the columns
  wrap around), or stands beside it closer than poppler keeps columns apart, is drawn at
  INSET_SIZE times the column's size (see _inset_sizes). poppler takes
  into a block any word on its lines that overlaps it horizontally (within 0.3 em) at a size
  within 60 % of its own: on tess 8087 the caption joined the left column's block and widened it
  into the right column, whose lines were then taken in one by one, and the page read line across
  line; so were rotated_skew's two columns, 3 pt apart. Under 0.4 times the size, neither block
  takes in the other's words. Of two such columns as long as each other, the one read second is
  drawn small. The small block's words are drawn wider into the gaps between them (see
  _closer_words): a gap of 0.3 em at its own size is 0.8 em at the small one, where poppler breaks
  a line into pieces that it reads out of order. They are drawn in the font whose character boxes
  are 3 ems tall, so that the box poppler gives each word (and Evince highlights) is about as tall
  as the line, not a third.
- A block with rows of lines side by side (a receipt's items and prices) is drawn in one size,
  TABLE_SIZE times its median line height. poppler grows a block only down to lines of the same
  size within 1.5 em and overlapping it, and takes in words beside it only within 1 em: at the
  text's own size a receipt fell apart, at its wider gaps between rows and between item and
  price, into blocks of items and blocks of prices, read one after the other. In the larger size
  the block holds together and is read row by row. The lines of one row are also drawn closer to
  one level (each moved at most MAX_ROW_SHIFT_EM): poppler orders a block's separate lines by
  their baselines, so on a receipt photographed tilted a price a little higher than its item was
  read before it. A grid of at least three columns standing further apart than poppler bridges
  even at that size is instead drawn a row at a time in sizes ROW_SIZE_STEP apart (see
  _font_sizes): each cell is then a block of its own, and poppler's table finder reads them row by
  row.

- Within a block, a line more than 1.45 font sizes below the one before (a heading set apart
  from its paragraph) is drawn up to MAX_GAP_SHIFT_EM closer (see _close_block_gaps): poppler
  starts a new block there, and where both columns of a page broke at the same heights, it took
  the four pieces for a table and read them row by row across the columns.

And one from pdfium (Chrome), which sorts the text objects of a line by x: an upside-down row is
drawn as a single TJ (see _upside_down_row), or its words come out in reverse.

Coordinates: the stream is in points of the page as displayed, origin bottom-left; the caller maps
that frame onto the PDF page (see pdfgraft).
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics

from ocrcli.document import Line, Page, Quad
from ocrcli.layout import MIN_COLUMN_WIDTH
from ocrcli.pdffont import ADVANCE_EM, BOX_EMS, DESCENT_EM, WIDTH_FACTORS, GlyphlessFont

FONT_RESOURCE = "/OcrcliFont"  # the font with one-em character boxes; taller ones: font_resource
MIN_SPACE_PT = 0.05  # the space drawn between words is never narrower
MIN_GAP_EM = 0.25  # gap left between words: poppler -raw needs over 0.15 em to print a space
# ...and between the words of a row of single letters: poppler's default mode takes a line of them
# for letter-spaced text, and runs them together where they stand under 0.4 em apart.
LETTER_GAP_EM = 0.42
# A word gives up at most this share of its width to make that gap; drawn that much narrower it
# still covers its box at IoU 0.55. At 0.3, sroie 436's "+" and "3" (about half an em wide, the
# words on both sides touching them) were left 0.1498 em apart, and poppler -raw printed "+3". On
# the checker's 54 outputs and 30 held-out receipts, 0.45 changed no figure but that page's (its
# share of words at IoU >= 0.5 went from 1.0 to 0.978).
MAX_TRIM = 0.45
MAX_CROSS_TRIM = 0.35  # the same, where words of different rows are parted (see _part_across_rows)
# A word with a glyph repeated ("!!", "11", "...") is drawn at least this many ems wide per glyph:
# poppler drops a glyph drawn within 0.1 em of the same glyph before it as fake bold, so a narrow
# "!!" came out as "!".
MIN_ADVANCE_EM = 0.12
# Each word of a skewed line is drawn up to this share of its box's height closer to the line's
# middle level (see _line_words): the taller of the box it was read in and the box it is drawn in.
# The geometry check lets a word move a third of that height.
MAX_LEVEL_SHIFT = 0.25
# Levelled lines' words end this close to their middle: poppler takes into a line words within 0.5
# em of its first word's level, so what a line keeps of its tilt brings its ends that much closer to
# the lines beside it. At 0.2, docbank 117 turned 2 degrees, whose lines lie 0.7 em apart (a table's
# size, see TABLE_SIZE), had a line's last word read before it as a line of its own.
LEVEL_LEFT_EM = 0.1
MAX_LEVEL_TILT = 0.17  # sine of 10 degrees: steeper lines (a chart's slanted labels) stay as they lie
MAX_LEVEL_DRIFT_EM = 1.0  # rows drifting further stay as they lie (see _row_shifts)
MAX_ROW_SHIFT_EM = 0.3  # see _row_shifts; the geometry check lets a word move a third of an em
# A word levelled with its line and moved with its row ends at most this share of its box's height
# off (see _line_words), in a taller box where need be.
MAX_TOTAL_SHIFT = 0.3
MAX_BLOCK_GAP = 1.45  # font sizes between baselines that poppler keeps in one block (1.5, less a margin)
MAX_GAP_SHIFT_EM = 0.2  # see _close_block_gaps
POPPLER_WORD_SPACING = 1.5  # poppler ends a line at a gap this many font sizes wide
POPPLER_LINE_SPREAD = 0.5  # poppler takes into a block's lines words this many font sizes off them
SAME_SIZE = 0.25  # lines whose heights differ by at most this share get one font size
BLOCK_SIZE_RANGE = (0.6, 1.7)  # heights, as shares of a text block's median, drawn in its size
# Font size / line height (see the module's docstring), measured with benchmarks/check_pdfs.py. At
# 1.0, docbank 10's right-hand heading was read before the left column once the detector's boxes
# came out a little lower (a detector change tried 2026-12-04; passing from 1.03 with it). tess
# 8071, whose columns stand 9 to 12 pt apart, failed at 1.07, 1.08 and from 1.12 (at 0.7 font
# sizes poppler takes in words beside a block: its columns joined line across line). 1.05 passed
# as many outputs as 1.0 did (46 of 53).
LINE_SIZE = 1.05
# poppler merges words overlapping a block, or within POPPLER_COLUMN_SPACE font sizes beside it,
# if their font size is within this share of the block's, so a block overlapping a column's box
# is drawn at just under 1 - 0.6 times the column's size.
POPPLER_OVERLAP_SIZES = 0.6
POPPLER_COLUMN_SPACE = 0.7  # TextOutputDev's minColSpacing1
# poppler also takes into a block words beside it within this many font sizes, where there are
# at most three (minColSpacing2): linn turned 2 degrees, its columns 0.71 font sizes apart, was read
# line across line.
POPPLER_SIDE_SPACE = 1.0
INSET_SIZE = 0.38
CLOSER_GAP, MAX_WIDEN = 0.5, 0.25  # see _closer_words
COLUMN_LINES = 6  # a text column has this many lines, most of them MIN_COLUMN_WIDTH heights wide
TABLE_SIZE = 1.5  # font size / line height in a block of side-by-side rows (see the module's docstring)
# Font size from one row of a wide table to the next (see _font_sizes): poppler grows a block down
# only to lines whose size is within 5 % of its own.
ROW_SIZE_STEP = 1.07
# Rows and cells per row of such a table. poppler's table finder wants the cells of two neighbouring
# columns aligned (left, right or centred) in both of two rows: on receipts, whose items and
# prices are ragged on one side, it found none, and sroie 196's totals were read as all labels,
# then all prices; ccitt-endofline-true's header of 5 cells over 2 was read column-wise.
GRID_MIN = 3
SAME_SPOT_EM = 0.05  # a word starting this close to where the last one left off needs no Tm
DRIFT_EM = 0.01  # how far rounding may carry words off their boxes before a space takes it back
MAX_TJ_SQUEEZE_EM, MAX_TJ_STRETCH_EM = 0.18, 0.06  # see _upside_down_row
# pdfium reads a TJ gap of 100 units or more before a glyph of this font as a space (its glyphs'
# 500 width, over 5), and measures it without the horizontal scaling: see _upside_down_row.
MAX_TJ_STRETCH_UNITS = 90
UNKERNED_NARROWER, UNKERNED_WIDER_EM = 0.15, 0.05  # see _kerned
DIAGONAL_SLACK = 5.0  # degrees, see _nearest_axis
PAGE_INSET_PT = 0.5  # how far inside the page every baseline is drawn (see _on_page)
# pdf.js ends a line where the next glyph lies over this share of the font size below or above the
# last, if it also lies 0.2 font sizes or more behind its end (see _apart_for_pdfjs)...
PDFJS_LINE_DROP, PDFJS_BACK = 0.5, 0.2
NEW_LINE_MARGIN_PT = 0.2  # ...so a row is drawn this much further off (positions are rounded to 0.1 pt)...
MAX_NEW_LINE_SHIFT_EM = 0.07  # ...moved at most this far for it (times its character box's ems)
UPSIDE_DOWN = (-1.0, 0.0)  # the direction of a row drawn upside down (see _upside_down_row)


Point = tuple[float, float]
Frame = tuple[Point, Point, float]  # baseline origin, direction, width
# A line's words (text, frame), font size, em, and the height of its font's character box in ems
SizedWords = tuple[list[tuple[str, Frame]], float, float, int]
Extent = tuple[Point, float, float, float, float]  # a block's text axis, its span along and across
RowWords = list[tuple[str, Frame, float, int]]  # a row's words (text, frame, font size, box), in order
Placed = tuple[str, Frame, float | None, float, int]  # text, frame, gap to the next (None: last), size, box


def layer_content(page: Page, font: GlyphlessFont, points_per_px: float, height_pt: float) -> bytes:
    """The page's text layer as a content stream in displayed-page points."""
    rows = page.rows()
    # Words are drawn in `sizes`; how far they may be levelled is measured in `ems` (the sizes
    # before insets shrink: the tolerance is the word box's, whatever font the word is drawn in).
    ems = _font_sizes(page, rows, points_per_px, height_pt)
    sizes = _inset_sizes(page, ems, points_per_px, height_pt)
    if not sizes:
        return b""
    ops = ["BT", "3 Tr"]
    space = font.encode(" ")
    current_font = None  # (size, box) of the last Tf
    cursor = _LineStart()
    placed_rows: list[RowWords] = []
    row_blocks: list[tuple[int, float]] = []  # each placed row's block and em

    def sized(line: Line, shift: float = 0.0, least_box: int = 1) -> SizedWords:
        size, em = sizes[id(line)], ems[id(line)]
        # A line drawn small keeps about its own height, so that a selection of it does too
        min_box = max(least_box, min(BOX_EMS, key=lambda tall: abs(tall * size - em)))
        words, box = _line_words(line, points_per_px, height_pt, size, min_box, shift)
        return (_closer_words(words, size, em) if size < em else words), size, em, box

    for row in rows:
        drawn = [line for line in row if id(line) in sizes]  # not lines with a degenerate quad
        per_line = [sized(line) for line in drawn]
        shifts = _row_shifts(per_line)
        if any(shifts):
            per_line = [sized(line, shift) for line, shift in zip(drawn, shifts, strict=True)]
            # One box for the row: with its item alone in a taller box, a price of sroie 080 turned
            # 3 degrees came out of pdftotext before the item.
            row_box = max(box for _, _, _, box in per_line)
            if any(box < row_box for _, _, _, box in per_line):
                per_line = [sized(line, shift, row_box) for line, shift in zip(drawn, shifts, strict=True)]
        placed = [
            (text, frame, size, box) for line_words, size, _, box in per_line for text, frame in line_words
        ]
        if placed:
            placed_rows.append(placed)
            row_blocks.append((row[0].block, per_line[0][2]))
    placed_rows = [
        _on_page(words, page.width * points_per_px, height_pt)
        for words in _apart_for_pdfjs(_close_block_gaps(placed_rows, row_blocks))
    ]
    for words in _with_gaps(placed_rows):
        row_font = words[0][3:]
        if all(w[1][1] == UPSIDE_DOWN and w[3:] == row_font and w[1][2] > 0 for w in words):
            if row_font != current_font:
                ops.append(f"{font_resource(row_font[1])} {pdf_number(row_font[0])} Tf")
                current_font = row_font
            ops.extend(_upside_down_row(words, font, space, cursor))
            continue
        pen = None  # where the text position is after the previous word and its space
        for text, (box_start, (dx, dy), width), gap, size, box in words:
            if (size, box) != current_font:
                ops.append(f"{font_resource(box)} {pdf_number(size)} Tf")
                current_font, pen = (size, box), None
            if pen is None or _distance(pen, box_start) > SAME_SPOT_EM * size or pen[2] != (dx, dy):
                op, origin = cursor.move(box_start, (dx, dy))
                ops.append(op)
            else:
                origin = pen[:2]  # drawn where the text position is, so the next word starts from there
            scaling, drawn = _scaling(width, len(text), size)
            # The space after a word spans the gap to the next word's box, so the next word usually
            # needs no text matrix of its own. Where rounding has left the text position more than
            # DRIFT_EM off the boxes, the space also takes that back, so errors never add up along
            # a line; below that, gaps stay the same widths (they compress better).
            space_width = MIN_SPACE_PT
            if gap is not None:
                behind = _along(origin, box_start, (dx, dy))
                drift = width - drawn + behind
                space_width = max(gap + (drift if abs(drift) > DRIFT_EM * size else 0.0), MIN_SPACE_PT)
            word = font.encode(text)
            if gap is None:  # a row's last word: its space stays apart (see _word_and_space)
                space_scaling, space_drawn = _scaling(space_width, 1, size)
                ops.append(f"{scaling} Tz {pdf_string(word)} Tj\n{space_scaling} Tz {pdf_string(space)} Tj")
            else:
                show, space_drawn = _word_and_space(word, space, scaling, size, space_width)
                ops.append(f"{scaling} Tz {show}")
            advance = drawn + space_drawn
            pen = (origin[0] + dx * advance, origin[1] + dy * advance, (dx, dy)) if gap is not None else None
    ops.append("ET")
    return ("\n".join(ops) + "\n").encode("latin-1")  # strings hold their codes as bytes


def font_resource(box: int) -> str:
    """The resource name of the font whose character boxes are `box` ems tall (pdffont.BOX_EMS)."""
    return FONT_RESOURCE if box == 1 else f"{FONT_RESOURCE}{box}"


def boxes_drawn(content: bytes) -> list[int]:
    """The character box heights (pdffont.BOX_EMS) of the fonts a text layer uses."""
    return [box for box in BOX_EMS if f"{font_resource(box)} ".encode() in content]


def _close_block_gaps(rows: list[RowWords], row_blocks: list[tuple[int, float]]) -> list[RowWords]:
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
        [(text, _moved(frame, _normal(frame[1]), shift), size, box) for text, frame, size, box in words]
        for words, shift in zip(rows, shifts, strict=True)
    ]


def _apart_for_pdfjs(rows: list[RowWords]) -> list[RowWords]:
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
            drop = _level(start, direction) - _level(end, direction)
            need = PDFJS_LINE_DROP * size + NEW_LINE_MARGIN_PT - abs(drop)
            reach = MAX_NEW_LINE_SHIFT_EM * size * min(box for _, _, _, box in words)
            back = _along(end, start, direction) < -PDFJS_BACK * size
            if ahead == direction and back and 0 < need <= reach:
                shift = math.copysign(need, drop)
        normal = _normal(words[0][1][1])
        moved.append([(text, _moved(frame, normal, shift), size, box) for text, frame, size, box in words])
    return moved


def _row_level(words: RowWords, direction: Point) -> float:
    return statistics.fmean(_level(frame[0], direction) for _, frame, _, _ in words)


def _on_page(words: RowWords, width_pt: float, height_pt: float) -> RowWords:
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


def pdf_string(codes: bytes) -> str:
    """A PDF literal string of these bytes (as latin-1 characters, encoded back by the caller),
    escaped where a reader would not take a byte as itself. Half the size of a hex string, which
    made text layers 3 % larger after compression (8087_054.3B.tif: 6,313 against 6,144 bytes).
    A line feed is escaped too: Ghostscript (10.00) read two in a row as one, and the codes after
    them a byte off (U+0A0A, or a code ending in 0A before one of U+0A00-0AFF)."""
    text = codes.decode("latin-1")
    for char, escaped in (("\\", "\\\\"), ("(", "\\("), (")", "\\)"), ("\r", "\\r"), ("\n", "\\n")):
        text = text.replace(char, escaped)
    return f"({text})"


def _word_and_space(
    word: bytes, space: bytes, scaling: int, size: float, space_width: float
) -> tuple[str, float]:
    """The operator showing a word (its codes) and the space after it, and how far that space
    advances: `space_width` to within a TJ unit.

    Word and space are one text object: pdfium (Chrome) starts a new line at every text object of a
    line that runs vertically in user space (a page with /Rotate 90 or 270) unless the object
    before it ends in a space. The space then has the word's horizontal scaling, so a TJ
    adjustment after it makes up the rest of its width. Not after a row's last word: pdfium would
    then also run the next row on, whatever its direction."""
    unit = size * scaling / 100_000  # points one TJ unit moves the next glyph back
    natural = ADVANCE_EM * size * scaling / 100
    adjust = round((natural - space_width) / unit)
    if adjust == 0:
        return f"{pdf_string(word + space)} Tj", natural
    return f"[{pdf_string(word + space)} {adjust}] TJ", natural - adjust * unit


def _with_gaps(rows: list[RowWords]) -> list[list[Placed]]:
    """The words of each row with the gap along the baseline from each to the next in the row
    (None after the last). Extractors that find word breaks by position need a gap of about 0.15 em
    (poppler -raw): touching words are trimmed to leave MIN_GAP_EM, from both sides of the gap in
    proportion to what each word can still give (at most MAX_TRIM of its width in all). Taken from
    one side only, a receipt's "Meat + 3 Vege", whose narrow "+" and "3" touch their neighbours,
    came out of poppler as "+3Vege"; taken half from each side, as "+3", the "+" having given all
    it could to "Meat". In a row of single letters the gap left is LETTER_GAP_EM: at MIN_GAP_EM,
    a receipt's "m a" (sroie 320) came out of poppler as "ma".

    The last word of a row and the first of the next are parted the same way when extractors that
    follow the drawing order would read them as one line (see _runs_on): the pieces of a formula
    are separate rows, and a "ξ)" overlapping the fraction drawn after it came out of poppler -raw
    and pdfium as "ξ)-LrL-2"."""
    flat = [word for row in rows for word in row]
    frames = [[origin, direction, width] for _, (origin, direction, width), _, _ in flat]
    budgets = [
        min(width * MAX_TRIM, max(0.0, width - _min_width(text, size)))
        for text, (_, _, width), size, _ in flat
    ]
    row_starts = set(itertools.accumulate(len(row) for row in rows[:-1]))
    gaps = [
        LETTER_GAP_EM if all(len(text) == 1 for text, *_ in row) else MIN_GAP_EM for row in rows for _ in row
    ]
    for i in range(len(flat) - 1):
        (origin, direction, width), (ahead, ahead_direction, _) = frames[i], frames[i + 1]
        if ahead_direction != direction:
            continue  # words drawn along different axes: the gap between them means nothing
        size = flat[i][2]
        if i + 1 in row_starts:
            if not _runs_on((origin, direction, width), ahead, size):
                continue
            gap_em = MIN_GAP_EM
        else:
            gap_em = gaps[i]
        _part(frames, budgets, i, i + 1, gap_em * size - (_along(origin, ahead, direction) - width))
    _part_across_rows(flat, frames, budgets, [k for k, row in enumerate(rows) for _ in row])
    row_ends = {i - 1 for i in row_starts} | {len(flat) - 1}
    words = (
        (
            text,
            (origin, direction, width),
            None if i in row_ends else _along(origin, frames[i + 1][0], direction) - width,
            size,
            box,
        )
        for i, ((text, _, size, box), (origin, direction, width)) in enumerate(zip(flat, frames, strict=True))
    )
    return [list(itertools.islice(words, len(row))) for row in rows]


def _part_across_rows(flat: RowWords, frames: list[list], budgets: list[float], row_of: list[int]) -> None:
    """Part the words of different rows that poppler's default mode would run together, where
    each can give what it takes without giving more than MAX_CROSS_TRIM of its width in all.
    poppler builds a line from its leftmost word and takes in the words whose baselines lie
    within half an em of that word's, left to right, each next one even if it starts up to half an
    em back from the end of the last, and then printed with no space between them. It ends the
    line at a word overlapping the last by more, and starts the next at the leftmost word left
    over, which may lie mid-row: so every word stands for such a start here (a line from each
    row's first word only missed sroie 024 turned -2 degrees, "03-3271No.:000689913856"). On a
    receipt turned 2 degrees (sroie 100), whose rows, drawn in a table's size (see TABLE_SIZE),
    lie under an em apart, "SPRAY" of one row and "Total" of the next, lower and 0.3 em into it,
    came out as "SPRAYTotal". Allowed all of MAX_TRIM, the pieces of docbank 189's formulas,
    parted from several neighbours, fell off their boxes (IoU 0.45-0.48, a few of them lying off
    their line's level too); at 0.25, pages turned 3 degrees still had words run together
    (docbank 126: "Coordinate100along"). `row_of` gives the row of each word."""
    allowed = [
        max(0.0, min(budget, MAX_CROSS_TRIM * width - (width - frame[2])))
        for budget, (_, (_, _, width), _, _), frame in zip(budgets, flat, frames, strict=True)
    ]
    levels = sorted((_level(origin, direction), k) for k, (origin, direction, _) in enumerate(frames))
    keys = [level for level, _ in levels]
    for start in range(len(flat)):
        origin, direction, _ = frames[start]
        size, base = flat[start][2], _level(origin, direction)
        low = bisect.bisect_right(keys, base - POPPLER_LINE_SPREAD * size)
        high = bisect.bisect_left(keys, base + POPPLER_LINE_SPREAD * size)
        ahead = {
            k: _along(origin, frames[k][0], direction)
            for _, k in levels[low:high]
            if frames[k][1] == direction
        }
        line = sorted((k for k, along in ahead.items() if along >= 0), key=ahead.__getitem__)
        for first, second in itertools.pairwise(line):
            gap = _along(frames[first][0], frames[second][0], direction) - frames[first][2]
            if not -POPPLER_LINE_SPREAD * size < gap < POPPLER_WORD_SPACING * size:
                break  # poppler ends the line here
            need = MIN_GAP_EM * size - gap
            if row_of[first] != row_of[second] and 0 < need <= allowed[first] + allowed[second]:
                _part(frames, allowed, first, second, need)


def _part(frames: list[list], budgets: list[float], first: int, second: int, need: float) -> None:
    """Widen the gap between two words by `need`, or as far as their budgets allow: each gives in
    proportion to what it can still give."""
    spare = budgets[first] + budgets[second]
    if need <= 0 or spare <= 0:
        return
    taken = min(need, spare)
    from_first, from_second = taken * budgets[first] / spare, taken * budgets[second] / spare
    budgets[first] -= from_first
    budgets[second] -= from_second
    _narrow_at_gap(frames, first, second, from_first, from_second)


def _narrow_at_gap(
    frames: list[list], first: int, second: int, from_first: float, from_second: float
) -> None:
    """Narrow the word of frame `first` (origin, direction, width) at its end by `from_first`, and
    the word of frame `second` (after it) at its start by `from_second`, widening the gap between
    them; negative amounts widen the words into the gap instead."""
    ahead, direction, ahead_width = frames[second]
    frames[first][2] -= from_first
    frames[second][0] = (ahead[0] + direction[0] * from_second, ahead[1] + direction[1] * from_second)
    frames[second][2] = ahead_width - from_second


def _runs_on(frame: Frame, ahead: Point, size: float) -> bool:
    """Whether a word drawn next, starting at `ahead`, may be read on the line of the word in
    `frame`: its baseline within half an em and its start less than half an em back from the
    word's end (ems of the word's `size`). Extractors that follow the drawing order (poppler -raw)
    continue a line so; poppler's default mode takes such a word into the line too, and ran
    a chart's neighbouring slanted labels, 0.44 em into each other, together ("KeilanaBeeblebrox",
    ocrmypdf_graph) while only words up to 0.3 em back were parted."""
    origin, direction, width = frame
    level_apart = abs(_level(ahead, direction) - _level(origin, direction))
    return level_apart < 0.5 * size and _along(origin, ahead, direction) > width - 0.5 * size


class _LineStart:
    """Where the text matrix last put the start of a line, to move the next one relative to it.

    A move along the same direction is a Td of the offset in text space, otherwise a Tm. Offsets
    compress better than absolute positions (the lines of a column are one spacing apart): the
    layer is about 4 % smaller. Positions are rounded to 0.1 pt, each from where the last one
    really went, so rounding never adds up along a page.
    """

    def __init__(self) -> None:
        self.origin: Point | None = None
        self.direction: Point | None = None

    def move(self, origin: Point, direction: Point) -> tuple[str, Point]:
        """The operator that starts a line at `origin` along `direction`, and where it really starts."""
        dx, dy = direction
        if self.origin is None or direction != self.direction:
            x, y = round(origin[0], 1), round(origin[1], 1)
            op = f"{_rotation(dx, dy)} {pdf_number(x, 1)} {pdf_number(y, 1)} Tm"
        else:
            ox, oy = origin[0] - self.origin[0], origin[1] - self.origin[1]
            # The offset in text space, whose axes are the direction and its normal.
            u, v = round(ox * dx + oy * dy, 1), round(oy * dx - ox * dy, 1)
            x, y = self.origin[0] + u * dx - v * dy, self.origin[1] + u * dy + v * dx
            op = f"{pdf_number(u, 1)} {pdf_number(v, 1)} Td"
        self.origin, self.direction = (x, y), direction
        return op, (x, y)


def _upside_down_row(words: list[Placed], font: GlyphlessFont, space: bytes, cursor: _LineStart) -> list[str]:
    """An upside-down row as one TJ, its words and spaces placed by kerning.

    pdfium (Chrome) sorts the text objects of a line by their origins' x, so an upside-down row
    drawn word by word came out with its words reversed; the items of one TJ stay in order. One
    TJ has one horizontal scaling, so each word's glyphs are drawn closer together or further apart
    by kerning to fit its box, but only within what extractors take for one word: glyphs overlapping
    by 0.2 em split a word in poppler, and a gap of 0.1 em does in poppler and pdfium, which
    measures it in TJ units, unscaled by Tz (MAX_TJ_STRETCH_UNITS). A word whose glyphs would need
    more is drawn a little wider or narrower than its box.
    """
    _, ((x, _), (dx, dy), _), _, size, _ = words[0]
    y = statistics.fmean(w[1][0][1] for w in words)  # one baseline: the words' levels differ a little
    pitches = [width / len(text) for text, (_, _, width), _, _, _ in words]
    # A word of one character is drawn with a glyph of about its own width (see _lone_glyph).
    shared = [pitch for (text, *_), pitch in zip(words, pitches, strict=True) if len(text) > 1] or pitches
    closer, apart = MAX_TJ_SQUEEZE_EM * size, MAX_TJ_STRETCH_EM * size
    low, high = max(shared) - apart, min(shared) + closer  # glyph advances that suit every word
    # The median word's advance if it suits every word; else the narrowest word's, squeezed as far
    # as it goes: wider words are then drawn narrower than their boxes, which only shrinks what a
    # selection highlights, where the advance between the two (used before) drew narrow words
    # wider than theirs, over the gaps, and pdftotext and pdf.js read "willfillinlittlelilies".
    pitch = min(max(statistics.median(shared), low), high)
    scale = max(round(pitch / (ADVANCE_EM * size), 3), 0.001)  # Tz / 100, as written (to 0.1 %)
    pitch = scale * ADVANCE_EM * size
    unit = size * scale / 1000  # points one TJ unit moves the next glyph back
    apart = min(apart, MAX_TJ_STRETCH_UNITS * unit)

    items, pen = [], 0.0  # pen: where the text position is, along the row from its start
    for (text, ((word_x, _), _, _), _, _, _), word_pitch in zip(words, pitches, strict=True):
        if lone := _lone_glyph(text, word_pitch / pitch, font):
            codes, factor = lone
            shown, drawn = [pdf_string(codes)], factor * pitch
        else:
            squeeze = min(max(pitch - word_pitch, -apart), closer)
            kern = round(squeeze / unit) if _kerned(text, pitch, word_pitch, size) else 0
            shown = (
                [f"{pdf_string(font.encode(c))} {kern}" for c in text]
                if kern
                else [pdf_string(font.encode(text))]
            )
            drawn = len(text) * (pitch - kern * unit)
        # A word drawn wider or narrower than its box is centred on it, sharing the difference
        # between the gaps on either side.
        start = (word_x - x) * dx - (drawn - len(text) * word_pitch) / 2
        if move := round((pen - start) / unit):  # from the previous word's space (or the row's start)
            items.append(str(move))
        items += [*shown, pdf_string(space)]
        pen = start + drawn + pitch
    start_at, _ = cursor.move((x, y), (dx, dy))
    return [start_at, f"{pdf_number(100 * scale, 1)} Tz [{' '.join(items)}] TJ"]


def _lone_glyph(text: str, ratio: float, font: GlyphlessFont) -> tuple[bytes, float] | None:
    """The code of a word of one character `ratio` times as wide as the row's pitch, drawn with a
    glyph of the width among pdffont.WIDTH_FACTORS nearest its box's, and that width's factor;
    None where the pitch is nearest, or the font has no code left. One glyph cannot be kerned to
    its box: a lone ":" or "1" of an upside-down receipt was drawn at the row's pitch, up to four
    times as wide as its ink, and failed the word-position check (7 of 40 receipts turned 180
    degrees, at 0.88 to 0.946 of their words)."""
    if len(text) != 1:
        return None
    factor = min((1.0, *WIDTH_FACTORS), key=lambda f: abs(math.log(f / ratio)))
    codes = font.encode_at(text, factor) if factor != 1.0 else None
    return (codes, factor) if codes else None


def _kerned(text: str, pitch: float, word_pitch: float, size: float) -> bool:
    """Whether a word of an upside-down row needs its glyphs kerned to fit its box: not if at the
    row's `pitch` it is at most UNKERNED_NARROWER narrower than its box, or at most
    UNKERNED_WIDER_EM wider (centred on its box, a wider word eats into the gaps beside it: 15 %
    wider glued long words to their neighbours in pdftotext and pdf.js). Kerning every glyph of
    every word made phototest-rotated-180's layer 2,573 bytes (831 compressed) and its PDF 12 %
    larger than the scan, where 10 % is allowed."""
    growth = len(text) * (pitch - word_pitch)
    return not -UNKERNED_NARROWER * len(text) * word_pitch <= growth <= UNKERNED_WIDER_EM * size


def _font_sizes(
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
        if (frame := _quad_frame(line.quad, points_per_px, height_pt))
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
    frame = _quad_frame(lines[0].quad, points_per_px, height_pt)
    if frame is None:
        return 0.0
    axis = _nearest_axis(*frame[1])
    spans = sorted(_reach_along([line.quad], axis, points_per_px, height_pt) for line in lines)
    widest, reach = 0.0, spans[0][1]
    for start, end in spans[1:]:
        widest, reach = max(widest, start - reach), max(reach, end)
    return widest


def _inset_sizes(
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
    about its middle, where _line_words levels it. Measured by its corners, a skewed column's box
    reached into the block above it (rotated_skew)."""
    frames = [(line, frame) for line in lines if (frame := _quad_frame(line.quad, points_per_px, height_pt))]
    if not frames:
        return (0.0, 0.0), 0.0, 0.0, 0.0, 0.0  # overlaps nothing
    axis = _nearest_axis(*frames[0][1][1])
    along, across = [], []
    for line, (middle_left, (dx, dy), width, height) in frames:
        corners = _corners(line.quad, points_per_px, height_pt)
        quads = [word.quad for word in line.words] or [line.quad]
        along += _reach_along(quads, axis, points_per_px, height_pt)
        if _tilt((dx, dy), axis) > MAX_LEVEL_TILT:
            across += [_level(corner, axis) for corner in corners]
            continue
        middle = _level(_centre(middle_left, (dx, dy), width), axis)
        across += [middle - height / 2, middle + height / 2]
    return axis, min(along), max(along), min(across), max(across)


def _reach_along(
    quads: list[Quad], axis: Point, points_per_px: float, height_pt: float
) -> tuple[float, float]:
    """Where the quads' corners begin and end along a text axis, in displayed-page points."""
    along = [_along((0.0, 0.0), c, axis) for quad in quads for c in _corners(quad, points_per_px, height_pt)]
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
    shapes = [_quad_frame(line.quad, 1.0, 0.0) for line in lines]
    return statistics.median(shape[2] / shape[3] if shape else 0.0 for shape in shapes) >= MIN_COLUMN_WIDTH


def _line_words(
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
    lines' pieces interleaved (order 0.49). Then the whole line moves `shift` up (see _row_shifts).

    A word moves at most MAX_LEVEL_SHIFT of its box's height towards the middle: the taller of
    the box it was read in (a skewed word's box is taller than its line) and the box of the font it
    is drawn in. The font is the one with the lowest box, from `min_box` up, that lets every word
    end within LEVEL_LEFT_EM of the middle and no word end more than MAX_TOTAL_SHIFT of its box
    off, or the tallest. rotated_skew's body lines are drawn level in boxes of 2 to 4 ems."""
    line_frame = _quad_frame(line.quad, points_per_px, height_pt)
    if line_frame is None:
        return [], min_box
    axis = _nearest_axis(*line_frame[1])
    tilt = _tilt(line_frame[1], axis)
    placed = [
        (text, frame, _height_across(word.quad, axis, points_per_px, height_pt))
        for word in line.words
        if (text := word.text.strip())
        and (frame := _word_frame(word.quad, points_per_px, height_pt, size, axis, _min_width(text, size)))
    ]
    levels = [_level(origin, axis) for _, (origin, _, _), _ in placed]
    levelled = len(placed) >= 2 and tilt <= MAX_LEVEL_TILT
    middle = (min(levels) + max(levels)) / 2 if levelled else 0.0
    # An upside-down row is drawn on one baseline (see _upside_down_row): its words must end on
    # the middle, or flattening them there moves them further than their box allows.
    left = 0.0 if axis == UPSIDE_DOWN else LEVEL_LEFT_EM * size

    def room(height: float, box: int) -> float:
        return max(height, box * size)

    def move(level: float, height: float, box: int) -> float:
        return shift + (_clamp(middle - level, MAX_LEVEL_SHIFT * room(height, box)) if levelled else 0.0)

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
        (text, _moved(frame, _normal(axis), move(level, height, box)))
        for (text, frame, height), level in zip(placed, levels, strict=True)
    ]
    return words, box


def _closer_words(words: list[tuple[str, Frame]], size: float, em: float) -> list[tuple[str, Frame]]:
    """The words of a line drawn in `size`, smaller than its own size `em` (see _inset_sizes), each
    widened into the gaps beside it by up to MAX_WIDEN of its width on either side, so that the
    gaps poppler bridges at `em` (under POPPLER_COLUMN_SPACE of it) come down to CLOSER_GAP of
    `size`. poppler takes into a block only words within 0.7 of its font size (or 1.0, for up to
    three words beside it): docbank 10 turned 2 degrees, whose right column is drawn at 0.38 times
    its size, came out of pdftotext in pieces of lines, read out of order (order 0.878). Widened by
    a quarter on both sides, a word still covers its box at IoU 0.67."""
    frames = [[origin, direction, width] for _, (origin, direction, width) in words]
    for i in range(len(frames) - 1):
        (origin, direction, width), (ahead, ahead_direction, _) = frames[i], frames[i + 1]
        if ahead_direction != direction:
            continue
        gap = _along(origin, ahead, direction) - width
        excess = gap - CLOSER_GAP * size
        if excess <= 0 or gap >= POPPLER_COLUMN_SPACE * em:
            continue
        right = min(excess / 2, MAX_WIDEN * words[i][1][2])
        left = min(excess - right, MAX_WIDEN * words[i + 1][1][2])
        right = min(excess - left, MAX_WIDEN * words[i][1][2])
        _narrow_at_gap(frames, i, i + 1, -right, -left)
    return [
        (text, (origin, direction, width))
        for (text, _), (origin, direction, width) in zip(words, frames, strict=True)
    ]


def _tilt(direction: Point, axis: Point) -> float:
    """The sine of the angle between a line's unit `direction` and the page `axis` it is drawn along."""
    return abs(direction[0] * axis[1] - direction[1] * axis[0])


def _centre(middle_left: Point, direction: Point, width: float) -> Point:
    """The middle of a frame (see _quad_frame): `width` along `direction` from its left edge's middle."""
    return middle_left[0] + direction[0] * width / 2, middle_left[1] + direction[1] * width / 2


def _height_across(quad: Quad, axis: Point, points_per_px: float, height_pt: float) -> float:
    """How far a quad spans across text running along `axis`: the height of its upright box."""
    levels = [_level(corner, axis) for corner in _corners(quad, points_per_px, height_pt)]
    return max(levels) - min(levels)


def _row_shifts(lines: list[SizedWords]) -> list[float]:
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
        statistics.fmean(_level(frame[0], direction) for _, frame in words) if words else None
        for words, _, _, _ in lines
    ]
    target = statistics.median(level for level in levels if level is not None)
    if max(abs(level - target) for level in levels if level is not None) > MAX_LEVEL_DRIFT_EM * em:
        return [0.0] * len(lines)
    return [0.0 if level is None else _clamp(target - level, MAX_ROW_SHIFT_EM * em) for level in levels]


def _clamp(shift: float, reach: float) -> float:
    """`shift`, cut down to at most `reach` either way."""
    return min(reach, max(-reach, shift))


def _along(start: Point, end: Point, direction: Point) -> float:
    """How far `end` lies from `start` along the unit `direction`."""
    return (end[0] - start[0]) * direction[0] + (end[1] - start[1]) * direction[1]


def _normal(direction: Point) -> Point:
    """The unit direction turned a quarter to the left: "up" for text running along `direction`."""
    return (-direction[1], direction[0])


def _level(point: Point, direction: Point) -> float:
    """How high `point` lies, measured across text running along `direction`."""
    return _along((0.0, 0.0), point, _normal(direction))


def _moved(frame: Frame, direction: Point, distance: float) -> Frame:
    (x, y), along, width = frame
    return (x + direction[0] * distance, y + direction[1] * distance), along, width


def _word_frame(
    quad: Quad,
    points_per_px: float,
    height_pt: float,
    size: float,
    axis: Point,
    min_width: float,
) -> Frame | None:
    """The frame of a word drawn at `size` along `axis`, its em box centred on the quad's centre,
    as wide as the quad's projection on the axis, but at least `min_width`."""
    frame = _quad_frame(quad, points_per_px, height_pt)
    if frame is None:
        return None
    middle_left, (dx, dy), width, _ = frame
    centre = _centre(middle_left, (dx, dy), width)
    width = max(width * max(0.0, dx * axis[0] + dy * axis[1]), min_width)
    (dx, dy) = axis
    middle_left = (centre[0] - dx * width / 2, centre[1] - dy * width / 2)
    drop = size * (0.5 - DESCENT_EM)  # from the em box's middle down to the baseline
    return (middle_left[0] + dy * drop, middle_left[1] - dx * drop), (dx, dy), width


def _min_width(text: str, size: float) -> float:
    """The narrowest a word may be drawn (see MIN_ADVANCE_EM)."""
    repeated = any(a == b for a, b in itertools.pairwise(text))
    return MIN_ADVANCE_EM * size * len(text) if repeated else 0.0


def _quad_frame(
    quad: Quad, points_per_px: float, height_pt: float
) -> tuple[tuple[float, float], tuple[float, float], float, float] | None:
    """(middle of the left edge, unit direction, width, height) of a quad in displayed-page points."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = _corners(quad, points_per_px, height_pt)
    along = ((x1 - x0 + x2 - x3) / 2, (y1 - y0 + y2 - y3) / 2)  # left to right along the text
    up = ((x0 - x3 + x1 - x2) / 2, (y0 - y3 + y1 - y2) / 2)  # bottom to top
    width, height = math.hypot(*along), math.hypot(*up)
    if width <= 0.01 or height <= 0.01:
        return None
    return ((x0 + x3) / 2, (y0 + y3) / 2), (along[0] / width, along[1] / width), width, height


def _corners(quad: Quad, points_per_px: float, height_pt: float) -> list[Point]:
    """A quad's four corners, image pixels (y down) turned into displayed-page points (y up)."""
    return [(quad[2 * i] * points_per_px, height_pt - quad[2 * i + 1] * points_per_px) for i in range(4)]


def _rotation(dx: float, dy: float) -> str:
    """The a b c d of a text matrix that runs along the unit direction (dx, dy)."""
    return f"{pdf_number(dx, 5)} {pdf_number(dy, 5)} {pdf_number(-dy, 5)} {pdf_number(dx, 5)}"


def _nearest_axis(dx: float, dy: float) -> tuple[float, float]:
    """The page axis (0, 90, 180 or 270 degrees) nearest a unit direction; within DIAGONAL_SLACK
    of 45 degrees, left to right if the direction runs rightwards. A chart's labels set at 45
    degrees were drawn whichever way rounding tipped each one: those drawn upright got boxes a
    third as wide as the label, and two neighbours drawn in different directions came out of
    pdftotext -raw as one word (ocrmypdf_graph)."""
    slack = math.tan(math.radians(45 - DIAGONAL_SLACK))
    across = abs(dx) >= abs(dy) or (dx > 0 and dx >= abs(dy) * slack)
    return (math.copysign(1.0, dx), 0.0) if across else (0.0, math.copysign(1.0, dy))


def _distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _scaling(width: float, chars: int, size: float) -> tuple[int, float]:
    """Horizontal scaling (a whole percent, at least 1) that makes `chars` glyphs of `size` span
    `width`, and the width they then span. Whole percents keep the layer small (a tenth of its
    compressed size was in the decimals); the width is off by at most half a percent of the
    glyphs' unscaled width, which the caller takes back in the space that follows."""
    em_width = chars * ADVANCE_EM * size
    scaling = max(1, round(100.0 * width / em_width))
    return scaling, em_width * scaling / 100.0


def pdf_number(value: float, digits: int = 2) -> str:
    """`value` as a PDF number to `digits` decimals, without trailing zeros."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
