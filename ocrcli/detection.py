"""Text detection: a DB (differentiable binarisation) model's probability map -> text-line quads.

Model-neutral pre- and post-processing live here as plain functions; inference is one call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper

from ocrcli.runtime import Model

# ImageNet statistics, applied to BGR channels as PaddleOCR's detectors were trained.
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0


@dataclass(frozen=True)
class DetectorSettings:
    thresh: float = 0.2  # probability above which a pixel is text
    box_thresh: float = 0.4  # mean probability a region needs to count as a line
    unclip_ratio: float = 1.4  # how far to grow the shrunk text kernel back out
    # A compact kernel (a lone "1" or ":", under 3x as long as wide) grows by at least this share
    # of unclip_ratio x its long side: the area / perimeter offset grows it less than a line of the
    # same text height, and a lone character's box came out too small to cover it.
    compact_grow: float = 0.2
    max_side: int = 1280  # larger pages are first scaled down to this (time grows with area)...
    min_text_height: float = 10.0  # ...and if their lines come out lower than this (detector px)...
    good_text_height: float = 16.0  # ...detected again at a scale that makes them this high,
    # unless no pixel's text probability reached this: then the page is blank (the tiniest print
    # found on a 9000 px page still peaks at 0.99, a blank page at 0.000), and a closer look at it
    # cost 3 s and 1 GB for nothing.
    blank_peak: float = 0.05
    min_side: int = 640  # small images are scaled up to this
    # Larger detector inputs run in tiles (memory grows with area: ~90 B/px). 1536 rather than
    # 2048 kept the largest corpus PDFs' peak RSS at 1.2 GB instead of 1.55 GB (ocrmypdf_hugemono,
    # _multipage; same time within 10 %); 1024 would save 0.25 GB more but cost 25 % more time.
    tile: int = 1536
    tile_overlap: int = 256  # the detector sees context well beyond its 3x3 kernels
    max_candidates: int = 3000
    min_size: float = 3.0  # smallest line height kept, in detector pixels...
    # ...but for a stroke: a kernel at least min_stroke thick and stroke_length times as long,
    # the shape the detector gives a lone "1" (sroie 204's quantity: 11 x 2 detector px, where
    # the type is 14 x 25 px). The kernel is grown by stroke_grow times its length all round:
    # grown as a line's (area / perimeter), its box took in the "1"'s stem only and read as
    # nothing.
    min_stroke: float = 1.5
    stroke_length: float = 2.5
    stroke_grow: float = 0.6
    # A region at least bulge_length times as long as high that fills less than bulge_fill of its
    # rectangle bulges somewhere (a stack of super- and subscripts: "0.046+0.133-0.143"); it is
    # cut to the band of its thinnest bulge_band % of columns, if that is at most bulge_cut of
    # its height (see text_band).
    bulge_length: float = 8.0
    bulge_fill: float = 0.8
    bulge_band: float = 75.0
    bulge_cut: float = 0.85


def detector_scale(height: int, width: int, settings: DetectorSettings) -> float:
    """First scale from the page to the detector's input.

    Pages are scaled so their longer side is at most `max_side`, and their shorter side at least
    `min_side` (small crops get enough pixels per letter), within twice `max_side` along a long
    page or, over four times as long as wide, the area of a `max_side` square. `detect` looks
    again, closer, when the text found is too small to trust.
    """
    long_side, short_side = max(height, width), min(height, width)
    scale = min(1.0, settings.max_side / long_side)
    if short_side * scale < settings.min_side:
        # Over 4 times as long as wide (a long receipt), a page gets the pixels of a max_side square
        # (time grows with area), not enlarged for them: at twice max_side along it, as before,
        # 20 px type on a 12,000 px receipt came out 4 px high, its lines merged, most words lost.
        by_area = min(1.0, settings.max_side / math.sqrt(long_side * short_side))
        scale = min(settings.min_side / short_side, max(settings.max_side / long_side * 2, by_area))
    return scale


MAX_SQUASH = 0.1  # see detector_size


def detector_size(h: int, w: int, scale: float) -> tuple[int, int]:
    """The (height, width) the page is resized to at `scale`: each side rounded to the nearest
    multiple of 32, as the detector's down-sampling needs, unless that would squash it by more
    than MAX_SQUASH; such a side (a strip of one line: 43 px rounded to 32 was read as nothing)
    keeps its scaled size, and resize_for_detector pads it with white instead."""

    def side(length: int) -> int:
        scaled = max(1, round(length * scale))
        nearest = max(32, int(round(length * scale / 32)) * 32)
        return nearest if nearest >= (1 - MAX_SQUASH) * scaled else scaled

    return side(h), side(w)


def resize_for_detector(image_rgb: np.ndarray, scale: float) -> np.ndarray:
    """Resize to detector_size, then pad with white on the right and at the bottom to multiples
    of 32 where that size is not one (at least 32 px a side)."""
    h, w = image_rgb.shape[:2]
    new_h, new_w = detector_size(h, w, scale)
    interpolation = cv2.INTER_AREA if new_h < h else cv2.INTER_LINEAR
    resized = cv2.resize(image_rgb, (new_w, new_h), interpolation=interpolation)
    pad_h, pad_w = (max(32, -(-side // 32) * 32) - side for side in (new_h, new_w))
    if not pad_h and not pad_w:
        return resized
    return cv2.copyMakeBorder(resized, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def to_input(image_rgb: np.ndarray) -> np.ndarray:
    """Normalise channel by channel straight into an NCHW buffer (BGR order, as trained)."""
    h, w = image_rgb.shape[:2]
    batch = np.empty((1, 3, h, w), dtype=np.float32)
    for out_channel, in_channel in enumerate((2, 1, 0)):
        plane = batch[0, out_channel]
        plane[:] = image_rgb[:, :, in_channel]
        plane -= _MEAN[out_channel]
        plane *= 1.0 / _STD[out_channel]
    return batch


def probability_map(
    model: Model,
    image_rgb: np.ndarray,
    tile: int,
    overlap: int,
    needed: Callable[[int, int, int, int], bool] | None = None,
) -> np.ndarray:
    """The detector's text probability per pixel; inputs larger than `tile` run in overlapping tiles.

    The map is local (each pixel depends on a small neighbourhood), so tiles stitched together,
    each keeping all but the outer half of its overlap, give the same map as one large run. A tile
    for which `needed(y0, y1, x0, x1)` is false is not run: its part of the map stays 0.
    """
    h, w = image_rgb.shape[:2]
    if h <= tile and w <= tile:
        return model(to_input(image_rgb))[0, 0]
    prob = np.zeros((h, w), dtype=np.float32)
    step = tile - overlap
    for y0 in range(0, h, step):
        for x0 in range(0, w, step):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            if needed is None or needed(y0, y1, x0, x1):
                part = model(to_input(image_rgb[y0:y1, x0:x1]))[0, 0]
                # Keep the tile's inner part: skip half the overlap on every side that has a neighbour.
                top = overlap // 2 if y0 else 0
                left = overlap // 2 if x0 else 0
                prob[y0 + top : y1, x0 + left : x1] = part[top:, left:]
            if x1 == w:
                break
        if y1 == h:
            break
    return prob


def detect(model: Model, image_rgb: np.ndarray, settings: DetectorSettings) -> np.ndarray:
    """Text-line quads in page pixels: float32 array (N, 4, 2), corners clockwise from top-left.

    A big page is first searched scaled down; if the lines found are too small for the detector to
    trust (small print on a big scan, or a huge page), it is searched again at a scale that makes
    them a comfortable height, in tiles if need be. Big scans of big print stay cheap, and so does
    the closer look at a big page with little on it: only the tiles where the first look saw text
    (a probability of blank_peak or more) are run. Print too small to be boxed at the first scale
    still shows there (phototest at 9 px a line on a 9000 px page: 1.0; a blank tile: 0.000), and
    a 6325 px page of one line took 1.4 s to look at closer, not 4.3 s. The lines found closer
    are judged again, and looked at closer still if they too are small: phototest at 0.4 times its
    size on a 9000 x 6750 px page was found as one line at the first scale, too few to judge,
    taken as 5 px high; looked at 3.2 times closer its lines were 7 px, and 16 of its 60 words
    were read. At full size, a third look, they are 15 px and all 60 are read.
    """
    h, w = image_rgb.shape[:2]
    scale = first_scale = detector_scale(h, w, settings)
    quads, prob = _detect_at(model, image_rgb, scale, settings)
    while scale < 1.0:
        seen = prob >= settings.blank_peak
        del prob
        if not seen.any():
            break
        heights = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1) * scale if len(quads) else []
        typical = _typical_height(heights, settings, first=scale == first_scale)
        closer = min(1.0, scale * settings.good_text_height / max(typical, 1.0))
        if typical >= settings.min_text_height or closer <= scale * 1.2:
            break
        (last_h, last_w), (near_h, near_w) = (detector_size(h, w, s) for s in (scale, closer))
        zoom = (near_h / last_h, near_w / last_w)  # each side is rounded on its own
        quads, prob = _detect_at(model, image_rgb, closer, settings, _seen_in(seen, zoom))
        scale = closer
    return quads


def _seen_in(seen: np.ndarray, zoom: tuple[float, float]) -> Callable[[int, int, int, int], bool]:
    """Whether a tile of the page searched (down, across) `zoom` times closer covers any pixel of
    `seen` (a map of the look before), taking in a pixel more on every side of it."""
    down, across = zoom

    def needed(y0: int, y1: int, x0: int, x1: int) -> bool:
        top, left = max(0, int(y0 / down) - 1), max(0, int(x0 / across) - 1)
        return bool(seen[top : math.ceil(y1 / down) + 1, left : math.ceil(x1 / across) + 1].any())

    return needed


def _typical_height(heights: np.ndarray | list, settings: DetectorSettings, first: bool = True) -> float:
    """The height (detector px) of the lines found at a scale that says whether to look closer:
    their median, or, if that is tall enough, the lower quartile's. A big page's small print is
    mostly lost at the first scale, a few specks of it left, and its headings outnumbered them: an
    A0 sheet of 15 letter pages had a median of 10.0 px, was not looked at again, and 163 of its
    9,700 words were read. Fewer than 3 lines at the `first` scale, or none at a closer one: too
    few to judge, taken as small. (Taken as small at every look, the one or two large lines of a
    6325 px page, hugemono.pdf's and multipage.pdf's, were looked at three times, up to full size.)"""
    if len(heights) < (3 if first else 1):
        return settings.min_text_height / 2
    median = float(np.median(heights))
    return median if median < settings.min_text_height else float(np.percentile(heights, 25))


def _detect_at(
    model: Model,
    image_rgb: np.ndarray,
    scale: float,
    settings: DetectorSettings,
    needed: Callable[[int, int, int, int], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Quads found at `scale`, in page pixels, and the probability map they were found on (of
    the tiles `needed`, see probability_map)."""
    h, w = image_rgb.shape[:2]
    resized = resize_for_detector(image_rgb, scale)
    new_h, new_w = detector_size(h, w, scale)  # the page's part of `resized`; the rest is padding
    sx, sy = new_w / w, new_h / h
    prob = probability_map(model, resized, settings.tile, settings.tile_overlap, needed)
    del resized
    quads = db_postprocess(prob, settings)
    if len(quads):
        quads[:, :, 0] /= sx
        quads[:, :, 1] /= sy
        np.clip(quads[:, :, 0], 0, w - 1, out=quads[:, :, 0])
        np.clip(quads[:, :, 1], 0, h - 1, out=quads[:, :, 1])
    return quads, prob  # resize_for_detector leaves at least 32 x 32 pixels


