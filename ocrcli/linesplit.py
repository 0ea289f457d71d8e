"""Lines the detector ran across a column gutter, cut apart for the reading order.

Where two columns stand close (a gutter of half a line height), the detector sometimes finds one
line across both: "Apart from the perceived advantage of sparse repre- where each Dlk is an element"
(docbank 219). No column gutter is then free of line boxes, so the reading order mixed the columns,
and so did every PDF viewer reading the text layer. So a line is cut at a wide gap between words
where the gap lines up with a gutter of the lines around it: other lines' text ends at its left
edge and starts at its right edge, as it does at the edges of two columns. One side must be a
column wide; the other may be a single word (the line before a displayed equation: "... val- from",
docbank 98). A wide space in justified text lines up with nothing; a running head's, a caption's or
a headline's wide spaces are not cut either (both sides are short, or the line is much taller than
body text).
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics

from ocrcli.document import Box, Line, Word, mean_confidence

WIDE_GAP = 0.6  # in median line heights; gutters the detector ran across measured 0.75-1.1
COLUMN_WIDTH = 6.0  # the text on one side of a cut reaches at least this many line heights
TALL = 1.6  # lines taller than this many median heights are not cut (a line run across two
# columns measured 1.5: its halves sit a little apart vertically)
ALIGN = 0.5  # how close (line heights) another line's end or start must be to a gap's edge...
REACH = 8.0  # ...lying within this many line heights above or below...
SUPPORT = 2  # ...and how many such ends, and as many starts, make the gap a gutter
OVERREACH = 0.5  # line heights a detected quad may reach past its words before the reading order
# sees it cut to them (see reading_box)

Gap = tuple[int, float, float]  # index of the word after the gap, the gap's left and right x


def cut_at_gutters(lines: list[Line]) -> list[list[list[Word]]]:
    """Per line, its words in groups: one group, or several where it crosses a column gutter."""
    if not lines:
        return []
    # Heights across each line (its quad's, not its box's: a long line on a tilted scan has a tall box).
    height = statistics.median(_frame(line)[2] for line in lines)
    gaps = [_wide_gaps(line, height) for line in lines]
    # Where column text ends and starts (x, y, line): the two ends of each line at least a column
    # wide. Wide spaces inside lines are not counted: in a narrow justified column they are common
    # enough to line up by chance.
    columns = [(i, ln) for i, ln in enumerate(lines) if ln.box[2] - ln.box[0] >= COLUMN_WIDTH * height]
    # Kept sorted by y (y, x, line), so each count looks only at lines within reach.
    ends = sorted((_middle(ln), ln.box[2], i) for i, ln in columns)
    starts = sorted((_middle(ln), ln.box[0], i) for i, ln in columns)

    def aligned(points: list[tuple[float, float, int]], x: float, y: float, line: int) -> int:
        first = bisect.bisect_left(points, (y - REACH * height,))
        last = bisect.bisect_right(points, (y + REACH * height, math.inf))
        return sum(1 for _, px, i in points[first:last] if i != line and abs(px - x) <= ALIGN * height)

    # A cut line's pieces are column text too: cut lines support their neighbours, one after the
    # other (a run of lines all run across the gutter has no uncut neighbour but at its ends).
    cuts: list[list[int]] = [[] for _ in lines]
    candidates = [i for i, line_gaps in enumerate(gaps) if line_gaps]
    changed = True
    while changed:
        changed = False
        for i in candidates:
            y = _middle(lines[i])
            for k, left, right in gaps[i]:
                if (
                    k in cuts[i]
                    or aligned(ends, left, y, i) < SUPPORT
                    or aligned(starts, right, y, i) < SUPPORT
                ):
                    continue
                cuts[i].append(k)
                bisect.insort(ends, (y, left, i))
                bisect.insort(starts, (y, right, i))
                changed = True
    groups = []
    for line, line_cuts in zip(lines, cuts, strict=True):
        bounds = [0, *sorted(line_cuts), len(line.words)]
        groups.append([line.words[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])
    return groups


def _wide_gaps(line: Line, height: float) -> list[Gap]:
    """Gaps between a line's words wide enough for a gutter, with a column's width of text on one side."""
    if len(line.words) < 2 or not 0 < _frame(line)[2] <= TALL * height or not _length(line):
        return []
    first, last = line.box[0], line.box[2]
    gaps = []
    end = line.words[0].box[2]
    for k, word in enumerate(line.words[1:], start=1):
        left, right = end, word.box[0]
        if right - left >= WIDE_GAP * height and max(left - first, last - right) >= COLUMN_WIDTH * height:
            gaps.append((k, left, right))
        end = max(end, word.box[2])
    return gaps


def _middle(line: Line) -> float:
    return (line.box[1] + line.box[3]) / 2


def part_line(line: Line, words: list[Word]) -> Line:
    """The part of `line` that holds `words` (words of it, in order: consecutive ones, or those
    --force keeps): the line itself if they are all its words, else a line with its quad cut to
    their extent along the line."""
    return line if len(words) == len(line.words) else _cut(line, words, 0.0)


def kept_parts(line: Line, kept: list[bool]) -> list[Line]:
    """The parts of `line` that hold the words `kept` says to keep, one per run of consecutive
    ones: a line's box, quad and confidence were the whole line's, the page's own text included,
    where a script cropping or redacting it looks (a part across a dropped word took it in)."""
    runs = itertools.groupby(zip(line.words, kept, strict=True), key=lambda pair: pair[1])
    return [part_line(line, [word for word, _ in run]) for keep, run in runs if keep]


def reading_box(line: Line, words: list[Word]) -> Box:
    """The box the reading order sees for `words` (some or all of `line`'s): the box of their part
    of the line, whose ends are also cut to the words where the detector's quad reaches more than
    OVERREACH of its height past them. It then took in ink that is no text read: at a column's
    edge it ran into the gutter ("spike in April 2016. This marks the next great war," 32 px past
    its last word, docbank 98), and with it no gutter was free of boxes."""
    return _cut(line, words, OVERREACH * _frame(line)[2]).box


def _cut(line: Line, words: list[Word], slack: float) -> Line:
    """`line` with its quad cut to the extent of `words` along it, but for an end within `slack`
    of theirs, which stays where it is."""
    length = _length(line)
    if not length:
        return line
    origin, direction, _ = _frame(line)
    starts, ends = zip(*(_extent(w, origin, direction) for w in words), strict=True)
    first = min(starts) if min(starts) > slack else 0.0
    last = max(ends) if max(ends) < length - slack else length
    t0, t1 = (min(max(v / length, 0.0), 1.0) for v in (first, last))
    p0, p1, p2, p3 = ((line.quad[2 * i], line.quad[2 * i + 1]) for i in range(4))
    corners = [_between(p0, p1, t0), _between(p0, p1, t1), _between(p3, p2, t1), _between(p3, p2, t0)]
    return Line(
        " ".join(w.text for w in words),
        tuple(v for corner in corners for v in corner),
        mean_confidence(words),
        list(words),
        line.block,
    )


def _between(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def _frame(line: Line) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The line's top-left corner, the unit direction it reads along and its height."""
    x0, y0, x1, y1, _, _, x3, y3 = line.quad
    length = _length(line)
    direction = ((x1 - x0) / length, (y1 - y0) / length) if length else (1.0, 0.0)
    return (x0, y0), direction, ((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5


def _length(line: Line) -> float:
    x0, y0, x1, y1 = line.quad[:4]
    return ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5


def _extent(word: Word, origin: tuple[float, float], direction: tuple[float, float]) -> tuple[float, float]:
    """Where a word starts and ends along the line, from its top-left corner."""
    along = [
        (word.quad[2 * i] - origin[0]) * direction[0] + (word.quad[2 * i + 1] - origin[1]) * direction[1]
        for i in range(4)
    ]
    return min(along), max(along)
