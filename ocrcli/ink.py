"""Ink and background in a line crop: which columns hold ink, and the blank runs between them."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import cv2
import numpy as np

from ocrcli import skew
from ocrcli.geometry import scaled

INK_SHARE = 0.4  # see ink_pixels
STACKED_BAND, STACKED_GAP = 0.25, 0.15  # see stacked_cuts


def ink_pixels(crop: np.ndarray) -> np.ndarray:
    """Which pixels of a line crop are ink (far from the background, dark or light text): farther
    than INK_SHARE of the farthest, and than 30 grey levels."""
    distance = _ink_distance(crop)
    return distance > _contrast(distance, INK_SHARE)


def _ink_distance(image: np.ndarray) -> np.ndarray:
    """Each pixel's grey level's distance from the background's, the median grey."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    # np.bincount's counts, 4 times faster on a page (exact below 2**24 pixels a grey level).
    counts = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    background = int(np.searchsorted(np.cumsum(counts), grey.size / 2))
    return cv2.absdiff(grey, np.full_like(grey, background))


def _contrast(distance: np.ndarray, share: float) -> int:
    """The distance beyond which a pixel is ink: `share` of the farthest, and 30 or more."""
    return max(30, int(share * int(distance.max())))


def ink_contrast(crop: np.ndarray) -> float:
    """How far a line crop's ink stands out from its background: from the median grey to the
    1st or the 99th percentile, whichever is farther (dark text on light paper, or light on dark)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    low, middle, high = grey_percentiles(grey, (1, 50, 99))
    return float(max(middle - low, high - middle))


def grey_percentiles(grey: np.ndarray, percents: tuple[float, ...]) -> np.ndarray:
    """np.percentile of an 8-bit image (linear interpolation, the same values), from its histogram:
    0.03 ms for a line crop where np.percentile's sort took 0.3 ms (some 90 crops a page)."""
    cumulative = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    rank = np.asarray(percents) / 100 * (cumulative[-1] - 1)  # in the sorted pixels
    below = np.floor(rank)
    low = np.searchsorted(cumulative, below, side="right")  # the value at that rank
    high = np.searchsorted(cumulative, np.minimum(below + 1, cumulative[-1] - 1), side="right")
    return low + (high - low) * (rank - below)


def ink_columns(crop: np.ndarray) -> np.ndarray:
    """Which columns of a line crop hold ink."""
    return ink_pixels(crop).any(axis=0)


def pad_with_background(crop: np.ndarray, left: int, right: int) -> np.ndarray:
    """The crop with columns of its background colour (the median of its top and bottom rows,
    which lie outside the text) added at each end."""
    background = np.median(np.concatenate([crop[0], crop[-1]]), axis=0)
    return cv2.copyMakeBorder(crop, 0, 0, left, right, cv2.BORDER_CONSTANT, value=background.tolist())


class BlankRuns:
    """The runs of blank (inkless) columns of a line crop, to find the widest between two points.

    Words are split and snapped at blanks between every pair of neighbouring characters, so the
    runs are found once per line (a column-by-column search per pair took 13 ms a docbank page).
    """

    def __init__(self, ink: np.ndarray):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], ~ink.astype(bool), [0])).astype(np.int8)))
        self.starts: list[int] = edges[0::2].tolist()  # each run is columns start..end-1
        self.ends: list[int] = edges[1::2].tolist()

    def widest(self, left: float, right: float) -> tuple[float, int]:
        """The middle and length of the widest blank run of columns in [left, right) (the first
        of equal ones; the middle of the span and 0 if none)."""
        lo, hi = int(max(left, 0)), int(right)
        best, best_len = (left + right) / 2, 0
        for k in range(bisect.bisect_right(self.ends, lo), len(self.starts)):
            start, end = max(self.starts[k], lo), min(self.ends[k], hi)
            if start >= hi:
                break
            if end - start > best_len:
                best, best_len = (start + end) / 2, end - start
        return best, best_len


