"""Page orientation: which way (0/90/180/270 degrees clockwise) a page's text is turned.

A 4-way page classifier proposes; the lines detected on the page turned as proposed confirm.
Upright pages are the common case, so a proposed turn is taken only when the classifier is
confident and the lines back it: a quarter turn when most of them run across the turned page (on an
upright page turned a quarter they run down it), a half turn when a clear majority of the text-line
0/180 classifier's votes read the turned page as upright. A page with too few lines to tell, such as
a page of one word, is not turned: the classifier sees only a centre crop, nearly blank there. The
line classifier is never applied to lines one by one (on clean pages it flips upright lines); only
its majority counts. A page the classifier is unsure of (a page of charts) whose lines mostly run
down it is turned a quarter; where the line votes split, the recognizer settles the half turn by
reading the lines both ways (see votes_split).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrcli.geometry import quad_size
from ocrcli.runtime import Model

ANGLES = (0, 90, 180, 270)
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

PAGE_CONFIDENCE = 0.6  # classifier probability needed to turn a page (its outputs peak near 0.92)
FLIP_SHARE = 0.75  # share of sampled lines that must read one way to flip or confirm a half turn
MIN_VOTES = 4  # fewer sampled lines than this never flip a page or confirm a turn
ACROSS_SHARE = 2 / 3  # share of lines with a direction that must run across to confirm a quarter turn
LINE_ASPECT = 2.0  # a line this many times longer than high shows which way it runs
MAX_CLASSIFIER_SIDE = 2048  # the page classifier's resized long side (8 times the short one)
VOTE_SAMPLE = 12  # lines classified per page (the widest ones)
LINE_SIZE = (192, 48)  # width, height of the line classifier's input
READ_SURE, READ_MARGIN, HALF_TURN_LEAD = 0.9, 0.2, 0.05  # see turned_by_reading
SPLIT_READ_SURE = 0.8  # READ_SURE on a page whose lines' votes were split (see votes_split)
INK_CONTRAST, SPARSE_INK = 64, 0.002  # see _window


@dataclass(frozen=True)
class Orientation:
    degrees: int  # the page's text is turned this far clockwise; rotate back by it to read
    confidence: float
    page_probs: tuple[float, ...]  # classifier probabilities for 0, 90, 180, 270
    flip_votes: tuple[int, int] = (0, 0)  # (lines read upside down, lines sampled)
    line_axes: tuple[int, int] = (0, 0)  # (lines running across, lines running down)


def classify_page(model: Model, image_rgb: np.ndarray) -> np.ndarray:
    """Probabilities for 0/90/180/270: short side to 256, centre 224 x 224 crop, ImageNet norm (RGB)."""
    h, w = image_rgb.shape[:2]
    scale = 256 / min(h, w)
    # The long side is capped: a 1 x 60000 px image scaled evenly asked for 11.8 GB.
    size = tuple(min(max(224, round(side * scale)), MAX_CLASSIFIER_SIDE) for side in (w, h))
    small = cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA)
    top, left = _window(small)
    patch = small[top : top + 224, left : left + 224].astype(np.float32) / 255.0
    patch = (patch - _MEAN) / _STD
    return model(patch.transpose(2, 0, 1)[None].astype(np.float32))[0]


def _window(small: np.ndarray) -> tuple[int, int]:
    """Top left of the 224 x 224 window the classifier sees: the image's centre, as it was trained,
    unless that holds almost no ink (under SPARSE_INK of its pixels) while the rest has some: then
    the window centred on the ink, clamped to the image. On a page with a few lines away from its
    middle the classifier saw blank paper and, unsure, proposed upright."""
    height, width = small.shape[:2]
    top, left = (height - 224) // 2, (width - 224) // 2
    grey = small.min(axis=2)
    ink = grey < np.median(grey) - INK_CONTRAST
    if ink[top : top + 224, left : left + 224].mean() >= SPARSE_INK or not ink.any():
        return top, left
    rows, columns = np.nonzero(ink)
    top = int(np.clip(round(rows.mean()) - 112, 0, height - 224))
    left = int(np.clip(round(columns.mean()) - 112, 0, width - 224))
    return top, left


def upside_down_votes(model: Model, crops: list[np.ndarray]) -> tuple[int, int]:
    """(lines read as upside down, lines sampled) among the widest crops."""
    widest = [crops[k] for k in widest_lines(crops)]
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


def propose(page_probs: np.ndarray) -> int:
    """The classifier's proposal: its most probable angle if it is confident, else 0."""
    best = int(np.argmax(page_probs))
    return ANGLES[best] if page_probs[best] >= PAGE_CONFIDENCE else 0


def line_axes(quads: np.ndarray) -> tuple[int, int]:
    """(lines running across, lines running down) among the quads long enough to show a direction."""
    sizes = [quad_size(quad) for quad in quads]
    across = sum(w >= LINE_ASPECT * h for w, h in sizes)
    down = sum(h >= LINE_ASPECT * w for w, h in sizes)
    return across, down


def _half_turn_confirmed(flip_votes: tuple[int, int]) -> bool:
    """Whether a clear majority of the lines read the half-turned page as upright; on a page with
    fewer than MIN_VOTES lines to sample, every one of them (at least one)."""
    flipped, sampled = flip_votes
    if sampled < MIN_VOTES:
        return sampled > 0 and flipped == 0
    return flipped <= (1 - FLIP_SHARE) * sampled


