"""Text recognition: rectified line crops, batched by width, through a CTC recogniser."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrcli import longlines
from ocrcli.charset import unspaced_script
from ocrcli.ctc import DecodedChar, ctc_collapse
from ocrcli.geometry import crop_transform, quad_size, rectify
from ocrcli.ink import pad_with_background, stacked_cuts
from ocrcli.ligatures import near_letters
from ocrcli.runtime import Model

CROP_HEIGHT = 48  # the recognisers' fixed input height


@dataclass(frozen=True)
class RecognizerSettings:
    # The recogniser's widest input (the model's documented maximum): a longer line is read in
    # pieces cut at gaps between words (see longlines)...
    max_crop_width: int = 3200
    # ...up to this width; a longer one is squeezed to it. It bounds the time a "line" of a
    # thousand times its height (more likely a rule than text) can take: 16 pieces.
    max_line_width: int = 51_200
    max_batch: int = 16
    # Sum of the padded widths in one batch. It bounds memory, and smaller batches also ran faster
    # on this machine (less of each layer's activations to stream through the cache): on docbank's
    # crops 1500 took 2.8 % less CPU than 4000 (paired median, 12 rounds), 8000 took 11 % more.
    max_batch_width: int = 1500
    max_padding: float = 0.15  # a batch's narrowest crop may be this much narrower than its widest
    # A quad this much taller than wide is read top to bottom, and one less than sure_vertical
    # times taller is also read across, keeping the more confident reading: that is the shape of a
    # lone character's box ("S", "1"), which read top to bottom came out as "cO" or sideways.
    # Every such quad is also read bottom to top (a chart's axis label, an arXiv stamp in the
    # margin), a reading kept only if it is clearly more confident, by upward_margin: digits read
    # well both ways ("60" and "09" at 0.998 and 0.996), while text run the wrong way reads as
    # garbage ("xoWW/K" 0.52 against "y/λmox" 0.96; the stamp 0.62 against 0.998).
    vertical_ratio: float = 1.5
    sure_vertical: float = 3.0
    upward_margin: float = 0.2
    # Crops are narrowed to this share of their natural width: the recogniser reads slightly
    # condensed text as well, and its cost grows with crop width. 0.7 reads worse (docbank
    # bag-of-words F1 93.27 against 93.55 at 0.8, measured 2026-12-02).
    squeeze: float = 0.8
    # Words read with a mean character confidence below this go to the tier's reviewer model...
    review_below: float = 0.9
    # ...and so do words with any one character read below this: the tiny recogniser reads a
    # faded "m" as "n" at 0.5-0.6 inside a word it is otherwise sure of ("cone" for "come", mean
    # 0.9 and more). Measured 2026-12-05 (tuned on sroie 0-19 and docbank 0-29, checked on sroie
    # 20-39, docbank 30-59 and tess): sroie ci-CER 5.58 -> 5.45 and 3.28 -> 3.16 %, docbank
    # anchored CER 2.40 -> 2.36 and 1.84 -> 1.82 %, tess CER 1.02 -> 1.01 %, for 18 % more
    # reviewer columns on docbank (about 2 % of the command's CPU). 0.5 gained half as much; 0.7
    # and above cost 30 % more reviewer columns for less on docbank.
    review_weakest: float = 0.6
    # A page whose best line of two characters or more reads below this gives no text: what was
    # read is a picture's texture (a photo of a pike came out as "212112" and five single letters,
    # 0.50-0.68; a page of noise as 169 lone digits, up to 0.9), while every page with text in the
    # ground-truth sets and the PDF corpus has a line read above 0.99. Set 0 to keep every line,
    # e.g. to read one faint word (a lone character then too).
    min_page_confidence: float = 0.8
    # Background added at both ends of a crop, in crop pixels: the recogniser drops a character
    # that touches the crop's end (a receipt's lone ":" after "CASH", whose detected box ends
    # right at its dots, was read with P(":") 0.42 < P(blank) 0.49).
    end_margin: int = 4


@dataclass
class LineCrop:
    image: np.ndarray  # CROP_HEIGHT x W x 3, RGB
    matrix: np.ndarray  # page -> crop perspective matrix
    margin: int = 0  # columns of added background at each end; the line is the rest
    across: LineCrop | None = None  # a top-to-bottom crop's quad read left to right, if in doubt
    upward: LineCrop | None = None  # a top-to-bottom crop's quad read bottom to top
    stacked: list[LineCrop] | None = None  # a top-to-bottom crop's quad cut into rows, read across

    @property
    def line_part(self) -> tuple[float, float]:
        """The columns from the line's start to its end: all but the margins."""
        return float(self.margin), float(self.image.shape[1] - self.margin)


