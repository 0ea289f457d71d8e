"""Split a recognised line into words and place each word on the page.

A CTC recogniser tells at which time step (so at which x in the line crop) it read each character,
but its peaks mark roughly where a character is, not where its ink starts and ends. So a word's ends
are estimated as half a character pitch around its first and last characters, then snapped to the
ink of the crop, searching only the gap towards the neighbouring words. The crop's corners then
map that span back onto the page through the crop's perspective matrix, so words on skewed or
rotated lines get skewed or rotated quads.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ocrcli.charset import unspaced_script
from ocrcli.ctc import DecodedChar
from ocrcli.document import Line, Word, mean_confidence
from ocrcli.geometry import map_points
from ocrcli.ink import BlankRuns, ink_columns
from ocrcli.recognition import CROP_HEIGHT, LineCrop

# A blank this share of the crop height between two characters is a space: a fixed-pitch space is
# about 0.55 of it, the blank around a "." or ":" in its fixed-pitch cell about 0.25 (sroie,
# fast tier: case-insensitive CER 4.89 -> 4.42 %).
WIDE_BLANK = 0.38


def char_centre(ch: DecodedChar, step_width: float) -> float:
    """Where in the crop (pixels) the recogniser read a character: the middle of its time steps."""
    return (ch.first_step + ch.last_step + 1) / 2 * step_width


def char_pitch(chars: list[DecodedChar], step_width: float) -> float:
    """Average distance between neighbouring character centres, in crop pixels."""
    centres = [char_centre(c, step_width) for c in chars]
    if len(centres) < 2:
        return CROP_HEIGHT * 0.5
    return (centres[-1] - centres[0]) / (len(centres) - 1)


def split_words(
    chars: list[DecodedChar],
    blanks: BlankRuns | None = None,
    step_width: float = 0.0,
    min_blank: float = np.inf,
) -> list[list[DecodedChar]]:
    """Characters grouped into words: at the spaces the recogniser read, and, given the crop's
    blank runs, wherever two characters stand a blank of `min_blank` columns apart (a receipt's
    fixed-pitch "TEL : 07-386 7524", whose spaces the recogniser often drops)."""
    words: list[list[DecodedChar]] = [[]]
    for ch in chars:
        if ch.char.isspace():
            if words[-1]:
                words.append([])
            continue
        if words[-1] and blanks is not None:
            left, right = char_centre(words[-1][-1], step_width), char_centre(ch, step_width)
            wide = blanks.widest(left, right)[1] >= min_blank
            if wide and not unspaced_script(words[-1][-1].char) and not unspaced_script(ch.char):
                words.append([])
        words[-1].append(ch)
    return [w for w in words if w]


@dataclass
class WordSpan:
    """A word read in a line crop: its text, confidence and extent along the crop (pixels)."""

    text: str
    confidence: float
    start: float
    end: float
    weakest: float | None = None  # the least confident of its characters, where known
    # (position in text, letters) the recogniser nearly read there (see ligatures)
    nearly_read: tuple[tuple[int, str], ...] = ()


def word_spans(chars: list[DecodedChar], step_width: float, crop: LineCrop) -> list[WordSpan]:
    """The words of a recognised line, each with its extent in the crop (snapped to the ink),
    within the line's part of the crop (all but its margin columns at each end)."""
    ink = ink_columns(crop.image)
    blanks = BlankRuns(ink)
    words_chars = split_words(chars, blanks, step_width, WIDE_BLANK * crop.image.shape[0])
    if not words_chars:
        return []
    pitch = char_pitch(chars, step_width)

    # Word k lies between splits[k] and splits[k + 1].
    line_start, line_end = crop.line_part
    splits = [line_start]
    for prev, nxt in zip(words_chars, words_chars[1:], strict=False):
        splits.append(blanks.widest(char_centre(prev[-1], step_width), char_centre(nxt[0], step_width))[0])
    splits.append(line_end)

    spans = []
    for k, wc in enumerate(words_chars):
        # The splits lie in blank gaps, so the ink between them is this word's.
        extent = _ink_extent(ink, splits[k], splits[k + 1])
        if extent is None:  # no ink found (faint print): trust the recogniser's positions
            extent = (
                max(splits[k], char_centre(wc[0], step_width) - pitch / 2),
                min(splits[k + 1], char_centre(wc[-1], step_width) + pitch / 2),
            )
        start, end = extent
        text = "".join(c.char for c in wc)
        confidences = [c.confidence for c in wc]
        near = _nearly_read(wc)
        spans.append(WordSpan(text, sum(confidences) / len(wc), start, end, min(confidences), near))
    return spans


def _nearly_read(chars: list[DecodedChar]) -> tuple[tuple[int, str], ...]:
    """Where in the word's text (the position after a character) letters were nearly read."""
    ends = itertools.accumulate(len(c.char) for c in chars)
    return tuple((end, c.nearly_next) for c, end in zip(chars, ends, strict=True) if c.nearly_next)


def whole_line_word(text: str, confidence: float, crop: LineCrop) -> WordSpan:
    """A word that is the whole of a line crop: its extent is the ink of the line's part (the
    whole line part if it has no ink)."""
    start, end = _ink_extent(ink_columns(crop.image), *crop.line_part) or crop.line_part
    return WordSpan(text, confidence, start, end)


def _ink_extent(ink: np.ndarray, start: float, end: float) -> tuple[float, float] | None:
    """From the first to past the last column with ink in [start, end); None if none has."""
    cols = np.flatnonzero(ink[int(start) : int(np.ceil(end))])
    if not len(cols):
        return None
    return int(start) + float(cols[0]), int(start) + float(cols[-1]) + 1.0


def place_line(spans: list[WordSpan], crop: LineCrop) -> Line | None:
    """A Line with its words in page coordinates, through the crop's matrix; None if no words.
    The line's quad is the crop's but for its margin columns at each end."""
    if not spans:
        return None
    left, right = crop.line_part
    # One mapping for all corners: the words' quads, then the line's.
    spans_x = [(span.start, span.end) for span in spans] + [(left, right)]
    corners = [
        (x, y) for x0, x1 in spans_x for x, y in ((x0, 0), (x1, 0), (x1, CROP_HEIGHT), (x0, CROP_HEIGHT))
    ]
    quads = map_points(crop.matrix, corners).reshape(-1, 8).tolist()
    words = [
        Word(span.text, tuple(quad), span.confidence) for span, quad in zip(spans, quads[:-1], strict=True)
    ]
    line_quad = tuple(quads[-1])
    return Line(" ".join(w.text for w in words), line_quad, mean_confidence(spans), words)