def db_postprocess(prob: np.ndarray, settings: DetectorSettings) -> np.ndarray:
    """Probability map -> quads (N, 4, 2) in the map's pixels."""
    bitmap = (prob > settings.thresh).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads = []
    for contour in contours[: settings.max_candidates]:
        rect = cv2.minAreaRect(contour)
        thin, long = sorted(rect[1])
        stroke = settings.min_stroke <= thin < settings.min_size and long >= settings.stroke_length * thin
        if thin < settings.min_size and not stroke:
            continue
        if region_score(prob, contour.reshape(-1, 2)) < settings.box_thresh:
            continue
        if stroke:
            grown = _grown_by(cv2.boxPoints(rect), settings.stroke_grow * long)
        else:
            rect = text_band(contour, rect, settings) or rect
            grown = unclip(cv2.boxPoints(rect), settings.unclip_ratio, settings.compact_grow)
        if grown is None:
            continue
        rect = cv2.minAreaRect(grown)
        if min(rect[1]) < settings.min_size + 2:
            continue
        quads.append(order_corners(cv2.boxPoints(rect)))
    if not quads:
        return np.zeros((0, 4, 2), dtype=np.float32)
    return np.array(quads, dtype=np.float32)


Rect = tuple[tuple[float, float], tuple[float, float], float]  # OpenCV's: centre, size, angle


