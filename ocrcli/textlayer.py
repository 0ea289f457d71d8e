"""The invisible text layer of one page: a content stream that draws each word on its box.

Each word is drawn in text render mode 3 (invisible) with a text matrix along its quad, so skewed
lines and lines on turned pages follow their text: the font size is the median word height of the
page (the font is one em from descender to ascender, see pdffont), the em box is centred on the
quad's middle line, and horizontal scaling stretches the word's advance to the quad's width. Between two
words of a row (a line, or lines side by side like a receipt's item and price) an explicit space is
drawn, scaled to fill exactly the gap to the next word, so extractors that read spaces and those
that infer word breaks from positions both see two words, and layout-analysing extractors see one
row. Rows follow in reading order; each starts a new text matrix, which extractors read as a new line.

Coordinates: the stream is in points of the page as displayed, origin bottom-left; the caller maps
that frame onto the PDF page (see pdfgraft).
"""

from __future__ import annotations

import math
import statistics

from ocrcli.document import Page, Quad
from ocrcli.pdffont import ADVANCE_EM, DESCENT_EM, GlyphlessFont

FONT_RESOURCE = "/OcrcliFont"
MIN_SPACE_PT = 0.05  # the space drawn between words is never narrower
MIN_GAP_EM = 0.25  # gap left between words: poppler -raw needs over 0.15 em to print a space
MAX_TRIM = 0.3  # a word gives up at most this share of its width to make that gap
SAME_SPOT_EM = 0.05  # a word starting this close to where the last one left off needs no Tm


def layer_content(page: Page, font: GlyphlessFont, points_per_px: float, height_pt: float) -> bytes:
    """The page's text layer as a content stream in displayed-page points."""
    size = _font_size(page, points_per_px, height_pt)
    if size is None:
        return b""
    ops = ["BT", "3 Tr", f"{FONT_RESOURCE} {_num(size)} Tf"]
    space = font.encode(" ").hex()
    for row in page.rows():
        placed = [
            (word.text.strip(), frame)
            for line in row
            for word in line.words
            if word.text.strip() and (frame := _word_frame(word.quad, points_per_px, height_pt, size))
        ]
        pen = None  # where the text position is after the previous word and its space
        for i, (text, (origin, (dx, dy), width)) in enumerate(placed):
            gap = None
            if i + 1 < len(placed):
                # The gap along the baseline to the next word's start. Extractors that find word
                # breaks by position need a gap of about 0.1 em: touching words are trimmed to leave it.
                ahead = placed[i + 1][1][0]
                gap = (ahead[0] - origin[0]) * dx + (ahead[1] - origin[1]) * dy - width
                trim = min(max(0.0, MIN_GAP_EM * size - gap), width * MAX_TRIM)
                width, gap = width - trim, gap + trim
            if pen is None or _distance(pen, origin) > SAME_SPOT_EM * size or pen[2] != (dx, dy):
                rotation = f"{_num(dx, 5)} {_num(dy, 5)} {_num(-dy, 5)} {_num(dx, 5)}"
                ops.append(f"{rotation} {_num(origin[0])} {_num(origin[1])} Tm")
            ops.append(f"{_num(_scaling(width, len(text), size), 1)} Tz <{font.encode(text).hex()}> Tj")
            # The space after a word spans the gap to the next one, so the next word usually starts
            # where the space leaves the text position and needs no text matrix of its own.
            space_width = max(gap, MIN_SPACE_PT) if gap is not None else MIN_SPACE_PT
            ops.append(f"{_num(_scaling(space_width, 1, size), 1)} Tz <{space}> Tj")
            advance = width + space_width
            pen = (origin[0] + dx * advance, origin[1] + dy * advance, (dx, dy)) if gap is not None else None
    ops.append("ET")
    return ("\n".join(ops) + "\n").encode("ascii")


def _font_size(page: Page, points_per_px: float, height_pt: float) -> float | None:
    """One font size for the page: the median word height. Extractors that find lines, paragraphs
    and columns by layout (poppler, pdfminer) keep text of differing sizes apart, and detected line
    heights vary by a few pixels from line to line."""
    heights = [
        frame[3]
        for line in page.lines
        for word in line.words
        if (frame := _quad_frame(word.quad, points_per_px, height_pt))
    ]
    return round(statistics.median(heights), 2) if heights else None


def _word_frame(
    quad: Quad, points_per_px: float, height_pt: float, size: float
) -> tuple[tuple[float, float], tuple[float, float], float] | None:
    """(baseline origin, unit direction, width) of a word drawn at `size`, its em box centred on
    the quad's middle line, in displayed-page points."""
    frame = _quad_frame(quad, points_per_px, height_pt)
    if frame is None:
        return None
    middle_left, (dx, dy), width, _ = frame
    drop = size * (0.5 - DESCENT_EM)  # from the em box's middle down to the baseline
    return (middle_left[0] + dy * drop, middle_left[1] - dx * drop), (dx, dy), width


def _quad_frame(
    quad: Quad, points_per_px: float, height_pt: float
) -> tuple[tuple[float, float], tuple[float, float], float, float] | None:
    """(middle of the left edge, unit direction, width, height) of a quad in displayed-page points."""
    # Image pixels (y down) to points (y up).
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = (
        (quad[2 * i] * points_per_px, height_pt - quad[2 * i + 1] * points_per_px) for i in range(4)
    )
    along = ((x1 - x0 + x2 - x3) / 2, (y1 - y0 + y2 - y3) / 2)  # left to right along the text
    up = ((x0 - x3 + x1 - x2) / 2, (y0 - y3 + y1 - y2) / 2)  # bottom to top
    width, height = math.hypot(*along), math.hypot(*up)
    if width <= 0.01 or height <= 0.01:
        return None
    return ((x0 + x3) / 2, (y0 + y3) / 2), (along[0] / width, along[1] / width), width, height


def _distance(a: tuple, b: tuple) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _scaling(width: float, chars: int, size: float) -> float:
    """Horizontal scaling (percent) that makes `chars` glyphs of `size` span `width`."""
    return 100.0 * width / (chars * ADVANCE_EM * size)


def _num(value: float, digits: int = 2) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