def horizontal_rules(
    page: np.ndarray, min_length: int, max_thickness: float, degrees: float = 0.0
) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, y0, x1, y1) of the horizontal rules of the page turned level, when its text runs
    `degrees` clockwise of level (see skew.turned_image: a rule 3 degrees off level is no long level
    run): runs of dark pixels (grey under 192, so that a table's thin grey border counts) at least
    `min_length` long, at most `max_thickness` thick. The dark mask is eroded by the run length and
    the outlines of what is left found (4 ms on a receipt photo, where labelling the opened mask's
    components took 18)."""
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) if page.ndim == 3 else page
    if degrees:
        # Turned by the nearest pixel, and by the skew of the text (a tenth of a degree off the
        # rules'), a thin rule steps from row to row: a pixel is as dark as the darkest of its column's
        # three rows around it, so that the steps join into one run.
        grey = cv2.erode(skew.turned_image(grey, -degrees, fill=255), np.ones((3, 1), np.uint8))
    length = max(min_length, 2)
    runs = cv2.erode((grey < 192).astype(np.uint8), np.ones((1, length), np.uint8))  # anchor: its middle
    outlines, _ = cv2.findContours(runs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    before, after = length // 2, length - 1 - length // 2  # the run's pixels either side of the anchor
    return [
        (float(x - before), float(y), float(x + w + after), float(y + h))
        for x, y, w, h in map(cv2.boundingRect, outlines)
        if h <= max_thickness
    ]


# Coloured ink over black text (a red or blue rubber stamp, a pen's ring round a word) joins or
# breaks the detector's lines under it. Such ink is washed out of the page the lines are found on:
# pixels whose channels differ by COLOURED or more, in strokes that touch dark neutral ink (channels
# within COLOURED, the brightest under DARK) at TOUCHING pixels or more, and that fill less than
# STROKES of the area within 2 px of them, all on the page scaled down to WASH_SIDE px on its
# long side. Solid colour (a figure's filled boxes with white labels, a highlighter's band) fills
# more and is left alone, as is coloured ink that touches no black (headings, links, labels).
# The strokes' own text (a stamp's words) is then looked for on them alone (Stamps.ink).
WASH_SIDE, COLOURED, DARK, TOUCHING, STROKES = 1024, 40, 110, 20, 0.65
# Most of a stamp's ink lies away from the text it crosses; the colour fringes a JPEG leaves
# round black letters lie all beside them (73-93 % of their pixels, a stamp's 1-40 %).
BESIDE = 0.5
# A stamp is inked on paper: half or more of its box that is not its ink is light, PAPER or
# brighter (56-100 % on the stamp sets; a dark wooden table's grain round a receipt photographed
# on it, or a slide's textured background, 0-26 %, where thin dark grain beside brown was washed).
PAPER = 128
TINTED = 15  # in a washed stroke's reach, pixels this coloured are washed too (its faint edges)


def _channel_spread(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of an RGB image: its brightest channel, and how far its channels spread."""
    red, green, blue = cv2.split(image)
    brightest = cv2.max(cv2.max(red, green), blue)
    return brightest, cv2.subtract(brightest, cv2.min(cv2.min(red, green), blue))


@dataclass
class Stamps:
    """A page's coloured strokes over its text (see wash_stamps), in page pixels."""

    washed: np.ndarray  # the page with them washed out: the ink paper white, black kept
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) round all of them
    # Them alone within the box, grey on white: their darkest channel, and under the text they
    # cross a guess from round it.
    ink: np.ndarray