def text_band(contour: np.ndarray, rect: Rect, settings: DetectorSettings) -> Rect | None:
    """The rectangle of a long, roughly level region's band of text without its bulges, or None to
    keep `rect` (the region's minimum-area rectangle).

    A bulge (a stack of scripts: 13-15 detector px where the line's kernel is 6) made the rectangle
    that takes it in twice the line's height and tilted, and its crop took in parts of the lines
    above and below: docbank 45's lines read as garbage. The band follows the centre line fitted
    through the thinner columns, as thick as the thickest of them; ink of the bulge beyond it is
    given up. A bulge at the line's start only is left whole: an initial capital a third higher
    than its line (tess 8087's "THE" read as "IHE" with its bar cut off).
    """
    (width, height), short = rect[1], min(rect[1])
    if max(width, height) < settings.bulge_length * short:
        return None
    if cv2.contourArea(contour) >= settings.bulge_fill * width * height:
        return None
    x, y, w, h = cv2.boundingRect(contour)
    if w < 4 * h:  # not level enough for its columns to cross it
        return None
    mask = np.zeros((h, w), dtype=np.uint8)
    cv2.drawContours(mask, [contour - [x, y]], -1, 1, cv2.FILLED)
    columns = np.flatnonzero(mask.any(axis=0))
    top = mask[:, columns].argmax(axis=0)
    bottom = h - 1 - mask[::-1, columns].argmax(axis=0)
    thickness = bottom - top + 1  # in rows of pixels
    band = np.percentile(thickness, settings.bulge_band)
    bulging = columns[thickness > band + 1]
    if bulging.size and bulging.max() < columns[0] + 3 * band:
        return None  # a bulge at the line's start only: a tall initial capital, read whole
    thin = thickness <= band
    slope, intercept = np.polyfit(columns[thin], (top + bottom)[thin] / 2, 1)
    ends = np.array([[columns[0], 0.0], [columns[-1] + 1, 0.0]])
    ends[:, 1] = intercept + slope * ends[:, 0]
    # Half the band along the centre line's normal (its thickness was measured down the columns).
    across = np.array([-slope, 1.0]) * band / (2 * (1 + slope**2))
    corners = np.array([ends[0] - across, ends[1] - across, ends[1] + across, ends[0] + across]) + [x, y]
    banded = cv2.minAreaRect(corners.astype(np.float32))
    return banded if min(banded[1]) <= settings.bulge_cut * short else None


