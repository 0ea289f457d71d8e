"""Split a recognised line into words and place each word on the page.

A CTC recogniser tells at which time step (so at which x in the line crop) it read each character,
but its peaks mark roughly where a character is, not where its ink starts and ends. So a word's ends
are estimated as half a character pitch around its first and last characters, then snapped to the
ink of the crop, searching only the gap towards the neighbouring words. The crop's corners then
map that span back onto the page through the crop's perspective matrix, so words on skewed or
rotated lines get skewed or rotated quads.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrcli.ctc import DecodedChar
from ocrcli.document import Line, Word
from ocrcli.geometry import map_points
from ocrcli.recognition import CROP_HEIGHT, LineCrop

# A blank this share of the crop height between two characters is a space: a fixed-pitch space is
# about 0.55 of it, the blank around a "." or ":" in its fixed-pitch cell about 0.25 (sroie,
# fast tier: case-insensitive CER 4.89 -> 4.42 %).
WIDE_BLANK = 0.38


def unspaced_script(char: str) -> bool:
    """Whether a character's script writes words without spaces between them (CJK, kana, hangul)."""
    return (
        "\u2e80" <= char <= "\ua4cf"  # CJK radicals, kana, CJK ideographs, Yi
        or "\uac00" <= char <= "\ud7af"  # hangul
        or "\uf900" <= char <= "\ufaff"  # CJK compatibility ideographs
        or "\uff00" <= char <= "\uffef"  # full-width forms
    )


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
    ink: np.ndarray | None = None,
    step_width: float = 0.0,
    min_blank: float = np.inf,
) -> list[list[DecodedChar]]:
    """Characters grouped into words: at the spaces the recogniser read, and, given the crop's ink
    columns, wherever two characters stand a blank of `min_blank` columns apart (a receipt's
    fixed-pitch "TEL : 07-386 7524", whose spaces the recogniser often drops)."""
    words: list[list[DecodedChar]] = [[]]
    for ch in chars:
        if ch.char.isspace():
            if words[-1]:
                words.append([])
            continue
        if words[-1] and ink is not None:
            left, right = char_centre(words[-1][-1], step_width), char_centre(ch, step_width)
            wide = widest_blank(left, right, ink)[1] >= min_blank
            if wide and not unspaced_script(words[-1][-1].char) and not unspaced_script(ch.char):
                words.append([])
        words[-1].append(ch)
    return [w for w in words if w]


def ink_columns(crop: np.ndarray) -> np.ndarray:
    """Which columns of a line crop hold ink (pixels far from the background, dark or light text)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    counts = np.bincount(grey.ravel(), minlength=256)
    background = int(np.searchsorted(np.cumsum(counts), grey.size / 2))  # the median grey
    distance = cv2.absdiff(grey, np.full_like(grey, background))
    contrast = max(30, int(0.4 * int(distance.max())))
    return (distance > contrast).any(axis=0)


def widest_blank(left: float, right: float, ink: np.ndarray) -> tuple[float, int]:
    """The middle and length of the widest blank run of columns in [left, right]."""
    lo, hi = int(max(left, 0)), int(min(right, len(ink)))
    best, best_len, run_start = (left + right) / 2, 0, None
    for x in range(lo, hi + 1):
        blank = x < hi and not ink[x]
        if blank and run_start is None:
            run_start = x
        elif not blank and run_start is not None:
            if x - run_start > best_len:
                best, best_len = (run_start + x) / 2, x - run_start
            run_start = None
    return best, best_len


@dataclass
class WordSpan:
    """A word read in a line crop: its text, confidence and extent along the crop (pixels)."""

    text: str
    confidence: float
    start: float
    end: float


def word_spans(chars: list[DecodedChar], step_width: float, crop: LineCrop) -> list[WordSpan]:
    """The words of a recognised line, each with its extent in the crop (snapped to the ink),
    within the line's part of the crop (all but its margin columns at each end)."""
    ink = ink_columns(crop.image)
    words_chars = split_words(chars, ink, step_width, WIDE_BLANK * crop.image.shape[0])
    if not words_chars:
        return []
    pitch = char_pitch(chars, step_width)

    # Word k lies between splits[k] and splits[k + 1].
    splits = [float(crop.margin)]
    for prev, nxt in zip(words_chars, words_chars[1:], strict=False):
        splits.append(
            widest_blank(char_centre(prev[-1], step_width), char_centre(nxt[0], step_width), ink)[0]
        )
    splits.append(float(crop.image.shape[1] - crop.margin))

    spans = []
    for k, wc in enumerate(words_chars):
        # The splits lie in blank gaps, so the ink between them is this word's.
        cols = np.flatnonzero(ink[int(splits[k]) : int(np.ceil(splits[k + 1]))])
        if len(cols):
            start, end = int(splits[k]) + float(cols[0]), int(splits[k]) + float(cols[-1]) + 1.0
        else:  # no ink found (faint print): trust the recogniser's positions
            start = max(splits[k], char_centre(wc[0], step_width) - pitch / 2)
            end = min(splits[k + 1], char_centre(wc[-1], step_width) + pitch / 2)
        text = "".join(c.char for c in wc)
        spans.append(WordSpan(text, float(np.mean([c.confidence for c in wc])), start, end))
    return spans


def mean_confidence(words: list[WordSpan]) -> float:
    """Word confidences weighted by length, like a mean over characters."""
    return float(np.average([w.confidence for w in words], weights=[len(w.text) for w in words]))


def place_line(spans: list[WordSpan], crop: LineCrop) -> Line | None:
    """A Line with its words in page coordinates, through the crop's matrix; None if no words.
    The line's quad is the crop's but for its margin columns at each end."""
    if not spans:
        return None
    words = []
    for span in spans:
        corners = np.array(
            [[span.start, 0], [span.end, 0], [span.end, CROP_HEIGHT], [span.start, CROP_HEIGHT]]
        )
        quad = tuple(float(v) for v in map_points(crop.matrix, corners).ravel())
        words.append(Word(span.text, quad, span.confidence))
    left, right = crop.margin, crop.image.shape[1] - crop.margin
    corners = np.array([[left, 0], [right, 0], [right, CROP_HEIGHT], [left, CROP_HEIGHT]])
    line_quad = tuple(float(v) for v in map_points(crop.matrix, corners).ravel())
    return Line(" ".join(w.text for w in words), line_quad, mean_confidence(spans), words)