def wash_stamps(page: np.ndarray) -> Stamps | None:
    """The page's coloured strokes over black text (a rubber stamp, a pen's ring round a word),
    washed out of it and on their own; or None if it has none. See COLOURED."""
    height, width = page.shape[:2]
    # Strokes are judged on the page at one size, whatever its resolution (a smaller one as it
    # is): at whole steps of scale, a stamp on a 1,535 px page was judged at full size, its strokes
    # too thick to count as strokes (solid colour), and at 1,536 px at half size.
    scale = min(1.0, WASH_SIDE / max(height, width))
    small = scaled(page, scale) if scale < 1 else page
    brightest, spread = _channel_spread(small)
    coloured = (spread >= COLOURED).astype(np.uint8)
    if cv2.countNonZero(coloured) < TOUCHING:
        return None
    neutral = ((spread < COLOURED) & (brightest < DARK)).astype(np.uint8)
    # Type is thin: dark areas a 5 px square fits in (a picture's shadows, a slide's marble
    # background) are no text for a stroke to cross.
    text = neutral & ~cv2.morphologyEx(neutral, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    touching = coloured & cv2.dilate(text, np.ones((3, 3), np.uint8))
    if cv2.countNonZero(touching) < TOUCHING:
        return None
    strokes = cv2.dilate(coloured, np.ones((5, 5), np.uint8))  # a stamp's blotchy strokes joined
    count, labels, stats, _ = cv2.connectedComponentsWithStats(strokes)
    touches = np.bincount(labels.ravel(), weights=touching.ravel(), minlength=count)
    inked = np.bincount(labels.ravel(), weights=coloured.ravel(), minlength=count)
    # Ink as dark as type (its brightest channel under DARK on average) is text printed in that
    # colour, not a stamp: in dark green or dark red text saved as JPEG or WebP, pixels inside the
    # letters lose their colour to the compression and read as black type the ink crosses, and
    # the text itself was washed out (20 of phototest's 60 words left). Such text measured 51-86,
    # stamp and pen inks 130-210 (dark red and navy included).
    lightness = np.bincount(labels.ravel(), weights=(brightest * coloured).ravel(), minlength=count)
    washing = (
        (touches >= TOUCHING)
        & (touches <= BESIDE * inked)
        & (inked < STROKES * stats[:, cv2.CC_STAT_AREA])
        & (lightness >= DARK * inked)
    )
    washing[0] = False  # the background
    if washing.any():  # on paper: light where it is not inked (see PAPER)
        boxes = stats[:, :4].astype(np.int64)
        x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]

        def within(mask: np.ndarray) -> np.ndarray:  # each part's box's count of `mask`
            summed = cv2.integral(mask)
            return summed[y1, x1] - summed[y0, x1] - summed[y1, x0] + summed[y0, x0]

        paper = within(((brightest >= PAPER) & (coloured == 0)).astype(np.uint8))
        washing &= 2 * paper >= within(1 - coloured)
    if not washing.any():
        return None
    small_height, small_width = labels.shape
    parts = []  # each washed part: its label, its box on the small page and on the page
    for part in np.flatnonzero(washing):
        x, y, w, h = stats[part, :4]
        x, y = max(0, x - 1), max(0, y - 1)  # a small pixel more each side, for the stroke's edges
        w, h = min(small_width, x + w + 2) - x, min(small_height, y + h + 2) - y
        page_box = (
            int(x / scale),
            int(y / scale),
            min(width, math.ceil((x + w) / scale)),
            min(height, math.ceil((y + h) / scale)),
        )
        parts.append((part, (x, y, w, h), page_box))
    corners = np.array([page_box for _, _, page_box in parts])
    box = (
        int(corners[:, 0].min()),
        int(corners[:, 1].min()),
        int(corners[:, 2].max()),
        int(corners[:, 3].max()),
    )
    washed, ink = page.copy(), np.full((box[3] - box[1], box[2] - box[0]), 255, np.uint8)
    for part, (x, y, w, h), (x0, y0, x1, y1) in parts:
        near = cv2.dilate((labels[y : y + h, x : x + w] == part).astype(np.uint8), np.ones((3, 3), np.uint8))
        near = cv2.resize(near, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST).astype(bool)
        region = washed[y0:y1, x0:x1]
        light, tint = _channel_spread(region)
        wash = near & (tint >= TINTED)
        alone = ink[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]]
        alone[wash] = cv2.subtract(light, tint)[wash]  # the darkest channel: red or blue ink dark
        # The text it crosses would leave white letters in it, which read as text: filled from round.
        crossed = ((tint < COLOURED) & (light < DARK)).astype(np.uint8)
        crossed = cv2.dilate(crossed, np.ones((5, 5), np.uint8)) & near
        alone[:] = cv2.inpaint(alone, crossed, 2, cv2.INPAINT_TELEA)
        # Brightest channel over the ink's own: the ink lifted to the paper's white (dark red or
        # navy ink's brightest channel, 130-160, still joined the lines), the text under it as dark
        # as without it.
        inked = light[wash & (tint >= COLOURED)]
        lift = 255.0 / max(float(np.median(inked)), 1.0) if inked.size else 1.0
        region[wash] = cv2.convertScaleAbs(light[wash], alpha=max(lift, 1.0))[:, None]
    return Stamps(washed, box, cv2.cvtColor(ink, cv2.COLOR_GRAY2RGB))


# A black rule through a line of text (an underline, a form's fill-in line, a table's rule touching
# descenders) turns letters into others ("agreement" read as "acreement", "y" as "v", "," as "."):
# runs of ink at least RULE_LENGTH times as long as the lines they touch are high, and at most
# RULE_THICKNESS of the median line's height thick, that touch text are painted out of the page.
RULE_LENGTH, RULE_THICKNESS = 1.5, 0.2
# A strike-through is crossed by letters along STRUCK or more of its length (a third on the ruled
# pages; underlines, crossed by descenders only, 0-5 %). FAINT_INK: INK_SHARE for faint letters.
STRUCK, FAINT_INK = 0.15, 0.2


