"""Split a recognised line into words and place each word on the page.

A CTC recogniser tells at which time step (so at which x in the line crop) it read each character.
A word spans from half a character pitch before its first character to half a pitch after its last;
the crop's corners then map that span back onto the page through the crop's perspective matrix, so
words on skewed or rotated lines get skewed or rotated quads.
"""

from __future__ import annotations

import numpy as np

from ocrcli.ctc import DecodedChar
from ocrcli.document import Line, Word
from ocrcli.geometry import map_points
from ocrcli.recognition import CROP_HEIGHT


def char_pitch(chars: list[DecodedChar], step_width: float) -> float:
    """Average distance between neighbouring character centres, in crop pixels."""
    centres = [(c.first_step + c.last_step + 1) / 2 * step_width for c in chars]
    if len(centres) < 2:
        return CROP_HEIGHT * 0.5
    return (centres[-1] - centres[0]) / (len(centres) - 1)


def split_words(chars: list[DecodedChar]) -> list[list[DecodedChar]]:
    words: list[list[DecodedChar]] = [[]]
    for ch in chars:
        if ch.char.isspace():
            if words[-1]:
                words.append([])
        else:
            words[-1].append(ch)
    return [w for w in words if w]


def build_line(
    chars: list[DecodedChar], step_width: float, crop_width: int, matrix: np.ndarray
) -> Line | None:
    """A Line with its words, in page coordinates; None if nothing was read."""
    words_chars = split_words(chars)
    if not words_chars:
        return None
    pitch = char_pitch(chars, step_width)
    words = []
    for wc in words_chars:
        start = (wc[0].first_step + wc[0].last_step + 1) / 2 * step_width - pitch / 2
        end = (wc[-1].first_step + wc[-1].last_step + 1) / 2 * step_width + pitch / 2
        start, end = max(0.0, start), min(float(crop_width), end)
        corners = np.array([[start, 0], [end, 0], [end, CROP_HEIGHT], [start, CROP_HEIGHT]])
        quad = tuple(float(v) for v in map_points(matrix, corners).ravel())
        confidence = float(np.mean([c.confidence for c in wc]))
        words.append(Word("".join(c.char for c in wc), quad, confidence))
    corners = np.array([[0, 0], [crop_width, 0], [crop_width, CROP_HEIGHT], [0, CROP_HEIGHT]])
    line_quad = tuple(float(v) for v in map_points(matrix, corners).ravel())
    text = " ".join(w.text for w in words)
    confidence = float(np.mean([c.confidence for c in chars if not c.char.isspace()]))
    return Line(text, line_quad, confidence, words)
