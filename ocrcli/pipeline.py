"""The OCR pipeline: page image -> orientation -> detection -> recognition -> words -> reading order."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import statistics
import time
from collections.abc import Iterable, Iterator

import numpy as np

from ocrcli import fingerprint, layout, linesplit, models, skew
from ocrcli.charset import non_cjk_indices, unspaced_script
from ocrcli.derived import derived_model
from ocrcli.detection import DetectorSettings, detect, detector_scale
from ocrcli.document import Box, Document, Line, Page, Word, box_of_quad, shows_text
from ocrcli.errors import one_line
from ocrcli.geometry import rotate_image, scaled, unrotate_points
from ocrcli.imageio import iter_pages, to_rgb
from ocrcli.ink import Stamps, horizontal_rules, ink_contrast, wash_stamps, without_rules
from ocrcli.ligatures import restored
from ocrcli.orientation import (
    MIN_VOTES,
    READ_SURE,
    SPLIT_READ_SURE,
    Orientation,
    classify_page,
    decide,
    line_axes,
    propose,
    reading_sample,
    turned_by_reading,
    upside_down_votes,
    votes_needed,
    votes_split,
)
from ocrcli.recognition import (
    CROP_HEIGHT,
    LineCrop,
    LineReading,
    RecognizerSettings,
    crop_lines,
    recognize,
    with_stacked_rows,
)
from ocrcli.runtime import (
    Model,
    default_threads,
    keep_freed_memory,
    limit_opencv_threads,
    release_freed_memory,
    usable_threads,
)
from ocrcli.words import (
    WordSpan,
    mean_confidence,
    place_line,
    whole_line_word,
    word_spans,
)

MIN_LINE_CONFIDENCE = 0.5  # lines read with less are mostly noise (specks, rules, pictures)
STAMP_LINE_CONFIDENCE = 0.75  # see Engine._stamp_lines
# A line of one or two characters (a receipt's quantity "1", a lone ":") reads with a noisier
# confidence; dropping one loses a whole line, keeping a wrong one costs a character or two.
# Measured: sroie line recall 98.85 -> 98.998 % (1976 of 1996 lines), case-insensitive CER 4.85 -> 4.92 %;
# docbank and tess unchanged.
SHORT_LINE_CHARS, MIN_SHORT_LINE_CONFIDENCE = 2, 0.3
CJK_TEXT_CHARS, STRAY_MARK_CHARS = 3, 3  # see _without_stray_ideographs
CJK_CHAR_WIDTH = 0.65  # in crop heights, see Engine._fits_cjk_text
# A line read as fewer characters than this per crop height of its length was mostly read as
# blank: without CJK classes the recognizer reads Chinese characters as nothing, and keeps the
# full-width "，" and "。" between them, confidently, as "," and "." (a page of eight lines of Chinese
# lost six so; their lines held 0.1-0.4 characters per height). Lines of the ground-truth sets hold
# at least 0.29 (a receipt's stamp read as "R"), and nearly all of them more than 1.
SPARSE_CHARS = 0.5
PATTERN_LETTERS = 6  # see _border_pattern
# A line whose ink stands out from its paper by less than FAINT_SHARE of the page's text (the
# median over its lines read at SURE_CONFIDENCE or more, of at least 3 characters; at least
# SURE_LINES of them), unless read at FAINT_CONFIDENCE or more, is the back page's text showing
# through: read as garbage ("O H 8 M 0 2 T U a M O W M U 2" at 0.66). Measured on pages given
# bleed-through (the next page of the set, mirrored and blurred, at 15 % of its darkness), tuned
# on sroie 0-9 and docbank 0-9, checked on sroie 20-39 and docbank 20-39: ci-CER 16.90 -> 5.20 %
# and anchored CER 17.62 -> 3.44 % (3.16 and 2.06 without bleed-through); at 30 %, 35.09 -> 10.67
# and 41.11 -> 13.48 %. Bleed-through lines stood at 0.1-0.35 of the page's contrast, the
# faintest text of the sets (a receipt's faded stamp) at 0.5; a light grey line read as surely as
# FAINT_CONFIDENCE is kept.
FAINT_SHARE, FAINT_CONFIDENCE, SURE_CONFIDENCE, SURE_LINES = 0.4, 0.98, 0.95, 3
# Words re-read by the reviewer come with this many neighbours per side: measured on docbank,
# 1 gains little, 2 most, 3 a little more for ~5% more CPU (see the issue notes)...
REVIEW_CONTEXT = 3
# ...but only neighbours reaching at most this many crop heights (~11 characters) beyond the
# doubtful words. Measured 2026-12-03 on 20 docbank pages: 4 rather than 6 heights cut the
# reviewer's columns by 16 % (83,448 -> 70,424) and the whole command's CPU by 3.7 % (paired, 4
# alternating rounds), for docbank CER / anchored / BoW F1 / box F1 3.35 / 2.12 / 93.58 / 92.67
# against 3.34 / 2.10 / 93.60 / 92.69, sroie ci-CER 4.41 against 4.40, tess 1.02 the same.
REVIEW_REACH = 4
# Pages whose text runs closer to level than this (degrees) are ordered from their boxes as they
# are, as before: the order from boxes copes with a skew of 1 degree (tests/test_layout.py), and
# level renderings measure under 0.31. At 0.5, ocrmypdf_multipage p1 (0.65) had a picture's labels
# read before, not after, the column lines beside them; they then shared text rows, and pdftotext
# glued their words in the PDF (recall 1.0 -> 0.97).
LEVEL_SKEW = 1.0
# Lines this many degrees or more off the page's text direction and its perpendicular (a chart's
# labels at 45 degrees), side by side within PARALLEL of each other's direction, are read in
# their own frame (see _slanted_runs_in_their_frame).
SLANTED, PARALLEL = 20.0, 10.0
# ...if they are at least this many of their heights long: the quad of a short word ("40", a
# tick label) can come out tilted by 45 degrees on a level page.
SLANT_LENGTH = 1.5


def _chars(line: Line) -> int:
    """How many characters a line has besides spaces."""
    return len(line.text.replace(" ", ""))


def _confident(line: Line) -> bool:
    short = _chars(line) <= SHORT_LINE_CHARS
    return line.confidence >= (MIN_SHORT_LINE_CONFIDENCE if short else MIN_LINE_CONFIDENCE)


def _without_faint_lines(lines: list[Line | None], crops: list[LineCrop]) -> list[Line | None]:
    """The lines (None for a crop read as nothing), with those that are bleed-through set to None
    (see FAINT_SHARE). Only the crops of sure lines and of doubtful ones are measured."""
    pairs = list(zip(lines, crops, strict=True))
    sure = [
        ink_contrast(crop.image)
        for line, crop in pairs
        if line is not None and line.confidence >= SURE_CONFIDENCE and _chars(line) >= 3
    ]
    if len(sure) < SURE_LINES:
        return lines
    bar = FAINT_SHARE * float(np.median(sure))
    return [
        None
        if line is not None and line.confidence < FAINT_CONFIDENCE and ink_contrast(crop.image) < bar
        else line
        for line, crop in pairs
    ]


def _border_pattern(line: Line) -> bool:
    """A line of one letter over and over, with no digit ("w w wwww wwwwwww"): a zigzag border or
    a pattern read as text, not words (no line of the ground-truth sets is one)."""
    letters = [c.lower() for c in line.text if c.isalpha()]
    return len(letters) >= PATTERN_LETTERS and len(set(letters)) == 1 and not any(map(str.isdigit, line.text))


def _without_stray_ideographs(lines: list[Line]) -> list[Line]:
    """The lines with the CJK characters of short lines taken out, unless the page writes CJK (a
    line of CJK_TEXT_CHARS or more): on a page in another script such a character is a mark the
    recogniser took for an ideograph (a chart's axis ticks came out as a row of 17 "不", a
    receipt's "*S" as "*ー"). Lines and words left empty go, and a line's box shrinks to the words
    it keeps."""
    if any(sum(map(unspaced_script, ln.text)) >= CJK_TEXT_CHARS for ln in lines):
        return lines
    kept = []
    for line in lines:
        if _chars(line) <= STRAY_MARK_CHARS and any(map(unspaced_script, line.text)):
            words = [
                Word(text, w.quad, w.confidence)
                for w in line.words
                if (text := "".join(c for c in w.text if not unspaced_script(c)))
            ]
            if not words:
                continue
            if len(words) < len(line.words):
                line = linesplit.part_line(line, words)
            else:
                line = Line(" ".join(w.text for w in words), line.quad, line.confidence, words, line.block)
        kept.append(line)
    return kept


# A word lying this much (share of its box) inside a word of another line, which it is part of, is
# that word read twice (see _without_words_read_twice)
WITHIN_OTHER_WORD = 0.8


def _without_words_read_twice(lines: list[Line]) -> list[Line]:
    """The lines without words that another line's word covers and says: where the detector
    found two overlapping boxes on one line, the ink they share was read in both ("This i" and
    "is a lot of 12", a line cropped tight to its text; a formula's subscript "2" beside "LrL2"). A
    word goes if WITHIN_OTHER_WORD of its box lies inside a word of another line whose text holds
    its own (case aside); of two such words that hold each other, the one in the shorter line (or
    the later). A line loses only those words, in parts where they were inside it."""
    if len(lines) < 2:
        return lines
    line_boxes = np.array([box_of_quad(line.quad) for line in lines])
    x0, y0, x1, y1 = line_boxes.T
    gone: set[tuple[int, int]] = set()
    for k, line in enumerate(lines):
        meets = (x0 < x1[k]) & (x0[k] < x1) & (y0 < y1[k]) & (y0[k] < y1)
        others = [other for other in np.flatnonzero(meets) if other != k]
        for n, word in enumerate(line.words):
            text, box = word.text.casefold(), word.box
            if not text:
                continue
            for other in others:
                if any(
                    (other, m) not in gone
                    and text in candidate.text.casefold()
                    and _share_inside(box, candidate.box) >= WITHIN_OTHER_WORD
                    and not _keeps_both_readings(lines, k, other, text, box, candidate)
                    for m, candidate in enumerate(lines[other].words)
                ):
                    gone.add((k, n))
                    break
    if not gone:
        return lines
    return [
        part
        for k, line in enumerate(lines)
        for part in linesplit.kept_parts(line, [(k, n) not in gone for n in range(len(line.words))])
    ]


def _keeps_both_readings(lines: list[Line], k: int, other: int, text: str, box: Box, candidate: Word) -> bool:
    """Of two words that cover and say each other, line k's is kept if its line is the longer one
    (in words; of equal ones, the earlier): the other's goes in its turn."""
    mutual = candidate.text.casefold() == text and _share_inside(candidate.box, box) >= WITHIN_OTHER_WORD
    return mutual and (len(lines[k].words), -k) > (len(lines[other].words), -other)


def _share_inside(box: Box, other: Box) -> float:
    """The share of `box`'s area (x0, y0, x1, y1) inside `other`."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return width * height / area if width > 0 and height > 0 and area > 0 else 0.0


class Engine:
    """Loads the models of one tier once; then reads any number of pages."""

    def __init__(
        self,
        tier: str = "fast",
        models_dir: str | os.PathLike | None = None,
        threads: int | None = None,
        detector: DetectorSettings | None = None,
        recognizer: RecognizerSettings | None = None,
        cjk: bool = False,
    ):
        # What the CLI refuses is refused here too: threads 0 was taken as the default and -1 as
        # one thread, models_dir "" as the default models, cjk "no" as True.
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1
        ):
            raise ValueError(
                f"threads must be a whole number from 1, or None for the default; got {threads!r}"
            )
        if models_dir is not None and not os.fspath(models_dir):
            raise ValueError("models_dir is empty: give a folder, or None for the installed models")
        if not isinstance(cjk, bool):
            raise TypeError(f"cjk must be True or False, not {cjk!r}")
        self.models = models.select(tier, models_dir)
        keep_freed_memory()
        # int(): numpy's integers are taken too
        threads = usable_threads(default_threads() if threads is None else int(threads))
        limit_opencv_threads(threads)
        self.page_classifier = _loaded(self.models.page_orientation, threads)
        self.line_classifier = _loaded(self.models.line_orientation, threads)
        self.detector = _loaded(self.models.detector, threads)
        self.threads = threads
        self.cjk = cjk
        self.recognizer, self.classes = self._recognizer(self.models.recognizer, cjk)
        # The reviewer, without and with CJK classes, each loaded on first use; one from a models
        # folder (--models) now, so that one that does not fit fails here, before any page.
        self._reviewers: dict[bool, tuple[Model, list[str]]] = {}
        if self.models.reviewer is not None and self.models.reviewer.package is None:
            self._reviewer_model(cjk)
        # The manifest's detector thresholds (checked by models.load_manifest), unless given here.
        self.detector_settings = detector or DetectorSettings(**self.models.detector.postprocess)
        self.recognizer_settings = recognizer or RecognizerSettings()

    def read(self, source: str | bytes | os.PathLike | np.ndarray) -> Document:
        """OCR an image file (every frame of it) or an RGB numpy array."""
        start = time.perf_counter()
        if isinstance(source, (bytes, os.PathLike)):  # a path as the OS gives it, or a path object
            # as the path it stands for: str() of an os.DirEntry is its repr, which became the
            # JSON's source.path, and one giving bytes (os.scandir(b"...")) was a TypeError
            source = os.fsdecode(os.fspath(source))
        if not isinstance(source, (str, np.ndarray)):
            raise TypeError(f"read() takes a path or an RGB numpy array, not {type(source).__name__}")
        if isinstance(source, np.ndarray):
            pages = [self.read_page(to_rgb(source), 1, None)]
            origin = {"path": None, "sha256": None}
        else:
            if not os.fspath(source):  # was "is a directory", the working folder's
                raise ValueError("read() takes a path, not an empty one")
            sha256 = fingerprint.input_sha256(source)  # before it is read: a version saved meanwhile is seen
            with fingerprint.changes_told([source], [sha256]):  # saved over as it is read: "changed"
                pages = list(self.iter_read(source))
            fingerprint.verify_unchanged(source, sha256)
            origin = {"path": source, "sha256": sha256}
        return Document(origin, pages, self.models.names(), {"total": time.perf_counter() - start})

    def iter_read(self, path: str | os.PathLike) -> Iterator[Page]:
        for frame in iter_pages(path):
            yield self.read_page(frame.image, frame.index + 1, frame.dpi)

    def read_page(self, image: np.ndarray, number: int = 1, dpi: float | None = None) -> Page:
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        height, width = image.shape[:2]

        upright, _, crops, orientation = self.orient(image, clock)
        with clock("recognition"):
            model, classes, settings = self.recognizer, self.classes, self.recognizer_settings
            readings = recognize(model, crops, classes, settings)
            readings = with_stacked_rows(model, crops, readings, classes, settings)
            crops = [r.crop for r in readings]  # the way each was read (see RecognizerSettings.sure_vertical)
            spans = [word_spans(r.chars, r.step_width, c) for r, c in zip(readings, crops, strict=True)]
            self._review(spans, crops)
            if self.models.recognizer.mend_ligatures:
                for span in (span for line_spans in spans for span in line_spans):
                    span.text = restored(span.text, span.nearly_read)
            lines = [place_line(*_lone_character_across(s, c)) for s, c in zip(spans, crops, strict=True)]
            lines = _without_faint_lines(lines, crops)
            lines = [ln for ln in lines if ln is not None and _confident(ln) and not _border_pattern(ln)]
            if not shows_text(lines, self.recognizer_settings.min_page_confidence):
                lines = []  # see RecognizerSettings.min_page_confidence
            lines = _without_stray_ideographs(lines)
            lines = _without_words_read_twice(lines)
        with clock("layout"):
            lines = _in_reading_order(lines, upright.shape[1], upright.shape[0], upright)
            lines = [_to_page_frame(line, orientation.degrees, width, height) for line in lines]
        release_freed_memory()  # the page's buffers are free now: keep no more than the bound
        return Page(
            page=number,
            width=width,
            height=height,
            dpi=dpi,
            orientation=orientation.degrees,
            orientation_confidence=orientation.confidence,
            lines=lines,
            timings=timings,
        )

    def orient(
        self, image: np.ndarray, clock: _Clock | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[LineCrop], Orientation]:
        """Turn the page upright and find its lines: (upright image, line quads, crops, decision)."""
        clock = clock or _Clock({})
        with clock("orientation"):
            probs = classify_page(self.page_classifier, image)
            proposal = propose(probs)
            upright = rotate_image(image, -proposal)
        with clock("detection"):
            quads, crops = self._find_lines(upright)
        with clock("orientation"):
            votes = (0, 0)
            if votes_needed(probs):
                votes = upside_down_votes(self.line_classifier, [c.image for c in crops])
            orientation = decide(probs, votes, line_axes(quads))
            turn = (orientation.degrees - proposal) % 360
            if turn == 180:  # the lines overruled the classifier by a half turn
                upright, quads, crops = self._half_turned(upright, quads)
        if turn in (90, 270):  # the lines did not confirm the proposed quarter turn, or found one
            upright = rotate_image(image, -orientation.degrees)
            with clock("detection"):
                quads, crops = self._find_lines(upright)
        split = orientation.degrees in (0, 180) and votes_split(votes)
        with clock("orientation"):
            if (confidence := self._turned_confidence(orientation.degrees, crops, split)) is not None:
                upright, quads, crops = self._half_turned(upright, quads)
                degrees = (orientation.degrees + 180) % 360
                orientation = dataclasses.replace(orientation, degrees=degrees, confidence=confidence)
        return upright, quads, crops, orientation

    def _half_turned(
        self, page: np.ndarray, quads: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[LineCrop]]:
        """The page turned by 180 degrees, its line quads turned with it, and their crops."""
        turned = rotate_image(page, 180)
        if wash_stamps(turned) is not None:  # its lines were found on two images: found again
            return turned, *self._find_lines(turned)
        quads = _half_turn(quads, turned.shape[1], turned.shape[0])
        return turned, quads, self._crops(turned, quads)

    def _turned_confidence(self, degrees: int, crops: list[LineCrop], split: bool) -> float | None:
        """On a page of under MIN_VOTES sampled lines, or whose lines' votes were `split`, decided
        `degrees`: the recognizer's mean confidence in them turned a half turn, if the page is to
        be turned so (see orientation.turned_by_reading); else None. Other pages are left to the
        classifier and the line votes."""
        sample = [crops[k] for k in reading_sample([c.image for c in crops])]
        if not (0 < len(sample) < MIN_VOTES or split):
            return None
        turned = [LineCrop(np.ascontiguousarray(c.image[::-1, ::-1]), c.matrix, c.margin) for c in sample]
        readings = recognize(self.recognizer, sample + turned, self.classes, self.recognizer_settings)
        as_decided = _character_confidence(readings[: len(sample)])
        turned_back = _character_confidence(readings[len(sample) :])
        sure = SPLIT_READ_SURE if split else READ_SURE
        return turned_back if turned_by_reading(degrees, as_decided, turned_back, sure) else None

    def _find_lines(self, page: np.ndarray) -> tuple[np.ndarray, list[LineCrop]]:
        """The text lines' quads on a page and their crops.

        Coloured strokes over black text (a rubber stamp over a receipt's lines) join and break
        the lines found under them, so such a page's lines are found and read with those strokes
        washed out, and the strokes' own text (the stamp's "RECEIVED") on them alone (see
        ink.wash_stamps)."""
        stamps = wash_stamps(page)
        if stamps is None:
            quads = detect(self.detector, page, self.detector_settings)
            return quads, self._crops(page, quads)
        quads = detect(self.detector, stamps.washed, self.detector_settings)
        own, own_crops = self._stamp_lines(stamps, page.shape[:2], quads)
        return np.concatenate([quads, own]), self._crops(stamps.washed, quads) + own_crops

    def _crops(self, page: np.ndarray, quads: np.ndarray) -> list[LineCrop]:
        """The crops of the lines' `quads` on the page, cut from the page with the rules through
        its text painted out (see ink.RULE_LENGTH). The lines are found on the page as it is:
        found again on the painted page, the ruled pages lost 1189 rather than 1261 of 13,968
        words to fill-in lines, for 8-25 % more CPU a page."""
        washed = without_rules(page, quads)
        return crop_lines(page if washed is None else washed, quads, self.recognizer_settings)

    def _stamp_lines(
        self, stamps: Stamps, page_shape: tuple[int, int], found: np.ndarray
    ) -> tuple[np.ndarray, list[LineCrop]]:
        """The quads and crops of the stamps' own lines of text, found on their box at the scale
        the page's lines were searched at, each grown less than a page's line: a stamp's frame lies
        close round its words. (Enlarged to the detector's min_side, as a small image would be,
        and grown as usual, a stamp's big letters came out in one box with its frame, and read as
        nothing.) Lines already `found` on the washed page are left out (see _not_found). Only
        lines first read as two characters or more at STAMP_LINE_CONFIDENCE are kept: a pen's
        ring round a word read as "0" or "O" (at up to 0.95), an empty frame (a hyperref link's
        box round a citation) as "D0" or "-00" (0.5-0.72), and the reviewer made a confident "□"
        of such; a stamp's words read at 0.75-1.0, now and then less."""
        x0, y0, _, _ = stamps.box
        scale = detector_scale(*page_shape, self.detector_settings)
        box = scaled(stamps.ink, scale)
        settings = dataclasses.replace(self.detector_settings, min_side=0, unclip_ratio=1.2, compact_grow=0.0)
        quads = detect(self.detector, box, settings)
        quads = quads / scale + np.array([x0, y0], dtype=quads.dtype)
        quads = quads[_not_found(quads, found)]  # coloured text washed faint, still found there
        crops = crop_lines(stamps.ink, quads, self.recognizer_settings, (x0, y0))
        if not crops:
            return quads, crops
        readings = recognize(self.recognizer, crops, self.classes, self.recognizer_settings)
        kept = [
            k for k, r in enumerate(readings) if len(r.chars) >= 2 and r.confidence >= STAMP_LINE_CONFIDENCE
        ]
        return quads[kept], [crops[k] for k in kept]

    def _review(self, spans: list[list[WordSpan]], crops: list[LineCrop]) -> None:
        """Re-read with the (larger) reviewer model the words the recognizer was unsure of.

        Each doubtful word is re-read with REVIEW_CONTEXT words of its line on either side (the
        recogniser needs context: isolated words read worse than the first reading), and the reviewer's words
        replace the whole window, so it can also split or join words. Whole lines would cost
        several times more. The reviewer's reading is kept unless it is clearly less sure; it is
        better on most doubtful words, not on every tiny crop, such as a lone digit.

        Without --cjk the reviewer, like the recognizer, weighs no CJK classes (its last layer is a
        sixth of its time). A line that stays unread, doubtful throughout or mostly read as blank, as
        a line in Chinese is, is then re-read whole with all classes if it is long enough to be CJK
        text.
        """
        if self.models.reviewer is None:
            return
        unread = [] if self.cjk else [i for i, ln in enumerate(spans) if ln and self._unread(ln, crops[i])]
        self._reread(spans, crops, range(len(spans)), self.cjk)
        still_unread = [
            i for i in unread if self._unread(spans[i], crops[i]) and self._fits_cjk_text(crops[i])
        ]
        self._reread(spans, crops, still_unread, True, whole=True)

    def _unread(self, line: list[WordSpan], crop: LineCrop) -> bool:
        """Whether a line was not read: every word unsure, or too few characters for its length
        (read mostly as blank, see SPARSE_CHARS)."""
        start, end = crop.line_part
        chars = sum(len(word.text) for word in line)
        # Unsure as a whole, not for one weak character: a Latin line with one in every word is
        # read, and re-reading it with all classes loaded a second recogniser (+90 MB, +8 % CPU).
        unsure = all(word.confidence < self.recognizer_settings.review_below for word in line)
        return unsure or chars < SPARSE_CHARS * (end - start) / CROP_HEIGHT

    def _fits_cjk_text(self, crop: LineCrop) -> bool:
        """Whether a line is long enough for CJK_TEXT_CHARS CJK characters (each measured 0.65-0.77
        crop heights wide). Shorter lines that stay doubtful on Latin pages are figure
        labels and bits of formulas ("2", "km"): re-reading them with all classes cost a docbank
        page 1.7 inferences and gained nothing."""
        start, end = crop.line_part
        return end - start >= CJK_TEXT_CHARS * CJK_CHAR_WIDTH * CROP_HEIGHT

    def _doubtful(self, word: WordSpan) -> bool:
        settings = self.recognizer_settings
        weak = word.weakest is not None and word.weakest < settings.review_weakest
        return word.confidence < settings.review_below or weak

    def _reread(
        self,
        spans: list[list[WordSpan]],
        crops: list[LineCrop],
        lines: Iterable[int],
        cjk: bool,
        whole: bool = False,
    ) -> None:
        """Re-read the doubtful words of `lines` (all their words if `whole`), in their windows,
        with the reviewer (with or without CJK classes)."""
        reach = REVIEW_REACH * CROP_HEIGHT
        windows = []
        for i in lines:
            doubtful = [whole or self._doubtful(word) for word in spans[i]]
            for first, last in _review_windows(doubtful, REVIEW_CONTEXT):
                windows.append((i, *_within_reach(spans[i], doubtful, first, last, reach)))
        if not windows:
            return
        model, classes = self._reviewer_model(cjk)
        bounds = [
            _window_bounds(spans[i], first, last, crops[i].image.shape[1]) for i, first, last in windows
        ]
        # Windows keep their line's matrix: their words are shifted back into line-crop columns below.
        window_crops = [
            LineCrop(np.ascontiguousarray(crops[i].image[:, x0:x1]), crops[i].matrix)
            for (i, _, _), (x0, x1) in zip(windows, bounds, strict=True)
        ]
        readings = recognize(model, window_crops, classes, self.recognizer_settings)
        # Replace from the right, so earlier windows' word indices stay valid.
        jobs = list(zip(windows, bounds, window_crops, readings, strict=True))
        for (i, first, last), (x0, _), crop, reading in reversed(jobs):
            # Back into line-crop columns, within the line's part: a window may take in the margin
            # columns at the line's ends, which lie outside its quad; a word read there alone goes.
            lo, hi = crops[i].line_part
            second = []
            for word in word_spans(reading.chars, reading.step_width, crop):
                word.start, word.end = max(word.start + x0, lo), min(word.end + x0, hi)
                if word.end > word.start:
                    second.append(word)
            if not second or mean_confidence(second) <= mean_confidence(spans[i][first : last + 1]) - 0.2:
                continue
            spans[i][first : last + 1] = second

    def _recognizer(self, spec: models.ModelSpec, cjk: bool) -> tuple[Model, list[str]]:
        """A recognition model and its class list; without CJK, its last layer is sliced (see
        ocrcli.derived, which also approximates the fast recogniser's GELUs)."""
        classes = models.read_dictionary(self.models.dictionaries[spec.name])
        keep = None if cjk else non_cjk_indices(classes)
        with _named(spec):
            data = derived_model(spec, len(classes), keep)
            sliced = data is not None and keep is not None
            if data is None and keep is not None:  # the last layer could not be sliced: all classes
                data = derived_model(spec, len(classes), None)
        if sliced:
            classes = [classes[i] for i in keep]  # type: ignore[union-attr]  # sliced: keep is given
        return _loaded(spec, self.threads, data, len(classes)), classes

    def _reviewer_model(self, cjk: bool) -> tuple[Model, list[str]]:
        if cjk not in self._reviewers:
            assert self.models.reviewer is not None
            self._reviewers[cjk] = self._recognizer(self.models.reviewer, cjk)
        return self._reviewers[cjk]


def check_model(spec: models.ModelSpec, manifest: models.Manifest) -> None:
    """Load a model of the manifest (not a dictionary) and check that it fits its role as the
    engine does when it loads it: a ModelError naming the file if not (`ocr models` reports it)."""
    classes = None
    if spec.role == "recognizer":
        classes = len(models.read_dictionary(manifest.find(spec.dictionary)))
    _loaded(spec, 1, classes=classes)


def _loaded(
    spec: models.ModelSpec, threads: int, data: bytes | None = None, classes: int | None = None
) -> Model:
    """The model of `spec` loaded (from `data`, the model as derived, if given) and checked
    against its role (see _checked), or a ModelError naming it (see _named)."""
    with _named(spec):
        model = Model(spec.path, threads, data)
    return _checked(model, spec, classes)


@contextlib.contextmanager
def _named(spec: models.ModelSpec) -> Iterator[None]:
    """A file that cannot be loaded as a model is said to be the model it is, with how to mend it,
    as a missing or damaged one is: a truncated recognizer listed without a hash was only its
    path and the parser's words, which differed between `ocr models` (onnxruntime's) and the
    engine (onnx's, deriving the recognizer)."""
    try:
        yield
    except models.ModelError as exc:
        detail = one_line(exc.__cause__) if exc.__cause__ is not None else str(exc)
        raise models.ModelError(models.trouble(spec, f"cannot load it as an ONNX model ({detail})")) from exc


def _checked(model: Model, spec: models.ModelSpec, classes: int | None = None) -> Model:
    """`model`, if its input and output fit its role (and a recognizer's classes its dictionary's
    `classes`: blank, characters, space); else a ModelError naming the file. Before, a detector
    given as a recognizer (or a dictionary of another recognizer) failed on every page with an
    onnxruntime error, or read garbage with exit 0."""
    fed = models.FED[spec.role]
    kind = fed["kind"]
    inputs, outputs = model.session.get_inputs(), model.session.get_outputs()
    given_in = inputs[0].shape if len(inputs) == 1 else []
    given_out = outputs[0].shape if outputs else []

    def fits(given: list, expected: tuple) -> bool:
        """Sizes after the batch's: a number must be that size, if fixed; H and W must be free (the
        page's, the line's); other names may be any size."""
        if len(given) != len(expected) + 1:
            return False
        for dim, want in zip(given[1:], expected, strict=True):
            fixed = isinstance(dim, int) and dim > 0
            if fixed and (want in ("H", "W") or (isinstance(want, int) and dim != want)):
                return False
        return True

    def known(shape: list) -> str:
        """A session's shape, its symbolic or unknown sizes as "?"."""
        return " x ".join(str(d) if isinstance(d, int) and d > 0 else "?" for d in shape)

    def fed_sizes(shape: tuple) -> str:
        return " x ".join(map(str, ("N", *shape)))

    if model.input_dtype is None:
        raise models.ModelError(
            f"model {spec.name} ({spec.path}): takes a {inputs[0].type}; ocrcli feeds a {kind} "
            "floats (float32, float16 or double)"
        )
    if not fits(given_in, fed["shape"]) or not fits(given_out, fed["gives"]):
        raise models.ModelError(
            f"model {spec.name} ({spec.path}): not a {kind} as ocrcli runs one: it takes "
            f"{known(given_in) or 'no single input'} and gives {known(given_out)}; a {kind} takes "
            f"{fed_sizes(fed['shape'])} and gives {fed_sizes(fed['gives'])}"
        )
    if classes is not None:
        scored = given_out[-1]
        if not (isinstance(scored, int) and scored > 0):  # declared free: count them on a blank crop
            scored = model(np.zeros((1, 3, CROP_HEIGHT, CROP_HEIGHT * 4), np.float32)).shape[-1]
        if scored != classes:
            raise models.ModelError(
                f"model {spec.name} ({spec.path}) scores {scored} classes, but its dictionary "
                f"{spec.dictionary} makes {classes} (the CTC blank, {classes - 2} characters, the space): "
                "not this recognizer's dictionary"
            )
    return model


def _lone_character_across(words: list[WordSpan], crop: LineCrop) -> tuple[list[WordSpan], LineCrop]:
    """A line of one character read top to bottom, placed as if read across (else the line as it
    is): a lone character has no direction of its own, and drawn top to bottom in the text layer
    it stood apart from its row (two tax codes "S" stacked in a receipt's column came out of
    pdftotext as one word "SS")."""
    if crop.across is not None and len(words) == 1 and len(words[0].text) == 1:
        return [whole_line_word(words[0].text, words[0].confidence, crop.across)], crop.across
    return words, crop


def _review_windows(doubtful: list[bool], context: int) -> list[tuple[int, int]]:
    """(first, last) word indices of windows around doubtful words, with `context` neighbours per
    side; overlapping or touching windows merged."""
    windows: list[tuple[int, int]] = []
    for k, is_doubtful in enumerate(doubtful):
        if not is_doubtful:
            continue
        first, last = max(0, k - context), min(len(doubtful) - 1, k + context)
        if windows and first <= windows[-1][1] + 1:
            windows[-1] = (windows[-1][0], last)
        else:
            windows.append((first, last))
    return windows


def _within_reach(
    line: list[WordSpan], doubtful: list[bool], first: int, last: int, reach: float
) -> tuple[int, int]:
    """Window first..last without the neighbours that extend more than `reach` crop pixels beyond
    its doubtful words."""
    lo = next(k for k in range(first, last + 1) if doubtful[k])
    hi = next(k for k in range(last, first - 1, -1) if doubtful[k])
    while first < lo and line[lo].start - line[first].start > reach:
        first += 1
    while last > hi and line[last].end - line[hi].end > reach:
        last -= 1
    return first, last


def _window_bounds(line: list[WordSpan], first: int, last: int, width: int) -> tuple[int, int]:
    """Crop columns of words first..last, with a margin that stops half-way to the next words."""
    pad = CROP_HEIGHT / 4
    start, end = line[first].start - pad, line[last].end + pad
    if first > 0:
        start = max(start, (line[first - 1].end + line[first].start) / 2)
    if last + 1 < len(line):
        end = min(end, (line[last].end + line[last + 1].start) / 2)
    return max(0, int(start)), min(width, int(np.ceil(end)))


def _not_found(quads: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Which of `quads` are no line already `found`: their boxes overlap none of those by half
    their union or more. (A chart's grey axis labels, JPEG-fringed, were washed as strokes and,
    still legible, read twice: on the washed page and on the strokes alone. A stamp's lines, larger
    than the text's and turned, overlap them less.)"""
    if not len(quads) or not len(found):
        return np.ones(len(quads), dtype=bool)
    a = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1)[:, None, :]  # (n, 1, 4) boxes
    b = np.concatenate([found.min(axis=1), found.max(axis=1)], axis=1)[None, :, :]  # (1, m, 4)
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    common = width * height
    area = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (
        b[..., 3] - b[..., 1]
    )
    return ~(2 * common >= area - common).any(axis=1)  # common over the union at least a half


def _rules(page: np.ndarray, level: list[Line], degrees: float) -> list[Box]:
    """The horizontal rules of the page turned level by `degrees` (see ink.horizontal_rules), as its
    `level` lines lie: at least a twentieth of the page wide and under a third of the median line's
    height thick. Looked for only where there are enough lines for columns (the reading order uses
    them to tell a ruled table from columns)."""
    if len(level) < 2 * layout.MIN_COLUMN_LINES:
        return []
    thickness = statistics.median(line.box[3] - line.box[1] for line in level) / 3
    return horizontal_rules(page, page.shape[1] // 20, thickness, degrees)


def _in_reading_order(
    lines: list[Line], width: int, height: int, page: np.ndarray | None = None
) -> list[Line]:
    """Lines in reading order, numbered by block. A line run across a column gutter is cut there
    first (see linesplit); pieces the reading order still reads one after the other are joined.
    On a skewed page both steps see the lines, and the `page`'s horizontal rules, turned level (see
    skew); the lines keep their place."""
    degrees = _skew(lines)
    level = _levelled(lines, degrees, width, height)
    rules = [] if page is None else _rules(page, level, degrees)
    pieces = []  # (line, first word, end): the parts of the lines cut at gutters
    for i, groups in enumerate(linesplit.cut_at_gutters(level)):
        start = 0
        for words in groups:
            pieces.append((i, start, start + len(words)))
            start += len(words)
    boxes = [linesplit.reading_box(level[i], level[i].words[a:b]) for i, a, b in pieces]
    ordered = []
    for number, block in enumerate(layout.reading_order(boxes, width, height, rules)):
        runs: list[list[int]] = []  # [line, first word, end]: its pieces read one after the other
        for index in block:
            line_index, start, end = pieces[index]
            if runs and runs[-1][0] == line_index and runs[-1][2] == start:
                runs[-1][2] = end
            else:
                runs.append([line_index, start, end])
        block_lines = []
        for line_index, start, end in runs:
            line = linesplit.part_line(lines[line_index], lines[line_index].words[start:end])
            line.block = number
            block_lines.append(line)
        ordered += _slanted_runs_in_their_frame(block_lines, degrees)
    return ordered


def _slanted_runs_in_their_frame(lines: list[Line], level: float) -> list[Line]:
    """A block's lines, with each run of two or more that lie SLANTED or more off the page's text
    direction `level` (degrees), parallel within PARALLEL, in the order of a paragraph turned
    along them: their first line the one furthest towards their letters' tops. A chart's labels
    set at 45 degrees along its axis were read by the boxes around them, which hang lower the
    longer the label: "Carcharoth Coren Guerillero ... Newyorkbrad Salvio giuliano ...", not
    along the axis, "Newyorkbrad NuclearWarfare WormThat Turned Carcharoth ..." (ocrmypdf_graph)."""
    ordered: list[Line] = []
    run: list[Line] = []  # slanted lines, parallel to the first
    for line in lines:
        angle = skew.direction(line.quad)
        if not _slanted(line, angle, level):
            ordered += sorted(run, key=_towards_tops) + [line]
            run = []
        elif run and abs(skew.difference(angle, skew.direction(run[0].quad))) > PARALLEL:
            ordered += sorted(run, key=_towards_tops)
            run = [line]
        else:
            run.append(line)
    return ordered + sorted(run, key=_towards_tops)


def _slanted(line: Line, angle: float, level: float) -> bool:
    """Does a line running at `angle` lie SLANTED or more off `level` and its perpendicular, and is
    it SLANT_LENGTH of its heights long, so that its angle means something?"""
    length, height = math.dist(line.quad[0:2], line.quad[2:4]), math.dist(line.quad[0:2], line.quad[6:8])
    return length >= SLANT_LENGTH * height and _off_axes(skew.difference(angle, level)) >= SLANTED


def _off_axes(degrees: float) -> float:
    """How far an angle lies from the nearest of 0, 90, 180 and 270 degrees (0 to 45)."""
    return abs((degrees % 90.0 + 45.0) % 90.0 - 45.0)


def _towards_tops(line: Line) -> tuple[float, float]:
    """How far a line lies against its letters' tops (smaller: first), then along its direction."""
    radians = math.radians(skew.direction(line.quad))
    along, tops = (math.cos(radians), math.sin(radians)), (math.sin(radians), -math.cos(radians))
    x, y = sum(line.quad[0::2]) / 4, sum(line.quad[1::2]) / 4
    return -(x * tops[0] + y * tops[1]), x * along[0] + y * along[1]


def _skew(lines: list[Line]) -> float:
    """Degrees the page's text runs clockwise of level (see skew.text_skew); 0 within LEVEL_SKEW of
    level, so that level pages keep their order."""
    degrees = skew.text_skew([line.quad for line in lines])
    return degrees if abs(degrees) >= LEVEL_SKEW else 0.0


def _levelled(lines: list[Line], degrees: float, width: int, height: int) -> list[Line]:
    """The lines as they would lie on the page turned level about its centre by `degrees`."""
    if not degrees:
        return lines
    centre = (width / 2, height / 2)
    return [line.moved(lambda quad: skew.turned(quad, -degrees, centre)) for line in lines]


def _character_confidence(readings: list[LineReading]) -> float:
    """The mean confidence of all characters read: a sliver of a line cut at the page's edge,
    read as a character or two, weighs as little as it holds."""
    chars = [char.confidence for reading in readings for char in reading.chars]
    return float(np.mean(chars)) if chars else 0.0


def _half_turn(quads: np.ndarray, width: int, height: int) -> np.ndarray:
    """Quads of an image turned by 180 degrees (corners still start at the text's top-left)."""
    turned = np.stack([width - quads[..., 0], height - quads[..., 1]], axis=-1)
    return np.roll(turned, 2, axis=1).astype(np.float32)


def _to_page_frame(line: Line, degrees: int, width: int, height: int) -> Line:
    """A line read on the upright page moved back into the frame of the page as the file shows it."""
    if degrees == 0:
        return line

    def move(quad: tuple[float, ...]) -> tuple[float, ...]:
        # The upright page is the original turned by -degrees; undo that turn.
        points = unrotate_points(np.array(quad).reshape(4, 2), -degrees, width, height)
        return tuple(float(v) for v in points.ravel())

    return line.moved(move)


class _Clock:
    """Adds the wall time of `with clock("stage"):` blocks into a dict."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    def __call__(self, stage: str) -> _Clock:
        self.stage = stage
        return self

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.start
        self.timings[self.stage] = self.timings.get(self.stage, 0.0) + elapsed