def without_rules(image: np.ndarray, quads: np.ndarray) -> np.ndarray | None:
    """The image with the horizontal rules that touch the text of its lines (`quads`) painted
    out, or None if it has none (see RULE_LENGTH). Where a letter's stroke crosses a rule (ink
    right above and right below it) the rule is kept, so that the letter stays whole."""
    if not len(quads):
        return None
    heights = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1)
    median = float(np.median(heights))
    length, thickness = max(2, round(RULE_LENGTH * median)), max(1, round(RULE_THICKNESS * median))
    distance = _ink_distance(image)
    ink = (distance > _contrast(distance, INK_SHARE)).view(np.uint8)  # as ink_pixels has it
    runs = _opened(ink, 1, length)
    runs = cv2.subtract(runs, _opened(runs, thickness + 1, 1))  # less the parts too thick for a rule
    if not cv2.countNonZero(runs):
        return None
    columns, rows = _nonzero(runs)
    count, labels = _run_labels(runs, rows, columns)
    # Letters fainter than the rule cross it too (a receipt's thermal print under a pen's line);
    # the rule's own fainter edges are no letters, nor are a table's vertical rules.
    faint = (distance > _contrast(distance, FAINT_INK)).view(np.uint8)
    del distance
    letters = cv2.subtract(cv2.subtract(faint, _opened(faint, 1, length)), _opened(faint, length, 1))
    del faint
    crossed = _crossed(runs, letters, thickness)[rows, columns]
    near = cv2.dilate(letters, np.ones((2 * thickness + 1, 1), np.uint8))[rows, columns]
    del letters
    # Rules away from letters are left (the lines were found well beside them), and so is a
    # strike-through (see STRUCK): painted out, it took the bars of the "e"s it ran through with it,
    # a worse reading than the struck one's. So is a run no longer than RULE_LENGTH times the
    # tallest line it lies on: the bar of a logo's big "L" ("Linn" read as "Tinn").
    underline = (
        (np.bincount(labels, near, count) > 0)
        & (np.bincount(labels, crossed, count) < STRUCK * np.bincount(labels, None, count))
        & _longer_than_their_lines(labels, count, rows, columns, quads, heights)
    )
    painted = underline[labels] & (crossed == 0)
    if not painted.any():
        return None
    wash = np.zeros_like(runs)
    del runs  # (each of these masks is a byte a pixel: 81 MB at 9000 x 9000 px)
    wash[rows[painted], columns[painted]] = 1
    edges = cv2.dilate(wash, np.ones((3, 1), np.uint8))  # its faint edges
    cv2.subtract(edges, ink, dst=edges)
    del ink
    return _painted_out(image, cv2.max(wash, edges, dst=wash), thickness)


def _painted_out(image: np.ndarray, wash: np.ndarray, thickness: int) -> np.ndarray:
    """The image with the pixels of `wash` (rules at most `thickness` thick, and their faint edges)
    painted with the lightest pixel a little above or below them: the paper round the rule."""
    columns, rows = _nonzero(wash)
    paper = image[rows, columns]
    for step in range(1, thickness + 3):
        for row in (np.maximum(rows - step, 0), np.minimum(rows + step, image.shape[0] - 1)):
            np.maximum(paper, image[row, columns], out=paper)
    washed = image.copy()
    washed[rows, columns] = paper
    return washed


LABEL_BAND = 1024  # see _run_labels