def region_score(prob: np.ndarray, polygon: np.ndarray) -> float:
    """Mean probability inside a polygon (computed on its bounding window only)."""
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int)
    h, w = prob.shape
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(polygon - [x0, y0]).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def unclip(box: np.ndarray, ratio: float, compact_grow: float = 0.0) -> np.ndarray | None:
    """Grow a shrunk text kernel back to the text's extent: offset = area * ratio / perimeter, and
    for a kernel under 3x as long as wide at least compact_grow * ratio * its long side."""
    area = cv2.contourArea(box)
    perimeter = cv2.arcLength(box, True)
    if perimeter == 0:
        return None
    distance = area * ratio / perimeter
    short_side, long_side = sorted(np.linalg.norm(box - np.roll(box, 1, axis=0), axis=1)[:2])
    if long_side < 3 * short_side:
        distance = max(distance, compact_grow * ratio * long_side)
    return _grown_by(box, distance)


def _grown_by(box: np.ndarray, distance: float) -> np.ndarray | None:
    """The polygon `box` grown by `distance` all round (rounded corners), or None if that fails."""
    offset = pyclipper.PyclipperOffset()
    offset.AddPath([tuple(p) for p in box.tolist()], pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(distance)
    if len(grown) != 1:
        return None
    return np.array(grown[0], dtype=np.float32)


def order_corners(points: np.ndarray) -> np.ndarray:
    """Corners of a rectangle clockwise from the top-left, taking the reading direction as left to right.

    The top edge is the long side whose midpoint is higher; for near-square boxes the top-left is the
    corner with the smallest x + y.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    # Sort clockwise around the centre (image y grows downwards, so atan2 order is clockwise).
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]
    # Start from the corner that makes edge 0 (p0->p1) the top, pointing right.
    best, best_key = 0, None
    for start in range(4):
        p0, p1 = pts[start], pts[(start + 1) % 4]
        edge = p1 - p0
        # Prefer edges pointing right (x grows), then those higher on the page.
        key = (-edge[0] / (np.hypot(*edge) + 1e-6), (p0[1] + p1[1]) / 2)
        if best_key is None or key < best_key:
            best, best_key = start, key
    return np.roll(pts, -best, axis=0)
