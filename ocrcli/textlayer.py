"""The invisible text layer of one page: a content stream that draws each word on its box.

Each word is drawn in text render mode 3 (invisible): the em box (the font is one em from descender
to ascender, see pdffont) is centred on the quad's middle line, and horizontal scaling stretches
the word's advance to the quad's width. Between two words of a row (a line, or lines side by side
like a receipt's item and price) an explicit space is drawn, scaled to fill exactly the gap to the
next word, so extractors that read spaces and those that infer word breaks from positions both see
two words. Rows follow in reading order; each starts a new text matrix, which extractors read as a
new line unless it continues the last row's level just after its end (see wordgaps.with_gaps).

Readers that rebuild text from positions (poppler: pdftotext, Evince, Okular; pdf.js: Firefox) read
what the layer draws by their own rules (readerrules), so where and how each word is drawn is
chosen for them, each concern in a module of its own:
- layersizes: the font size of each line, which decides the blocks poppler groups lines into;
- layerplacement: each word's frame, skewed lines levelled, rows moved closer or apart;
- wordgaps: how wide each word is drawn, so that neighbours are neither run together nor broken
  apart;
- layergeometry: the arithmetic of quads, frames and levels that they share.

And one choice here, for pdfium (Chrome), which sorts the text objects of a line by x: an
upside-down row is drawn as a single TJ (see _upside_down_row), or its words come out in reverse.

Coordinates: the stream is in points of the page as displayed, origin bottom-left; the caller maps
that frame onto the PDF page (see pdfgraft).
"""

from __future__ import annotations

import math
import statistics

from ocrcli.document import Line, Page
from ocrcli.layergeometry import UPSIDE_DOWN, Point, distance_along
from ocrcli.layerplacement import (
    RowWords,
    SizedWords,
    apart_for_pdfjs,
    close_block_gaps,
    line_words,
    on_page,
    row_shifts,
)
from ocrcli.layersizes import font_sizes, inset_sizes
from ocrcli.pdffont import ADVANCE_EM, BOX_EMS, WIDTH_FACTORS, GlyphlessFont
from ocrcli.wordgaps import Placed, closer_words, with_gaps

FONT_RESOURCE = "/OcrcliFont"  # the font with one-em character boxes; taller ones: font_resource
MIN_SPACE_PT = 0.05  # the space drawn between words is never narrower
SAME_SPOT_EM = 0.05  # a word starting this close to where the last one left off needs no Tm
DRIFT_EM = 0.01  # how far rounding may carry words off their boxes before a space takes it back
MAX_TJ_SQUEEZE_EM, MAX_TJ_STRETCH_EM = 0.18, 0.06  # see _upside_down_row
# pdfium reads a TJ gap of 100 units or more before a glyph of this font as a space (its glyphs'
# 500 width, over 5), and measures it without the horizontal scaling: see _upside_down_row.
MAX_TJ_STRETCH_UNITS = 90
UNKERNED_NARROWER, UNKERNED_WIDER_EM = 0.15, 0.05  # see _kerned


def layer_content(page: Page, font: GlyphlessFont, points_per_px: float, height_pt: float) -> bytes:
    """The page's text layer as a content stream in displayed-page points."""
    rows = page.rows()
    # Words are drawn in `sizes`; how far they may be levelled is measured in `ems` (the sizes
    # before insets shrink: the tolerance is the word box's, whatever font the word is drawn in).
    ems = font_sizes(page, rows, points_per_px, height_pt)
    sizes = inset_sizes(page, ems, points_per_px, height_pt)
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
        words, box = line_words(line, points_per_px, height_pt, size, min_box, shift)
        return (closer_words(words, size, em) if size < em else words), size, em, box

    for row in rows:
        drawn = [line for line in row if id(line) in sizes]  # not lines with a degenerate quad
        per_line = [sized(line) for line in drawn]
        shifts = row_shifts(per_line)
        if any(shifts):
            per_line = [sized(line, shift) for line, shift in zip(drawn, shifts, strict=True)]
            # One box for the row: with its item alone in a taller box, a price of sroie 080 turned
            # 3 degrees came out of pdftotext before the item.
            row_box = max(box for _, _, _, box in per_line)
            if any(box < row_box for _, _, _, box in per_line):
                per_line = [sized(line, shift, row_box) for line, shift in zip(drawn, shifts, strict=True)]
        placed = [(text, frame, size, box) for words, size, _, box in per_line for text, frame in words]
        if placed:
            placed_rows.append(placed)
            row_blocks.append((row[0].block, per_line[0][2]))
    placed_rows = [
        on_page(words, page.width * points_per_px, height_pt)
        for words in apart_for_pdfjs(close_block_gaps(placed_rows, row_blocks))
    ]
    for words in with_gaps(placed_rows):
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
                behind = distance_along(origin, box_start, (dx, dy))
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


def _rotation(dx: float, dy: float) -> str:
    """The a b c d of a text matrix that runs along the unit direction (dx, dy)."""
    return f"{pdf_number(dx, 5)} {pdf_number(dy, 5)} {pdf_number(-dy, 5)} {pdf_number(dx, 5)}"


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