def _run_labels(runs: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> tuple[int, np.ndarray]:
    """The number of connected runs (0 the background's), and the label of each run pixel at
    `rows`, `columns` (row by row). Labelled in bands of LABEL_BAND rows or more cut at rows
    without runs, which no run crosses: a page's labels take 4 bytes a pixel (324 MB at 9000 x
    9000 px, where the engine's peak was 1.4 GB)."""
    free = np.flatnonzero(~runs.any(axis=1))
    count, labels, start = 1, np.empty_like(rows), 0
    while start < len(runs):
        after = np.searchsorted(free, start + LABEL_BAND)
        end = int(free[after]) + 1 if after < len(free) else len(runs)
        first, last = np.searchsorted(rows, [start, end])
        found, band = cv2.connectedComponents(runs[start:end])  # with stats: 6 times slower
        labels[first:last] = band[rows[first:last] - start, columns[first:last]] + (count - 1)
        count, start = count + found - 1, end
    return count, labels


def _longer_than_their_lines(
    labels: np.ndarray,
    count: int,
    rows: np.ndarray,
    columns: np.ndarray,
    quads: np.ndarray,
    heights: np.ndarray,
) -> np.ndarray:
    """Whether each of `count` runs (the `labels` of pixels at `rows`, `columns`) is at least
    RULE_LENGTH times as long as the tallest line (`quads`, their `heights`) whose box its box
    overlaps."""
    x0, y0 = np.full(count, columns.max()), np.full(count, rows.max())
    x1, y1 = np.zeros(count, columns.dtype), np.zeros(count, rows.dtype)
    np.minimum.at(x0, labels, columns)
    np.minimum.at(y0, labels, rows)
    np.maximum.at(x1, labels, columns + 1)
    np.maximum.at(y1, labels, rows + 1)
    low, high = quads.min(axis=1), quads.max(axis=1)  # the quads' boxes
    overlap = (
        (x0[:, None] < high[:, 0])
        & (x1[:, None] > low[:, 0])
        & (y0[:, None] <= high[:, 1])
        & (y1[:, None] >= low[:, 1])
    )
    return x1 - x0 >= RULE_LENGTH * np.where(overlap, heights, 0.0).max(axis=1)


def _crossed(runs: np.ndarray, letters: np.ndarray, thickness: int) -> np.ndarray:
    """The pixels of the rules `runs` that a letter's stroke crosses: in a column of a rule that
    `letters` touch right above it and right below it (a column either side)."""
    top, bottom = np.zeros_like(runs), np.zeros_like(runs)
    top[1:] = runs[1:] & letters[:-1]  # the rule's pixels a letter touches from above...
    bottom[:-1] = runs[:-1] & letters[1:]  # ...and from below
    across = np.ones((thickness, 3), np.uint8)
    down = cv2.dilate(top, across, anchor=(1, thickness - 1))  # spread through the rule
    up = cv2.dilate(bottom, across, anchor=(1, 0))
    return runs & down & up


def _opened(mask: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """The parts of `mask` a rows x columns rectangle fits in (a morphological opening: OpenCV's
    shifts what is left by a pixel where a side of the rectangle is even)."""
    kernel = np.ones((rows, columns), np.uint8)
    return cv2.dilate(cv2.erode(mask, kernel, anchor=(0, 0)), kernel, anchor=(columns - 1, rows - 1))


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The columns and rows of a mask's set pixels, row by row (np.nonzero's, from OpenCV: five
    times faster on a page)."""
    points = cv2.findNonZero(mask)
    points = np.empty((0, 2), np.int32) if points is None else points.reshape(-1, 2)
    return points[:, 0], points[:, 1]


def stacked_cuts(crop: np.ndarray) -> list[float]:
    """The rows at which to cut a tall crop (upright, at its natural size) into rows of text
    stacked one over the other: the middle of the widest blank run of rows between each two
    bands of ink rows. A band lower than STACKED_BAND of the tallest (an underline, a fraction's
    bar) is no row of its own; blank runs narrower than STACKED_GAP of the smaller band beside
    them (or 2 rows) are the spaces between a turned word's letters. Empty: no cut."""
    counts = ink_pixels(crop).sum(axis=1)
    inked = np.concatenate(([False], counts >= 2, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(inked))
    bands = list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))  # rows start..end-1
    if len(bands) < 2:
        return []
    tallest = max(end - start for start, end in bands)
    rows = [(start, end) for start, end in bands if end - start >= STACKED_BAND * tallest]
    gaps = [(end, start) for (_, end), (start, _) in zip(bands, bands[1:], strict=False)]  # blank runs
    cuts = []
    for (above_start, above_end), (below_start, below_end) in zip(rows, rows[1:], strict=False):
        smaller = min(above_end - above_start, below_end - below_start)
        # The widest blank run between the two rows (thin bands between them are not blank).
        start, end = max(
            ((start, end) for start, end in gaps if start >= above_end and end <= below_start),
            key=lambda run: run[1] - run[0],
        )
        if end - start >= max(2, STACKED_GAP * smaller):
            cuts.append((start + end) / 2)
    return cuts