@dataclass
class LineReading:
    chars: list[DecodedChar]
    step_width: float  # crop pixels per model time step
    crop: LineCrop  # the crop read (a crop's `across` one, if that read more confidently)

    @property
    def confidence(self) -> float:
        """The mean character confidence (words.mean_confidence weighs words by their length)."""
        return sum(c.confidence for c in self.chars) / len(self.chars) if self.chars else 0.0


def crop_lines(
    image: np.ndarray, quads: np.ndarray, settings: RecognizerSettings, origin: tuple[int, int] = (0, 0)
) -> list[LineCrop]:
    """The crops of the lines whose quads are given in page pixels, from `image`: the page, or the
    part of it whose top-left corner lies at `origin`."""
    crops = []
    for quad in quads - np.array(origin, dtype=np.float32):
        width, height = quad_size(quad)
        if height < settings.vertical_ratio * width:
            crops.append(_crop(image, quad, settings, origin))
            continue
        # Vertical text: start the quad at its top-right corner so reading runs downwards, or at
        # its bottom-left corner so it runs upwards.
        crop = _crop(image, np.roll(quad, -1, axis=0), settings, origin)
        crop.upward = _crop(image, np.roll(quad, 1, axis=0), settings, origin)
        if height < settings.sure_vertical * width:
            crop.across = _crop(image, quad, settings, origin)
        crop.stacked = _stacked_rows(image, quad, settings, origin)
        crops.append(crop)
    return crops


def _crop(
    image: np.ndarray, quad: np.ndarray, settings: RecognizerSettings, origin: tuple[int, int]
) -> LineCrop:
    line_width = settings.max_line_width - 2 * settings.end_margin  # the margins count too
    crop, matrix = rectify(image, quad, CROP_HEIGHT, line_width, settings.squeeze)
    to_image = np.array([[1.0, 0.0, -origin[0]], [0.0, 1.0, -origin[1]], [0.0, 0.0, 1.0]])
    return _with_margin(crop, matrix @ to_image, settings.end_margin)


def _stacked_rows(
    image: np.ndarray, quad: np.ndarray, settings: RecognizerSettings, origin: tuple[int, int]
) -> list[LineCrop] | None:
    """The crops of a tall quad's rows of text, if its ink lies in rows one over the other with
    blank rows between (see ink.stacked_cuts), each row cut at the middle of its blank rows."""
    width, height = (max(1, round(side)) for side in quad_size(quad))
    matrix = crop_transform(quad, width, height)
    upright = cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    cuts = stacked_cuts(upright)
    if not cuts:
        return None
    top, bottom = (quad[0], quad[1]), (quad[3], quad[2])  # its left and right sides' ends
    shares = [0.0, *(cut / height for cut in cuts), 1.0]
    sides = [[a + share * (b - a) for a, b in zip(top, bottom, strict=True)] for share in shares]
    return [
        _crop(image, np.array([*upper, *lower[::-1]], dtype=np.float32), settings, origin)
        for upper, lower in zip(sides, sides[1:], strict=False)
    ]