def _quarter_turn_confirmed(axes: tuple[int, int]) -> bool:
    """Whether most lines run across the quarter-turned page; on a page with fewer than MIN_VOTES
    lines that show a direction, every one of them (at least one)."""
    across, down = axes
    if across + down < MIN_VOTES:
        return across > 0 and down == 0
    return across >= ACROSS_SHARE * (across + down)


def widest_lines(crops: list[np.ndarray]) -> list[int]:
    """Indices of the lines sampled for a vote: the widest VOTE_SAMPLE crops, long enough to show
    which way they run (short crops vote badly)."""
    order = sorted(range(len(crops)), key=lambda k: -crops[k].shape[1])[:VOTE_SAMPLE]
    return [k for k in order if crops[k].shape[1] >= 2 * crops[k].shape[0]]


def reading_sample(crops: list[np.ndarray]) -> list[int]:
    """Indices of the lines whose reading can turn a sparse page (see turned_by_reading): the
    sampled lines (widest_lines), or, on a page with none long enough to show a direction (a word
    or two), its lines at least as wide as high, widest first, fewer than MIN_VOTES."""
    if sample := widest_lines(crops):
        return sample
    order = sorted(range(len(crops)), key=lambda k: -crops[k].shape[1])
    return [k for k in order if crops[k].shape[1] >= crops[k].shape[0]][: MIN_VOTES - 1]


def turned_by_reading(degrees: int, as_decided: float, turned: float, sure: float = READ_SURE) -> bool:
    """Whether a page of under MIN_VOTES lines, decided `degrees`, is to be turned a half turn
    more by how its lines read: the recognizer's mean character confidence over the sampled lines
    as decided and turned. On such pages the classifier sees a nearly blank centre and one line
    classifier vote decides nothing. Turned when the lines read confidently (READ_SURE) and
    clearly better (READ_MARGIN) turned, and, since upright is the common case, a half turn that
    the reading does not back by HALF_TURN_LEAD is undone. Measured on 780 pages of one to three
    lines cut from tess, docbank and sroie pages, upright and upside down
    (benchmarks/sparse_orientation.py)."""
    if turned >= sure and turned >= as_decided + READ_MARGIN:
        return True
    return degrees == 180 and as_decided < turned + HALF_TURN_LEAD


def _quarter_turn_by_lines(flip_votes: tuple[int, int], axes: tuple[int, int]) -> int:
    """The quarter turn of a page whose lines mostly run down it (the opposite of
    _quarter_turn_confirmed): 90 if most sampled lines, each cropped to read downwards (see
    recognition.crop_lines), read upright, 270 if most read upside down; else (a tie, or too few
    lines) 0. The majority is asked, not FLIP_SHARE: the page is turned either way, and on the
    pages of docbank 0-19, sroie 0-19 and cuts of them the line classifier read at most half of a
    page's upright lines as upside down, but as few as a third of its upside-down ones."""
    across, down = axes
    if across + down < MIN_VOTES or down < ACROSS_SHARE * (across + down):
        return 0
    flipped, sampled = flip_votes
    if 2 * flipped == sampled:
        return 0
    return 270 if 2 * flipped > sampled else 90


def votes_split(flip_votes: tuple[int, int]) -> bool:
    """Whether enough lines were sampled but too few of them read one way to confirm or overrule a
    half turn (FLIP_SHARE): display equations, figure labels. The page is then settled by how its
    lines read (turned_by_reading), as a page of too few lines to vote is, but with SPLIT_READ_SURE:
    such lines read less surely the right way up (0.83-0.98 on the four such pages, upside down, of
    docbank 0-19, sroie 0-19 and cuts of 4-8 lines from them; never 0.2 better the wrong way up)."""
    flipped, sampled = flip_votes
    return sampled >= MIN_VOTES and (1 - FLIP_SHARE) * sampled < flipped < FLIP_SHARE * sampled


def votes_needed(page_probs: np.ndarray) -> bool:
    """Whether the lines' upside-down votes can change the decision: not on a page the classifier
    is sure is upright, which decide never overrules (most pages; it saves the line classifier's
    ~18 ms a docbank page)."""
    return not (propose(page_probs) == 0 and page_probs[0] >= PAGE_CONFIDENCE)


def decide(page_probs: np.ndarray, flip_votes: tuple[int, int], axes: tuple[int, int]) -> Orientation:
    """Combine the page classifier's proposal with the lines' votes and axes, both taken on the page
    turned as proposed."""
    probs = tuple(float(p) for p in page_probs)
    proposal = propose(page_probs)
    flipped, sampled = flip_votes
    lines_disagree = sampled >= MIN_VOTES and flipped >= FLIP_SHARE * sampled

    def result(degrees: int, confidence: float) -> Orientation:
        return Orientation(degrees, confidence, probs, flip_votes, axes)

    if proposal == 0:
        # Never overrule a confident "upright": upright pages are the common case and the line
        # classifier errs on clean pages.
        if probs[0] >= PAGE_CONFIDENCE:
            return result(0, probs[0])
        # Unsure (a page of figures), but its lines run down it: turned a quarter.
        if quarter := _quarter_turn_by_lines(flip_votes, axes):
            return result(quarter, max(flipped, sampled - flipped) / sampled)
        if lines_disagree:
            return result(180, flipped / sampled)
        return result(0, probs[0])
    if proposal == 180:
        if _half_turn_confirmed(flip_votes):
            return result(180, probs[2])
        return result(0, flipped / sampled if lines_disagree else probs[0])
    if not _quarter_turn_confirmed(axes):
        return result(0, probs[0])
    if lines_disagree:  # the classifier mixed up 90 and 270
        return result((proposal + 180) % 360, flipped / sampled)
    return result(proposal, probs[ANGLES.index(proposal)])
