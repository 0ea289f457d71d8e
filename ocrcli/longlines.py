"""Line crops wider than the recogniser takes, cut into pieces at gaps between words and joined again.

The recogniser reads crops up to a fixed width (3,200 px at 48 px high). A longer line, squeezed to
fit, read worse the longer it was: lines of 40 px type 6,000 and 10,000 px long read as nothing.
So such a crop is cut at blank columns into pieces that fit, each piece is read on its own, and the
pieces' characters are put back into the crop's columns, with a space where the cut lay in a gap as
wide as a space between words. Model-neutral: inference is the caller's (recognition._read).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ocrcli.charset import unspaced_script
from ocrcli.ctc import DecodedChar
from ocrcli.ink import BlankRuns, ink_pixels, pad_with_background

# A blank run this share of the crop height wide (6 px) is a space between words. In a crop of
# docbank lines, blank runs of 1-3 px (inside words) and of 8-20 px (spaces) were nearly all there
# was. It matters only where a cut's reach (half the recogniser's width, some 15 words) holds no space.
WORD_GAP = 0.12


@dataclass(frozen=True)
class Cut:
    column: int  # crop column where one piece ends and the next begins
    between_words: bool  # in a blank gap as wide as a space


@dataclass(frozen=True)
class Piece:
    image: np.ndarray  # a part of the crop, with background columns added at the cut ends
    offset: int  # the crop column of the piece image's column 0


def find_cuts(crop: np.ndarray, max_width: int) -> list[Cut]:
    """Where to cut a crop so each piece is at most `max_width` columns wide (none if it fits).

    Each cut lies in the second half of the piece it ends, at the widest run of blank columns
    there: among some 15 words, that is a space (or a wider gap, between a table's columns).
    """
    if crop.shape[1] <= max_width:
        return []
    ink = ink_pixels(crop)
    blanks = BlankRuns(ink.any(axis=0))
    ink_per_column = ink.sum(axis=0)
    word_gap = WORD_GAP * crop.shape[0]
    cuts: list[Cut] = []
    start = 0
    while crop.shape[1] - start > max_width:
        low, high = start + max_width // 2, start + max_width
        middle, length = blanks.widest(low, high)
        if not length:
            # Ink in every column (a rule or underline runs through, or a script that joins its
            # letters): cut in the widest run of the columns with the least of it, a space if
            # the rule alone runs through it; a letter cut there may be misread.
            least = ink_per_column[low:high].min()
            middle, length = BlankRuns(ink_per_column > least).widest(low, high)
        cut = Cut(int(middle), length >= word_gap)
        cuts.append(cut)
        start = cut.column
    return cuts


def cut_pieces(crop: np.ndarray, cuts: list[Cut], margin: int) -> list[Piece]:
    """The crop cut at `cuts`, each cut end given `margin` columns of background (the recogniser
    drops a character that touches a crop's end)."""
    if not cuts:
        return [Piece(crop, 0)]
    bounds = [0, *(cut.column for cut in cuts), crop.shape[1]]
    pieces = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        left = margin if start > 0 else 0
        right = margin if end < crop.shape[1] else 0
        pieces.append(Piece(pad_with_background(crop[:, start:end], left, right), start - left))
    return pieces


def join_pieces(
    readings: list[tuple[list[DecodedChar], float]], pieces: list[Piece], cuts: list[Cut], step_width: float
) -> list[DecodedChar]:
    """The characters read in each piece ((characters, the piece's step width)), in time steps of
    `step_width` crop pixels along the whole crop, with a space at each cut between words."""
    joined: list[DecodedChar] = []
    for k, ((chars, piece_step), piece) in enumerate(zip(readings, pieces, strict=True)):
        moved = [_moved(char, piece_step, piece.offset, step_width) for char in chars]
        if k and cuts[k - 1].between_words and _spaced(joined, moved):
            step = int(cuts[k - 1].column // step_width)
            confidence = min(joined[-1].confidence, moved[0].confidence)
            joined.append(DecodedChar(" ", step, step, confidence))
        joined.extend(moved)
    return joined


def _moved(char: DecodedChar, piece_step: float, offset: int, step_width: float) -> DecodedChar:
    """A character read in a piece, its time steps counted from the crop's start instead."""

    def step(piece_steps: int) -> int:  # rounded half up, so a character keeps its length in steps
        return math.floor((piece_steps * piece_step + offset) / step_width + 0.5)

    return dataclasses.replace(char, first_step=step(char.first_step), last_step=step(char.last_step))


def _spaced(before: list[DecodedChar], after: list[DecodedChar]) -> bool:
    """Whether a space goes between two pieces' characters: both have some, neither already has a
    space at the cut, and the script there writes spaces (CJK does not)."""
    if not before or not after:
        return False
    left, right = before[-1].char, after[0].char
    return not (left.isspace() or right.isspace() or unspaced_script(left) or unspaced_script(right))
