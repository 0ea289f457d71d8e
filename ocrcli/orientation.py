"""Page orientation: which way (0/90/180/270 degrees clockwise) a page's text is turned.

A 4-way page classifier proposes; the text-line 0/180 classifier, run on a sample of the page's
lines after detection, votes. Upright pages are the common case, so we turn a page only when the
classifier is confident and the lines do not disagree. The line classifier is never applied to
lines one by one (on clean pages it flips upright lines); only its majority counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrcli.runtime import Model

ANGLES = (0, 90, 180, 270)
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

PAGE_CONFIDENCE = 0.6  # classifier probability needed to turn a page (its outputs peak near 0.92)
FLIP_SHARE = 0.75  # share of sampled lines that must read upside down to turn a page by 180
MIN_VOTES = 4  # fewer sampled lines than this never flip a page
MAX_CLASSIFIER_SIDE = 2048  # the page classifier's resized long side (8 times the short one)
VOTE_SAMPLE = 12  # lines classified per page (the widest ones)
LINE_SIZE = (192, 48)  # width, height of the line classifier's input


@dataclass(frozen=True)
class Orientation:
    degrees: int  # the page's text is turned this far clockwise; rotate back by it to read
    confidence: float
    page_probs: tuple[float, ...]  # classifier probabilities for 0, 90, 180, 270
    flip_votes: tuple[int, int] = (0, 0)  # (lines read upside down, lines sampled)


def classify_page(model: Model, image_rgb: np.ndarray) -> np.ndarray:
    """Probabilities for 0/90/180/270: short side to 256, centre 224 x 224 crop, ImageNet norm (RGB)."""
    h, w = image_rgb.shape[:2]
    scale = 256 / min(h, w)
    # The long side is capped: a 1 x 60000 px image scaled evenly asked for 11.8 GB.
    size = tuple(min(max(224, round(side * scale)), MAX_CLASSIFIER_SIDE) for side in (w, h))
    small = cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA)
    top, left = (small.shape[0] - 224) // 2, (small.shape[1] - 224) // 2
    patch = small[top : top + 224, left : left + 224].astype(np.float32) / 255.0
    patch = (patch - _MEAN) / _STD
    return model(patch.transpose(2, 0, 1)[None].astype(np.float32))[0]


def upside_down_votes(model: Model, crops: list[np.ndarray]) -> tuple[int, int]:
    """(lines read as upside down, lines sampled) among the widest crops."""
    widest = sorted(crops, key=lambda c: -c.shape[1])[:VOTE_SAMPLE]
    widest = [c for c in widest if c.shape[1] >= 2 * c.shape[0]]  # short crops vote badly
    if not widest:
        return 0, 0
    w, h = LINE_SIZE
    batch = np.zeros((len(widest), 3, h, w), dtype=np.float32)
    for k, crop in enumerate(widest):
        scaled_w = min(w, max(1, round(crop.shape[1] * h / crop.shape[0])))
        resized = cv2.resize(crop, (scaled_w, h), interpolation=cv2.INTER_AREA)
        batch[k, :, :, :scaled_w] = resized[:, :, ::-1].transpose(2, 0, 1) / 127.5 - 1.0
    probs = model(batch)
    return int((probs[:, 1] > 0.5).sum()), len(widest)


def decide(page_probs: np.ndarray, flip_votes: tuple[int, int]) -> Orientation:
    """Combine the page classifier's proposal with line votes (taken on the proposed upright page)."""
    probs = tuple(float(p) for p in page_probs)
    best = int(np.argmax(page_probs))
    degrees = ANGLES[best] if probs[best] >= PAGE_CONFIDENCE else 0
    confidence = probs[ANGLES.index(degrees)]
    flipped, sampled = flip_votes
    lines_disagree = sampled >= MIN_VOTES and flipped >= FLIP_SHARE * sampled
    # Never overrule a confident "upright": upright pages are the common case and the line
    # classifier errs on clean pages.
    if lines_disagree and (degrees != 0 or confidence < PAGE_CONFIDENCE):
        degrees = (degrees + 180) % 360
        confidence = flipped / sampled
    return Orientation(degrees, confidence, probs, flip_votes)
