"""The gaps between the text layer's words: how wide each word is drawn so that readers which find
word breaks by position keep neighbouring words apart, and keep a line's words together.

Touching or overlapping words are drawn narrower where a reader would run them together (see
with_gaps): poppler -raw prints a space only at a gap over 0.15 em; poppler's default mode takes
words of neighbouring rows into one line, prints those under 0.03 em apart (its maxCharSpacing)
as one, and takes a row of single letters for letter-spaced text. The words of a line drawn small
beside a column are drawn wider instead (see closer_words), where poppler would break the line
into pieces.
"""

from __future__ import annotations

import bisect
import itertools

from ocrcli.layergeometry import Frame, Point, distance_along, least_width, level_of
from ocrcli.layerplacement import RowWords
from ocrcli.readerrules import (
    POPPLER_COLUMN_SPACE,
    POPPLER_LINE_OVERLAP,
    POPPLER_LINE_SPREAD,
    POPPLER_WORD_SPACING,
)

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
CLOSER_GAP, MAX_WIDEN = 0.5, 0.25  # see closer_words

Placed = tuple[str, Frame, float | None, float, int]  # text, frame, gap to the next (None: last), size, box


def with_gaps(rows: list[RowWords]) -> list[list[Placed]]:
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
        min(width * MAX_TRIM, max(0.0, width - least_width(text, size)))
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
        _part(frames, budgets, i, i + 1, gap_em * size - (distance_along(origin, ahead, direction) - width))
    _part_across_rows(flat, frames, budgets, [k for k, row in enumerate(rows) for _ in row])
    row_ends = {i - 1 for i in row_starts} | {len(flat) - 1}
    words = (
        (
            text,
            (origin, direction, width),
            None if i in row_ends else distance_along(origin, frames[i + 1][0], direction) - width,
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
    row's first word only missed sroie 024 turned -2 degrees, "03-3271No.:000689913856"). On a receipt
    turned 2 degrees (sroie 100), whose rows, drawn in a table's size (see layersizes.TABLE_SIZE),
    lie under an em apart, "SPRAY" of one row and "Total" of the next, lower and 0.3 em into it,
    came out as "SPRAYTotal". Allowed all of MAX_TRIM, the pieces of docbank 189's formulas, parted
    from several neighbours, fell off their boxes (IoU 0.45-0.48, a few of them lying off their
    line's level too); at 0.25, pages turned 3 degrees still had words run together (docbank 126:
    "Coordinate100along"). `row_of` gives the row of each word."""
    allowed = [
        max(0.0, min(budget, MAX_CROSS_TRIM * width - (width - frame[2])))
        for budget, (_, (_, _, width), _, _), frame in zip(budgets, flat, frames, strict=True)
    ]
    levels = sorted((level_of(origin, direction), k) for k, (origin, direction, _) in enumerate(frames))
    keys = [level for level, _ in levels]
    for start in range(len(flat)):
        origin, direction, _ = frames[start]
        size, base = flat[start][2], level_of(origin, direction)
        low = bisect.bisect_right(keys, base - POPPLER_LINE_SPREAD * size)
        high = bisect.bisect_left(keys, base + POPPLER_LINE_SPREAD * size)
        ahead = {
            k: distance_along(origin, frames[k][0], direction)
            for _, k in levels[low:high]
            if frames[k][1] == direction
        }
        line = sorted((k for k, along in ahead.items() if along >= 0), key=ahead.__getitem__)
        for first, second in itertools.pairwise(line):
            gap = distance_along(frames[first][0], frames[second][0], direction) - frames[first][2]
            if not -POPPLER_LINE_OVERLAP * size < gap < POPPLER_WORD_SPACING * size:
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
    level_apart = abs(level_of(ahead, direction) - level_of(origin, direction))
    return level_apart < 0.5 * size and distance_along(origin, ahead, direction) > width - 0.5 * size


def closer_words(words: list[tuple[str, Frame]], size: float, em: float) -> list[tuple[str, Frame]]:
    """The words of a line drawn in `size`, smaller than its own size `em` (see
    layersizes.inset_sizes), each widened into the gaps beside it by up to MAX_WIDEN of its width on
    either side, so that the gaps poppler bridges at `em` (under POPPLER_COLUMN_SPACE of it) come
    down to CLOSER_GAP of `size`. poppler takes into a block only words within 0.7 of its font size
    (or 1.0, for up to three words beside it): docbank 10 turned 2 degrees, whose right column is
    drawn at 0.38 times its size, came out of pdftotext in pieces of lines, read out of order (order
    0.878). Widened by a quarter on both sides, a word still covers its box at IoU 0.67."""
    frames = [[origin, direction, width] for _, (origin, direction, width) in words]
    for i in range(len(frames) - 1):
        (origin, direction, width), (ahead, ahead_direction, _) = frames[i], frames[i + 1]
        if ahead_direction != direction:
            continue
        gap = distance_along(origin, ahead, direction) - width
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