def _with_margin(crop: np.ndarray, matrix: np.ndarray, margin: int) -> LineCrop:
    """The crop with `margin` columns of its background colour added at both ends, and its matrix
    moved to match."""
    if margin <= 0:
        return LineCrop(crop, matrix)
    padded = pad_with_background(crop, margin, margin)
    shift = np.array([[1.0, 0.0, margin], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return LineCrop(padded, shift @ matrix, margin)


def width_batches(widths: list[int], settings: RecognizerSettings) -> list[list[int]]:
    """Group crop indices into batches of similar width, so little compute goes into padding."""
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current:
            padded = widths[i] * (len(current) + 1)
            too_uneven = widths[current[0]] < (1 - settings.max_padding) * widths[i]
            if len(current) >= settings.max_batch or too_uneven or padded > settings.max_batch_width:
                batches.append(current)
                current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def to_input(crops: list[np.ndarray], width: int) -> np.ndarray:
    """Stack crops (padded right to `width`) as normalised NCHW BGR in [-1, 1]; padding is 0 (grey)."""
    batch = np.zeros((len(crops), 3, CROP_HEIGHT, width), dtype=np.float32)
    for k, crop in enumerate(crops):
        if crop.shape[1] == 0:
            continue
        # (x - 127.5) / 127.5 per channel, swapped to BGR and planar, in one pass of OpenCV's
        # (numpy's astype/transpose/arithmetic took 2.6 times as long).
        blob = cv2.dnn.blobFromImage(crop, 1 / 127.5, None, (127.5, 127.5, 127.5), swapRB=True)
        batch[k, :, :, : crop.shape[1]] = blob[0]
    return batch


def recognize(
    model: Model, crops: list[LineCrop], classes: list[str], settings: RecognizerSettings
) -> list[LineReading]:
    """One reading per crop. A vertical crop gets the more confident of its readings downwards and
    across (across if they tie: lone Latin characters are far more common than two-character
    vertical lines), then its upward reading if that is more confident by settings.upward_margin."""
    readings = _read(model, crops, classes, settings)
    doubt = [  # across before upward: upward must beat the better of the other two
        (i, other, margin)
        for i, crop in enumerate(crops)
        for other, margin in ((crop.across, 0.0), (crop.upward, settings.upward_margin))
        if other is not None
    ]
    if doubt:
        others = _read(model, [other for _, other, _ in doubt], classes, settings)
        for (i, _, margin), other in zip(doubt, others, strict=True):
            if other.confidence >= readings[i].confidence + margin:
                readings[i] = other
    return readings


def with_stacked_rows(
    model: Model,
    crops: list[LineCrop],
    readings: list[LineReading],
    classes: list[str],
    settings: RecognizerSettings,
) -> list[LineReading]:
    """The `readings` of the `crops` (see recognize), each replaced by the readings of its crop's
    rows (LineCrop.stacked) if every row reads more confidently: a table's column of one character
    a row ("%" over "6", a receipt's rate under its header), boxed as one, read as "9%" at 0.98, its
    rows at 0.999 and 1.0; a turned word's letters read across come out as garbage ("Rewards" at
    1.0, its letters 0.2-0.9). A column read as CJK characters is vertical writing and stays whole."""
    stacked = [(i, crop.stacked) for i, crop in enumerate(crops) if crop.stacked]
    if not stacked:
        return readings
    rows = iter(_read(model, [row for _, crop_rows in stacked for row in crop_rows], classes, settings))
    taken: dict[int, list[LineReading]] = {}
    for i, crop_rows in stacked:
        row_readings = [next(rows) for _ in crop_rows]
        whole = readings[i]
        if _written_across(whole) and all(
            r.chars and r.confidence > whole.confidence and _written_across(r) for r in row_readings
        ):
            taken[i] = row_readings
    return [row for i, reading in enumerate(readings) for row in taken.get(i, [reading])]


def _written_across(reading: LineReading) -> bool:
    """Whether a reading holds no characters of a script also written in columns (CJK): a column
    of those is one line of vertical writing, each row of it a character."""
    return not any(unspaced_script(c.char) for c in reading.chars)


def _read(
    model: Model, crops: list[LineCrop], classes: list[str], settings: RecognizerSettings
) -> list[LineReading]:
    """One reading per crop; a crop wider than settings.max_crop_width is read in pieces."""
    piece_width = settings.max_crop_width - 2 * settings.end_margin  # room for margins at cuts
    cuts = [longlines.find_cuts(crop.image, piece_width) for crop in crops]
    pieces = [
        longlines.cut_pieces(c.image, line_cuts, settings.end_margin)
        for c, line_cuts in zip(crops, cuts, strict=True)
    ]
    piece_readings = iter(_infer(model, [p.image for line in pieces for p in line], classes, settings))
    readings = []
    for crop, line_cuts, line_pieces in zip(crops, cuts, pieces, strict=True):
        parts = [next(piece_readings) for _ in line_pieces]
        chars, step_width = parts[0]
        if line_cuts:
            chars = longlines.join_pieces(parts, line_pieces, line_cuts, step_width)
        readings.append(LineReading(chars, step_width, crop))
    return readings


def _infer(
    model: Model, images: list[np.ndarray], classes: list[str], settings: RecognizerSettings
) -> list[tuple[list[DecodedChar], float]]:
    """The characters read in each image, and the crop pixels per time step they were read at."""
    widths = [image.shape[1] for image in images]
    readings: list[tuple[list[DecodedChar], float] | None] = [None] * len(images)
    for batch in width_batches(widths, settings):
        width = -(-max(widths[i] for i in batch) // 8) * 8
        probs = model(to_input([images[i] for i in batch], width))
        step_width = width / probs.shape[1]
        best = probs.argmax(axis=2)  # one pass over the whole batch: the class axis is large
        best_prob = np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0]
        for k, i in enumerate(batch):
            # Steps past the image's own width only saw padding.
            steps = min(probs.shape[1], int(np.ceil(widths[i] / step_width)) + 1)
            chars = ctc_collapse(best[k, :steps], best_prob[k, :steps], classes)
            readings[i] = (near_letters(probs[k, :steps], chars, classes), step_width)
    return [r for r in readings if r is not None]
