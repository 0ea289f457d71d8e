"""Model-neutral parts of the pipeline on synthetic inputs: DB post-processing, CTC decoding,
word splitting and box mapping, orientation decisions, rotations."""

from __future__ import annotations

import json
import math
from typing import Any

import cv2
import numpy as np
import pytest

from ocrcli.ctc import DecodedChar, ctc_greedy
from ocrcli.derived import approximate_gelus
from ocrcli.detection import DetectorSettings, db_postprocess, detector_scale, order_corners
from ocrcli.document import Line, Word
from ocrcli.geometry import crop_transform, map_points, rotate_image, unrotate_points
from ocrcli.ink import BlankRuns, grey_percentiles, wash_stamps, without_rules
from ocrcli.longlines import Cut, Piece, cut_pieces, find_cuts, join_pieces
from ocrcli.orientation import _window, decide, votes_needed, votes_split
from ocrcli.recognition import (
    CROP_HEIGHT,
    LineCrop,
    RecognizerSettings,
    crop_lines,
    to_input,
    width_batches,
)
from ocrcli.words import place_line, split_words, word_spans


def probability_map(shape: tuple[int, int], rects: list[tuple]) -> np.ndarray:
    """A DB-like probability map: 0.9 inside the (rotated) rectangles, 0.02 elsewhere."""
    prob = np.full(shape, 0.02, dtype=np.float32)
    for rect in rects:
        cv2.fillPoly(prob, [cv2.boxPoints(rect).astype(np.int32)], 0.9)
    return prob


def test_db_postprocess_finds_each_text_region_grown_back_out():
    rects = [((100, 50), (120, 10), 0), ((200, 150), (150, 12), -20)]
    quads = db_postprocess(probability_map((240, 320), rects), DetectorSettings())
    assert len(quads) == 2
    quads = sorted(quads, key=lambda q: q[:, 1].mean())
    for quad, (centre, (w, h), _) in zip(quads, rects, strict=True):
        assert np.allclose(quad.mean(axis=0), centre, atol=2)
        top, side = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])
        # The kernel is grown by area * 1.4 / perimeter on each side (+1 px or so of rasterisation).
        grow = w * h * 1.4 / (2 * (w + h))
        assert top == pytest.approx(w + 2 * grow, abs=4)
        assert side == pytest.approx(h + 2 * grow, abs=4)
    # The second line is tilted by 20 degrees: its top edge must rise to the right.
    edge = quads[1][1] - quads[1][0]
    assert np.degrees(np.arctan2(-edge[1], edge[0])) == pytest.approx(20, abs=2)


def test_db_postprocess_drops_faint_and_tiny_regions():
    prob = probability_map((100, 100), [((50, 20), (60, 1.5), 0)])  # thinner than min_size
    prob[60:80, 10:90] = 0.3  # above thresh but below box_thresh
    assert len(db_postprocess(prob, DetectorSettings())) == 0


@pytest.mark.parametrize("angle", [0, 15, -15, 30, -30])
def test_order_corners_starts_top_left_and_runs_clockwise(angle):
    quad = order_corners(cv2.boxPoints(((100, 100), (80, 20), angle)))
    top, bottom = quad[1] - quad[0], quad[2] - quad[3]
    assert top[0] > 0 and bottom[0] > 0  # both long edges point right
    assert quad[:2, 1].mean() < quad[2:, 1].mean()  # top edge above bottom edge


def test_detector_first_scale_shrinks_big_pages_and_grows_small_ones():
    settings = DetectorSettings(max_side=1280, min_side=640)
    assert detector_scale(2200, 1700, settings) == pytest.approx(1280 / 2200)
    # A huge page is first searched small; detect() looks closer if its text is too small
    # (see test_huge_page_is_tiled_and_read in test_engine_real.py).
    assert detector_scale(9000, 9000, settings) == pytest.approx(1280 / 9000)
    assert 300 * detector_scale(300, 200, settings) >= 640 * 300 / 200 - 1


def one_hot(sequence: list[int], classes: int = 5) -> np.ndarray:
    probs = np.full((len(sequence), classes), 0.01, dtype=np.float32)
    probs[np.arange(len(sequence)), sequence] = 0.95
    return probs


def test_ctc_greedy_collapses_repeats_and_keeps_time_steps():
    classes = ["", "a", "b", "c", " "]
    # steps:   0  1  2  3  4  5  6  7  8  9
    sequence = [0, 1, 1, 0, 1, 4, 0, 2, 2, 3]
    chars = ctc_greedy(one_hot(sequence), classes)
    assert "".join(c.char for c in chars) == "aa bc"
    assert [(c.first_step, c.last_step) for c in chars] == [(1, 2), (4, 4), (5, 5), (7, 8), (9, 9)]
    assert all(c.confidence == pytest.approx(0.95) for c in chars)


def test_ctc_greedy_on_blank_only_reads_nothing():
    assert ctc_greedy(one_hot([0, 0, 0]), ["", "a", "b", "c", " "]) == []


def test_split_words_ignores_leading_trailing_and_repeated_spaces():
    classes = ["", "a", "b", "c", " "]
    chars = ctc_greedy(one_hot([4, 1, 0, 4, 0, 4, 2, 3, 4]), classes)
    assert ["".join(c.char for c in w) for w in split_words(chars)] == ["a", "bc"]


def test_split_words_splits_at_a_wide_blank_the_recogniser_read_no_space_in():
    """Fixed-pitch receipts: "TEL:07" read without spaces although the print has blank cells; a
    blank as wide as the threshold splits, a narrower one does not, and CJK never splits."""
    from ocrcli.ctc import DecodedChar

    ink = np.ones(100, dtype=bool)
    ink[12:30] = False  # a wide blank between steps 1 and 3 (centres at 10 and 35)
    ink[42:47] = False  # a narrow one between steps 3 and 5
    chars = [DecodedChar(c, i, i, 0.9) for c, i in (("T", 0), ("L", 3), ("0", 5))]
    words = split_words(chars, BlankRuns(ink), step_width=10.0, min_blank=15)
    assert ["".join(c.char for c in w) for w in words] == ["T", "L0"]
    cjk = [DecodedChar(c, i, i, 0.9) for c, i in (("不", 0), ("退", 3))]
    assert len(split_words(cjk, BlankRuns(ink), step_width=10.0, min_blank=15)) == 1
    assert len(split_words(chars)) == 1  # without the crop's ink: only the recogniser's spaces


def test_word_boxes_follow_a_rotated_line_back_onto_the_page():
    """Two inked words in a crop of a line tilted by 30 degrees land inside the line's page quad,
    in order along its direction, with the ink's extent."""
    width = 200
    crop = np.full((CROP_HEIGHT, width, 3), 255, dtype=np.uint8)
    crop[10:38, 20:70] = 0  # word 1 ink: x 20..70
    crop[10:38, 110:180] = 0  # word 2 ink: x 110..180
    # The recogniser saw "ab" around steps 4-7 and "cd" around steps 15-20 (step = 8 px).
    sequence = [0] * 25
    sequence[4], sequence[7], sequence[11], sequence[15], sequence[20] = 1, 2, 4, 3, 1
    chars = ctc_greedy(one_hot(sequence), ["", "a", "b", "c", " "])
    line_quad = cv2.boxPoints(((300, 300), (250, 60), -30))
    quad = order_corners(line_quad)
    matrix = crop_transform(quad, width, CROP_HEIGHT)
    line_crop = LineCrop(crop, matrix)
    line = place_line(word_spans(chars, 8.0, line_crop), line_crop)
    assert line is not None and line.text == "ab ca"
    first, second = (np.array(w.quad).reshape(4, 2) for w in line.words)
    direction = (quad[1] - quad[0]) / np.linalg.norm(quad[1] - quad[0])
    scale = np.linalg.norm(quad[1] - quad[0]) / width
    # Along the line, word 1 spans the ink columns 20..70, word 2 110..180 (in crop pixels).
    along = lambda p: float((p - quad[0]) @ direction) / scale  # noqa: E731
    assert along(first[0]) == pytest.approx(20, abs=1.5) and along(first[1]) == pytest.approx(70, abs=1.5)
    assert along(second[0]) == pytest.approx(110, abs=1.5) and along(second[1]) == pytest.approx(180, abs=1.5)
    # The word quads are tilted like the line.
    edge = first[1] - first[0]
    assert np.degrees(np.arctan2(-edge[1], edge[0])) == pytest.approx(30, abs=1)
    assert np.allclose(np.array(line.quad).reshape(4, 2), quad, atol=0.5)


def test_crop_margin_is_background_and_leaves_line_and_word_boxes_in_place():
    """Crops get end_margin columns of background at each end (grey page, dark ink here), and the
    line's quad and a word's box still map back to the detected quad and the ink."""
    page = np.full((200, 400, 3), 180, dtype=np.uint8)
    for x in range(110, 290, 12):  # one word's strokes, inside the line's quad: ink x 110..282
        page[60:100, x : x + 4] = 20
    quad = np.array([[100, 50], [300, 50], [300, 110], [100, 110]], dtype=np.float32)
    plain, padded = (crop_lines(page, quad[None], RecognizerSettings(end_margin=m))[0] for m in (0, 4))
    assert padded.margin == 4 and padded.image.shape[1] == plain.image.shape[1] + 8
    capped = RecognizerSettings(max_line_width=3200)  # a 7,660 px crop
    longest = crop_lines(page, np.array([[[0, 0], [399, 0], [399, 2], [0, 2]]], dtype=np.float32), capped)
    assert longest[0].image.shape[1] == capped.max_line_width  # margins included
    assert (padded.image[:, :4] == 180).all() and (padded.image[:, -4:] == 180).all()
    assert (padded.image[:, 4:-4] == plain.image).all()
    width = padded.image.shape[1]
    chars = ctc_greedy(one_hot([0, 1, 0, 2, 0] + [0] * (width // 8 - 5)), ["", "a", "b"])
    line = place_line(word_spans(chars, 8.0, padded), padded)
    assert line is not None
    assert np.allclose(np.array(line.quad).reshape(4, 2), quad, atol=0.5)
    ink = np.array([[110, 50], [282, 50], [282, 110], [110, 110]])
    assert np.allclose(np.array(line.words[0].quad).reshape(4, 2), ink, atol=2.0)


def test_width_batches_group_similar_widths_and_cover_everything():
    widths = [100, 900, 105, 110, 880, 300, 95, 2000]
    batches = width_batches(widths, RecognizerSettings(max_batch=3, max_padding=0.15))
    assert sorted(i for b in batches for i in b) == list(range(len(widths)))
    for batch in batches:
        ws = [widths[i] for i in batch]
        assert len(batch) <= 3 and min(ws) >= 0.85 * max(ws)


def test_recognizer_input_is_planar_bgr_in_minus_one_to_one_padded_with_zero():
    red = np.zeros((CROP_HEIGHT, 10, 3), dtype=np.uint8)
    red[..., 0] = 255
    grey = np.full((CROP_HEIGHT, 6, 3), 51, dtype=np.uint8)
    batch = to_input([red, grey], 16)
    assert batch.shape == (2, 3, CROP_HEIGHT, 16) and batch.dtype == np.float32
    assert np.allclose(batch[0, :, :, :10].mean(axis=(1, 2)), [-1.0, -1.0, 1.0])  # B, G, R
    assert np.allclose(batch[1, :, :, :6], 51 / 127.5 - 1.0)
    assert not batch[0, :, :, 10:].any() and not batch[1, :, :, 6:].any()


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_unrotate_points_inverts_rotate_image(degrees):
    image = np.zeros((40, 60), dtype=np.uint8)
    image[10, 50] = 255  # a marker at x=50, y=10
    turned = rotate_image(image, degrees)
    y, x = np.argwhere(turned == 255)[0]
    # Pixel centres: (x + 0.5, y + 0.5) in the turned image maps back to (50.5, 10.5).
    back = unrotate_points(np.array([[x + 0.5, y + 0.5]]), degrees, 60, 40)
    assert np.allclose(back, [[50.5, 10.5]])


def test_map_points_inverts_the_crop_transform():
    quad = np.array([[10, 20], [110, 30], [105, 80], [5, 70]], dtype=np.float32)
    matrix = crop_transform(quad, 200, 48)
    corners = np.array([[0, 0], [200, 0], [200, 48], [0, 48]], dtype=np.float64)
    assert np.allclose(map_points(matrix, corners), quad, atol=1e-3)


UPRIGHT = np.array([0.92, 0.03, 0.03, 0.02])
ACROSS = (30, 1)  # lines running across, lines running down


def test_page_classifier_window_moves_to_the_ink_only_on_a_blank_centre():
    """The classifier sees a 224 px window: the centre of a page with text there (as it was
    trained), but on a page whose few lines lie away from the centre, the window around them."""
    page = np.full((300, 700, 3), 250, dtype=np.uint8)
    page[20:30, 500:680] = 20  # a line near the top right corner
    top, left = _window(page)
    assert (top, left) == (0, 476)  # clamped to the image, around the ink
    assert page[top : top + 224, left : left + 224].min() == 20
    page[140:150, 250:450] = 20  # a line across the centre as well: the window stays there
    assert _window(page) == (38, 238)
    assert _window(np.full((300, 700, 3), 250, dtype=np.uint8)) == (38, 238)  # blank: centre


def test_orientation_keeps_a_confident_upright_page_even_if_lines_vote_to_flip():
    assert decide(UPRIGHT, (12, 12), ACROSS).degrees == 0


def test_orientation_follows_a_confident_classifier_when_lines_agree():
    result = decide(np.array([0.02, 0.03, 0.92, 0.03]), (0, 10), ACROSS)
    assert result.degrees == 180 and result.confidence == pytest.approx(0.92)
    assert decide(np.array([0.02, 0.92, 0.03, 0.03]), (1, 10), ACROSS).degrees == 90


def test_orientation_lines_fix_a_quarter_turn_mixup():
    assert decide(np.array([0.02, 0.9, 0.05, 0.03]), (9, 10), ACROSS).degrees == 270


def test_orientation_unsure_classifier_defers_to_a_clear_line_majority_only():
    unsure = np.array([0.4, 0.1, 0.35, 0.15])
    assert decide(unsure, (10, 10), ACROSS).degrees == 180
    assert decide(unsure, (6, 10), ACROSS).degrees == 0  # not a clear majority
    assert decide(unsure, (3, 3), ACROSS).degrees == 0  # too few lines to judge


def test_orientation_turns_a_page_only_when_its_lines_confirm_the_turn():
    half, quarter = np.array([0.15, 0.03, 0.79, 0.03]), np.array([0.17, 0.66, 0.07, 0.11])
    assert decide(half, (0, 0), (0, 0)).degrees == 0  # one word: nothing to confirm with
    assert decide(half, (2, 5), (6, 0)).degrees == 0  # display equations: votes split
    assert decide(quarter, (0, 0), (0, 0)).degrees == 0
    assert decide(quarter, (0, 12), (2, 27)).degrees == 0  # lines run down the turned page
    assert decide(quarter, (0, 12), (31, 8)).degrees == 90


def test_line_votes_are_split_when_neither_way_has_a_clear_majority():
    assert votes_split((7, 12)) and votes_split((4, 12)) and votes_split((2, 4))
    assert not votes_split((3, 12)) and not votes_split((9, 12))  # a clear majority either way
    assert not votes_split((1, 3)) and not votes_split((0, 0))  # too few lines to vote


def test_orientation_turns_an_unsure_page_a_quarter_when_its_lines_run_down_it():
    """Which way by the majority of the lines' votes, their crops read downwards (docbank 148)."""
    unsure = np.array([0.38, 0.24, 0.21, 0.17])
    assert decide(unsure, (3, 12), (2, 27)).degrees == 90
    assert decide(unsure, (11, 12), (4, 23)).degrees == 270
    assert decide(unsure, (6, 12), (2, 27)).degrees == 0  # votes split: no way to tell
    assert decide(unsure, (0, 3), (1, 2)).degrees == 0  # too few lines
    assert decide(unsure, (11, 12), (20, 8)).degrees == 180  # lines run across: upside down
    assert decide(UPRIGHT, (0, 12), (0, 30)).degrees == 0  # a confident classifier is never overruled


@pytest.mark.parametrize(
    "probs",
    [
        UPRIGHT,
        [0.61, 0.2, 0.1, 0.09],
        [0.59, 0.2, 0.1, 0.11],
        [0.4, 0.1, 0.35, 0.15],
        [0.02, 0.03, 0.92, 0.03],
    ],
)
def test_line_votes_are_skipped_only_where_they_cannot_change_the_decision(probs):
    """votes_needed lets the pipeline skip the line classifier: where it says so, every vote gives
    the same decision; elsewhere some vote changes it."""
    probs = np.array(probs)
    votes = [(flipped, sampled) for sampled in (0, 1, 3, 4, 12) for flipped in range(sampled + 1)]
    decisions = {decide(probs, v, axes).degrees for v in votes for axes in (ACROSS, (0, 0), (1, 30))}
    assert votes_needed(probs) == (len(decisions) > 1)


def test_review_windows_give_doubtful_words_context_and_merge_when_close():
    from ocrcli.pipeline import _review_windows

    doubtful = [False] * 12
    assert _review_windows(doubtful, 3) == []
    doubtful[0] = doubtful[11] = True
    assert _review_windows(doubtful, 3) == [(0, 3), (8, 11)]
    doubtful[5] = True  # its window touches both neighbours' windows: one window
    assert _review_windows(doubtful, 3) == [(0, 11)]
    assert _review_windows([True], 3) == [(0, 0)]


def test_review_windows_keep_only_neighbours_within_reach():
    from ocrcli.pipeline import _within_reach
    from ocrcli.words import WordSpan

    # Words 40 px wide with 10 px gaps, word 4 doubtful; context words 1..7.
    line = [WordSpan(f"w{k}", 0.5 if k == 4 else 0.99, 50 * k, 50 * k + 40) for k in range(9)]
    doubtful = [w.confidence < 0.9 for w in line]
    assert _within_reach(line, doubtful, 1, 7, reach=1000) == (1, 7)
    assert _within_reach(line, doubtful, 1, 7, reach=100) == (2, 6)  # ends 100 px beyond word 4
    assert _within_reach(line, doubtful, 1, 7, reach=0) == (4, 4)
    doubtful[6] = True  # the doubtful words and everything between them stay
    assert _within_reach(line, doubtful, 1, 7, reach=0) == (4, 6)


def test_stray_ideographs_go_only_from_pages_without_cjk_text() -> None:
    from ocrcli.document import Line, Word
    from ocrcli.pipeline import _without_stray_ideographs

    def line(text: str) -> Line:
        quad = (0, 0, 10, 0, 10, 10, 0, 10)
        return Line(text, quad, 0.9, [Word(w, quad, 0.9) for w in text.split()])

    # A chart's axis ticks read as "不" among Latin labels go; a receipt's "*S" read as "*ー" keeps
    # its star; a long line is left as it is.
    latin_page = [line("600"), line("不"), line("Support"), line("*ー"), line("No vote 不 here")]
    kept = _without_stray_ideographs(latin_page)
    assert [ln.text for ln in kept] == ["600", "Support", "*", "No vote 不 here"]
    assert [w.text for w in kept[2].words] == ["*"]
    # A line left with some of its words spans only them: "不 5" keeps the 5 and the 5's box.
    mark, five = (0, 0, 10, 0, 10, 10, 0, 10), (20, 0, 30, 0, 30, 10, 20, 10)
    [tick] = _without_stray_ideographs(
        [Line("不 5", (0, 0, 30, 0, 30, 10, 0, 10), 0.9, [Word("不", mark, 0.9), Word("5", five, 0.9)])]
    )
    assert tick.text == "5" and tick.box == (20, 0, 30, 10)
    # On a page with Chinese text, a short line is as likely text as a mark: kept.
    chinese_page = [line("如有千便，敬请厚谅"), line("米"), line("TOTAL")]
    assert _without_stray_ideographs(chinese_page) == chinese_page


def test_a_coordinate_a_hair_off_the_page_is_written_0_not_minus_0() -> None:
    """A quad mapped back from its crop can end a float's rounding error left of or above the
    page (-1e-14 px); rounded, it was written "-0.0" (on 2 of 40 sroie receipts, a cropped PDF
    page), which words_to_csv.py passed on as "-0.0" and jq as "-0"."""
    from ocrcli.document import Line, Page, Word

    quad = (-0.01, -0.04, 10.0, -0.02, 10.0, 8.0, -0.03, 8.0)
    page = Page(1, 20, 20, 200.0, lines=[Line("word", quad, 0.9, [Word("word", quad, 0.9)])])
    text = json.dumps(page.to_dict())
    assert "-0.0" not in text, text
    assert page.to_dict()["lines"][0]["box"] == [0.0, 0.0, 10.0, 8.0]


def test_a_line_of_one_letter_repeated_is_a_border_not_text() -> None:
    from ocrcli.document import Line
    from ocrcli.pipeline import _border_pattern

    def line(text: str) -> Line:
        return Line(text, (0, 0, 10, 0, 10, 10, 0, 10), 0.9)

    assert _border_pattern(line("w w wwww wwwwwwwwwwwwwwwww"))
    for text in ("www.example.com", "Mississippi", "III", "1111111", "------", "aaaaa 12345"):
        assert not _border_pattern(line(text)), text


def test_blank_runs_find_the_widest_blank_between_two_points():
    ink = np.ones(40, dtype=bool)
    ink[5:8] = False  # 3 columns
    ink[10:16] = False  # 6 columns
    ink[30:40] = False  # 10 columns, to the crop's end
    blanks = BlankRuns(ink)
    assert blanks.widest(0, 20) == (13.0, 6)
    assert blanks.widest(0, 9) == (6.5, 3)  # columns 5-7: the middle of 5..8
    assert blanks.widest(12, 20) == (14.0, 4)  # a run is counted only inside the span
    assert blanks.widest(34, 60) == (37.0, 6)
    assert blanks.widest(16, 30) == (23.0, 0)  # no blank: the span's middle
    assert blanks.widest(-5, 4) == (-0.5, 0)


def _printed_line(words: list[list[int]], letter_gap: int = 3, word_gap: int = 12) -> np.ndarray:
    """A white 48 px crop of black letters 8 px wide, `words` giving each word's letters' heights,
    a few pixels apart within a word and `word_gap` between words."""
    columns = []
    for word in words:
        for height in word:
            letter = np.full((CROP_HEIGHT, 8 + letter_gap), 255, dtype=np.uint8)
            letter[CROP_HEIGHT - 10 - height : CROP_HEIGHT - 10, :8] = 0
            columns.append(letter)
        columns.append(np.full((CROP_HEIGHT, word_gap - letter_gap), 255, dtype=np.uint8))
    return np.repeat(np.hstack(columns)[:, :, None], 3, axis=2)


def test_a_crop_that_fits_is_not_cut():
    crop = _printed_line([[20, 25, 20]] * 10)
    assert find_cuts(crop, crop.shape[1]) == []
    assert [p.offset for p in cut_pieces(crop, [], 4)] == [0]


def test_a_long_crop_is_cut_at_the_widest_gaps_into_pieces_that_fit():
    words = [[20, 25, 20, 30][: 2 + k % 3] for k in range(300)]  # 2 to 4 letters each
    crop = _printed_line(words)
    crop[:, 1300:1330] = 255  # a wider gap (between a table's columns), in the first piece's second half
    cuts = find_cuts(crop, 2000)
    ink = (crop[:, :, 0] < 128).any(axis=0)
    bounds = [0, *(cut.column for cut in cuts), crop.shape[1]]
    assert 1300 < cuts[0].column < 1330
    assert all(end - start <= 2000 for start, end in zip(bounds, bounds[1:], strict=False))
    assert all(cut.between_words and not ink[cut.column - 5 : cut.column + 5].any() for cut in cuts)
    pieces = cut_pieces(crop, cuts, 4)
    for piece, start, end in zip(pieces, bounds, bounds[1:], strict=False):
        left, right = (4 if start else 0), (4 if end < crop.shape[1] else 0)  # margins at the cuts only
        assert piece.offset == start - left and piece.image.shape[1] == left + end - start + right
        assert (piece.image[:, left : left + end - start] == crop[:, start:end]).all()
        assert (piece.image[:, :left] == 255).all() and (piece.image[:, left + end - start :] == 255).all()


def test_a_crop_without_a_space_is_cut_between_letters_and_one_without_a_blank_column_through_the_least_ink():
    letters = _printed_line([[20, 25, 20, 30] * 100])  # one 4,400 px word
    cut = find_cuts(letters, 2000)[0]
    assert not cut.between_words and not (letters[:, cut.column, 0] < 128).any()
    ruled = letters.copy()
    ruled[30:32] = 0  # an underline through every column
    ruled[:, 1500] = 255
    ruled[31, 1500] = 0  # the least ink: one pixel
    assert find_cuts(ruled, 2000)[0] == Cut(1500, False)


def test_pieces_read_are_joined_in_the_crop_columns_with_a_space_at_cuts_between_words():
    pieces = [Piece(np.zeros((48, 100, 3), np.uint8), 0), Piece(np.zeros((48, 100, 3), np.uint8), 76)]
    first = [DecodedChar("a", 2, 3, 0.9), DecodedChar("b", 8, 8, 0.8)]
    second = [DecodedChar("c", 1, 2, 0.95)]
    joined = join_pieces([(first, 8.0), (second, 8.0)], pieces, [Cut(80, True)], 8.0)
    assert joined == [*first, DecodedChar(" ", 10, 10, 0.8), DecodedChar("c", 11, 12, 0.95)]
    within_word = join_pieces([(first, 8.0), (second, 8.0)], pieces, [Cut(80, False)], 8.0)
    assert "".join(c.char for c in within_word) == "abc"
    cjk = [DecodedChar("字", 1, 2, 0.95)]
    assert (
        "".join(c.char for c in join_pieces([(first, 8.0), (cjk, 8.0)], pieces, [Cut(80, True)], 8.0))
        == "ab字"
    )


def _text_line(words: list[tuple[str, float, float]], top: float, height: float = 30.0) -> Line:
    """A line of words (text, x0, x1) with axis-aligned quads."""
    quads = [(x0, top, x1, top, x1, top + height, x0, top + height) for _, x0, x1 in words]
    x0, x1 = words[0][1], words[-1][2]
    return Line(
        " ".join(t for t, _, _ in words),
        (x0, top, x1, top, x1, top + height, x0, top + height),
        0.95,
        [Word(t, q, 0.95) for (t, _, _), q in zip(words, quads, strict=True)],
    )


def _column_words(
    first: str, x0: float, count: int = 6, width: float = 90.0
) -> list[tuple[str, float, float]]:
    return [(f"{first}{k}", x0 + k * (width + 15), x0 + k * (width + 15) + width) for k in range(count)]


def _two_columns(run_on: dict[int, int] | None = None) -> list[Line]:
    """Ten rows of two columns of 6 words, 615 px wide, 45 px apart (760 - 715): each row's left
    line, then its right one; a row in `run_on` is one line, the left column's run on into that
    many words of the right's."""
    left, right = 100.0, 760.0
    lines = []
    for row in range(10):
        top = 100.0 + 35 * row
        if row in (run_on or {}):
            words = _column_words(f"L{row}w", left) + _column_words(f"R{row}w", right, count=run_on[row])
            lines.append(_text_line(words, top))
        else:
            lines.append(_text_line(_column_words(f"L{row}w", left), top))
            lines.append(_text_line(_column_words(f"R{row}w", right), top))
    return lines


COLUMN_BY_COLUMN = [f"L{row}w0" for row in range(10)] + [f"R{row}w0" for row in range(10)]


def test_a_line_run_across_two_columns_is_cut_at_the_gutter() -> None:
    """docbank 219: the detector found one line across both columns (a gutter of ~0.75 line
    heights). It is cut there, so the left column is read to its end before the right one."""
    from ocrcli.pipeline import _in_reading_order

    ordered = _in_reading_order(_two_columns({4: 6, 5: 6}), 1500, 600)  # rows 4 and 5 run across
    assert [line.text.split()[0] for line in ordered] == COLUMN_BY_COLUMN
    assert len({line.block for line in ordered if line.text.startswith("L")}) == 1
    cut = next(line for line in ordered if line.text.startswith("R4"))
    assert cut.box == pytest.approx((760.0, 240.0, 1375.0, 270.0))  # the piece spans its own words


def test_a_line_run_across_the_gutter_into_a_short_line_is_cut_too() -> None:
    """docbank 98: the right column's line before a displayed equation holds one word ("from"),
    and the detector ran the left column's line on into it. The left side is a column wide, the
    right side is not, but the gap lines up with the gutter: it is cut, and each column is read
    to its end (before, "from" was read after "val-" and the columns were read in two bands)."""
    from ocrcli.pipeline import _in_reading_order

    ordered = _in_reading_order(_two_columns({5: 1}), 1500, 600)
    assert [line.text.split()[0] for line in ordered] == COLUMN_BY_COLUMN
    assert next(line.text for line in ordered if line.text.startswith("R5")) == "R5w0"


def test_boxes_that_reach_into_the_gutter_past_their_words_do_not_close_it() -> None:
    """docbank 98: some detected quads ran a line height on past their words, into the gutter, from
    both columns; no gutter was free of boxes and the columns were read in turns. The reading
    order sees those lines cut to their words; the lines themselves keep their quads."""
    from ocrcli.pipeline import _in_reading_order

    lines = _two_columns()
    for index, reach in ((4 * 2, (0.0, 40.0)), (6 * 2 + 1, (-40.0, 0.0)), (8 * 2, (0.0, 35.0))):
        line = lines[index]
        x0, x1 = line.box[0] + reach[0], line.box[2] + reach[1]
        top, bottom = line.box[1], line.box[3]
        lines[index] = Line(line.text, (x0, top, x1, top, x1, bottom, x0, bottom), 0.95, line.words)
    ordered = _in_reading_order(lines, 1500, 600)
    assert [line.text.split()[0] for line in ordered] == COLUMN_BY_COLUMN
    assert ordered[4].quad == lines[8].quad


def test_a_wide_space_in_a_single_column_is_not_cut() -> None:
    """Justified text's wide spaces line up with no other line's ends: nothing is cut."""
    from ocrcli.pipeline import _in_reading_order

    lines = [_text_line(_column_words(f"A{row}w", 100.0, count=12), 100.0 + 35 * row) for row in range(10)]
    wide = _column_words("A4w", 100.0, count=12)
    wide = wide[:6] + [(t, x0 + 25, x1 + 25) for t, x0, x1 in wide[6:]]  # a 40 px space mid-line
    lines[4] = _text_line(wide, 240.0)
    ordered = _in_reading_order(lines, 1500, 600)
    assert [line.text for line in ordered] == [line.text for line in lines]
    assert ordered[4] is lines[4]


def test_a_line_run_across_the_gutter_of_a_tilted_scan_is_cut_too() -> None:
    """On a scan tilted 4 degrees a 1275 px line's box is ~119 px tall against 30 px of text: the
    line is measured across its quad, not its box, or it looked like a headline and stayed whole."""
    from ocrcli.linesplit import cut_at_gutters

    turn = math.radians(4)

    def tilted(line: Line) -> Line:
        def rotate(quad: tuple[float, ...]) -> tuple[float, ...]:
            points = [(quad[2 * i], quad[2 * i + 1]) for i in range(4)]
            return tuple(
                v
                for x, y in points
                for v in (x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn))
            )

        return Line(
            line.text,
            rotate(line.quad),
            line.confidence,
            [Word(w.text, rotate(w.quad), 0.95) for w in line.words],
        )

    lines = []
    for row in range(10):
        top = 100.0 + 35 * row
        if row in (4, 5):
            lines.append(
                tilted(_text_line(_column_words(f"L{row}w", 100.0) + _column_words(f"R{row}w", 760.0), top))
            )
        else:
            lines.append(tilted(_text_line(_column_words(f"L{row}w", 100.0), top)))
            lines.append(tilted(_text_line(_column_words(f"R{row}w", 760.0), top)))
    groups = cut_at_gutters(lines)
    cut = [
        [" ".join(w.text for w in g) for g in line_groups] for line_groups in groups if len(line_groups) > 1
    ]
    assert [[g.split()[0] for g in line] for line in cut] == [["L4w0", "R4w0"], ["L5w0", "R5w0"]]


@pytest.mark.parametrize("degrees", [-8.0, -4.0, 4.0, 8.0])
def test_two_columns_of_a_tilted_scan_are_read_column_by_column_across_a_run_on_line(degrees: float) -> None:
    """The columns of a scan tilted 4 or 8 degrees, two lines run across the gutter: the lines are
    cut and ordered as if the page were level (at 8 degrees the columns were read line across line)."""
    from ocrcli.pipeline import _in_reading_order

    turn = math.radians(degrees)

    def rotate(quad: tuple[float, ...]) -> tuple[float, ...]:
        points = [(quad[2 * i] - 750, quad[2 * i + 1] - 500) for i in range(4)]
        return tuple(
            v
            for x, y in points
            for v in (
                750 + x * math.cos(turn) - y * math.sin(turn),
                500 + x * math.sin(turn) + y * math.cos(turn),
            )
        )

    lines = []
    for row in range(20):
        top = 100.0 + 35 * row
        pieces = (
            [_column_words(f"L{row}w", 100.0) + _column_words(f"R{row}w", 760.0)] if row in (4, 5) else []
        )
        pieces = pieces or [_column_words(f"L{row}w", 100.0), _column_words(f"R{row}w", 760.0)]
        for words in pieces:
            line = _text_line(words, top)
            lines.append(
                Line(
                    line.text,
                    rotate(line.quad),
                    0.95,
                    [Word(w.text, rotate(w.quad), 0.95) for w in line.words],
                )
            )
    ordered = _in_reading_order(lines, 1500, 1000)
    expected = [f"L{r}w0" for r in range(20)] + [f"R{r}w0" for r in range(20)]
    assert [line.text.split()[0] for line in ordered] == expected
    # The cut piece keeps the page's frame: it starts where its line starts and runs along it.
    assert ordered[4].text == " ".join(f"L4w{k}" for k in range(6))
    assert ordered[4].quad[:2] == pytest.approx(lines[8].quad[:2])
    assert math.degrees(
        math.atan2(ordered[4].quad[3] - ordered[4].quad[1], ordered[4].quad[2] - ordered[4].quad[0])
    ) == pytest.approx(degrees)


def gelu_graph(sqrt2: float = 2**0.5, extra_user: bool = False, erf_as_output: bool = False) -> Any:
    """A model (onnx.ModelProto) computing the exact GELU as exported (Div, Erf, Add, Mul, Mul),
    optionally with the Erf's result also used by another node or as a graph output, so the
    pattern must be left alone."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Div", ["x", "sqrt2"], ["d"]),
        helper.make_node("Erf", ["d"], ["e"]),
        helper.make_node("Add", ["e", "one"], ["a"]),
        helper.make_node("Mul", ["x", "a"], ["m"]),
        helper.make_node("Mul", ["m", "half"], ["y"]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3, 5])]
    if extra_user:
        nodes.append(helper.make_node("Identity", ["e"], ["e_too"]))
        outputs.append(helper.make_tensor_value_info("e_too", TensorProto.FLOAT, [1, 4, 3, 5]))
    if erf_as_output:
        outputs.append(helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4, 3, 5]))
    constants = [
        helper.make_tensor(name, TensorProto.FLOAT, [], [value])
        for name, value in (("sqrt2", sqrt2), ("one", 1.0), ("half", 0.5))
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 5])]
    graph = helper.make_graph(nodes, "gelu", inputs, outputs, constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_exact_gelu_becomes_quick_gelu_and_computes_x_sigmoid_1702x():
    import onnxruntime as ort

    model = gelu_graph()
    assert approximate_gelus(model) == 1
    assert [n.op_type for n in model.graph.node] == ["QuickGelu"]
    x = np.linspace(-6, 6, 60, dtype=np.float32).reshape(1, 4, 3, 5)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": x})[0]
    assert np.allclose(y, x / (1 + np.exp(-1.702 * x)), atol=1e-5)
    exact = x / 2 * (1 + np.vectorize(math.erf)(x / 2**0.5))
    assert 0.005 < np.abs(y - exact).max() < 0.03  # an approximation, and a close one


def conv_gelu_conv_graph(
    producer: str = "conv_add", shared_weight: bool = False, y_also_added: bool = False
) -> Any:
    """A model (onnx.ModelProto): a layer making x (a Conv and an Add of its bias, as PaddlePaddle
    exports them, through an Identity; or a BatchNormalization), the exact GELU of x, and a Conv
    of the GELU's result y. Optionally the second Conv reuses the first one's weight, or y is also
    added to itself, so its scale cannot be undone by the Conv alone."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    tensors = {
        "w1": rng.normal(size=(4, 4, 3, 3)),
        "b1": rng.normal(size=(1, 4, 1, 1)),
        "w2": rng.normal(size=(4, 4, 1, 1)),
        "bn_scale": rng.uniform(0.5, 2, size=4),
        "bn_bias": rng.normal(size=4),
        "bn_mean": rng.normal(size=4),
        "bn_var": rng.uniform(0.5, 2, size=4),
        "sqrt2": np.array(2**0.5),
        "one": np.array(1.0),
        "half": np.array(0.5),
    }
    if producer == "conv_add":
        nodes = [
            helper.make_node("Conv", ["in", "w1"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Add", ["c", "b1"], ["a0"]),
            helper.make_node("Identity", ["a0"], ["x"]),
        ]
    else:
        nodes = [
            helper.make_node("BatchNormalization", ["in", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["x"])
        ]
    nodes += [
        helper.make_node("Div", ["x", "sqrt2"], ["d"]),
        helper.make_node("Erf", ["d"], ["e"]),
        helper.make_node("Add", ["e", "one"], ["a"]),
        helper.make_node("Mul", ["x", "a"], ["m"]),
        helper.make_node("Mul", ["m", "half"], ["y"]),
        helper.make_node(
            "Conv",
            ["y", "w1" if shared_weight else "w2"],
            ["out"],
            pads=[1, 1, 1, 1] if shared_weight else [0, 0, 0, 0],
        ),
    ]
    if y_also_added:
        nodes += [helper.make_node("Add", ["out", "y"], ["out2"])]
    initializers = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in tensors.items()]
    graph = helper.make_graph(
        nodes,
        "conv_gelu_conv",
        [helper.make_tensor_value_info("in", TensorProto.FLOAT, [1, 4, 3, 5])],
        [helper.make_tensor_value_info("out2" if y_also_added else "out", TensorProto.FLOAT, [1, 4, 3, 5])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _run(model: Any, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"in": x})[0]


@pytest.mark.parametrize("producer", ["conv_add", "batch_norm"])
def test_quick_gelu_alpha_moves_into_the_linear_layers_around_it(producer):
    """x sigmoid(1.702 x) computed as z sigmoid(z) with z = 1.702 x from the layer before, and the
    convolution after scaled back: the same result, with QuickGelu's alpha 1."""
    x = np.random.default_rng(3).normal(size=(1, 4, 3, 5)).astype(np.float32)
    model = conv_gelu_conv_graph(producer)
    exact = _run(model, x)
    assert approximate_gelus(model) == 1
    [gelu] = [n for n in model.graph.node if n.op_type == "QuickGelu"]
    assert [a.f for a in gelu.attribute if a.name == "alpha"] == [1.0]
    folded = _run(model, x)
    assert 0.001 < np.abs(folded - exact).max() < 0.1  # QuickGelu's approximation, nothing more:
    unfolded = conv_gelu_conv_graph(producer)
    _approximate_without_folding(unfolded)
    assert np.allclose(folded, _run(unfolded, x), atol=1e-5)


def _approximate_without_folding(model: Any) -> None:
    from ocrcli import derived

    original = derived._fold_alpha
    derived._fold_alpha = lambda *args: False
    try:
        assert approximate_gelus(model) == 1
    finally:
        derived._fold_alpha = original


@pytest.mark.parametrize("changed", [{"shared_weight": True}, {"y_also_added": True}])
def test_quick_gelu_alpha_stays_where_the_layers_around_it_are_shared(changed):
    x = np.random.default_rng(3).normal(size=(1, 4, 3, 5)).astype(np.float32)
    model = conv_gelu_conv_graph(**changed)
    reference = conv_gelu_conv_graph(**changed)
    _approximate_without_folding(reference)
    assert approximate_gelus(model) == 1
    [gelu] = [n for n in model.graph.node if n.op_type == "QuickGelu"]
    assert [a.f for a in gelu.attribute if a.name == "alpha"] == [pytest.approx(1.702)]
    assert model.SerializeToString() == reference.SerializeToString()
    assert np.allclose(_run(model, x), _run(reference, x))


def test_two_unnamed_gelus_still_make_a_model_that_loads():
    """Two GELUs whose nodes have no names: their QuickGelu nodes must not share one name."""
    import onnxruntime as ort
    from onnx import helper

    model = gelu_graph()
    renamed = {"x": "y", "d": "d2", "e": "e2", "a": "a2", "m": "m2"}
    model.graph.node.extend(
        helper.make_node(n.op_type, [renamed.get(i, i) for i in n.input], [f"{n.output[0]}2"])
        for n in list(model.graph.node)
    )
    model.graph.output[0].name = "y2"
    assert approximate_gelus(model) == 2
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.linspace(-3, 3, 60, dtype=np.float32).reshape(1, 4, 3, 5)
    once = x / (1 + np.exp(-1.702 * x))
    assert np.allclose(session.run(None, {"x": x})[0], once / (1 + np.exp(-1.702 * once)), atol=1e-5)


@pytest.mark.parametrize("changed", [{"sqrt2": 2.0}, {"extra_user": True}, {"erf_as_output": True}])
def test_other_erf_patterns_are_left_alone(changed):
    model = gelu_graph(**changed)
    before = model.SerializeToString()
    assert approximate_gelus(model) == 0
    assert model.SerializeToString() == before


def _struck_line(words: int = 300, word_gap: int = 12) -> np.ndarray:
    """48 px crop of 3-letter words (8 px letters, 3 px apart), a 2 px rule through every column
    (struck-through text, or a table rule running through the line)."""
    columns = []
    for _ in range(words):
        for height in (20, 25, 20):
            letter = np.full((CROP_HEIGHT, 11), 255, dtype=np.uint8)
            letter[CROP_HEIGHT - 10 - height : CROP_HEIGHT - 10, :8] = 0
            columns.append(letter)
        columns.append(np.full((CROP_HEIGHT, word_gap - 3), 255, dtype=np.uint8))
    crop = np.hstack(columns)
    crop[24:26] = 0  # the rule
    return np.repeat(crop[:, :, None], 3, axis=2)


def test_a_cut_through_a_ruled_line_in_a_word_gap_is_between_words():
    """On a struck-through line no column is blank; the columns with the least ink (the rule alone)
    are the spaces, and a cut there is between words, so the pieces' words get a space. It was not:
    on a 12,000 px struck line each of 3 cuts glued two words ('judgequietly', 'foxbrown')."""
    crop = _struck_line()
    ink_in_letters = (crop[:, :, 0] < 128).sum(axis=0) > 2
    cuts = find_cuts(crop, 3200 - 2 * 16)
    assert cuts and all(not ink_in_letters[c.column] for c in cuts)  # each cut lies in a word gap...
    assert all(c.between_words for c in cuts), cuts  # ...so a space belongs there


def test_a_cache_folder_that_cannot_be_listed_costs_only_its_clean_up(tmp_path, monkeypatch) -> None:
    """Another user's cache folder (0700) made the glob for stale models raise PermissionError, a
    traceback before any work; as root every folder can be listed, so the refusal is simulated."""
    import pathlib

    from ocrcli import derived

    def refuse(self, pattern):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "glob", refuse)
    derived._remove_stale(tmp_path / "derived" / "pp-ocrv6-tiny-rec-nocjk-0123.onnx")  # no error


def test_grey_percentiles_are_numpys_from_the_histogram() -> None:
    """ink_contrast's percentiles, taken from the histogram, are np.percentile's to the last bit:
    its thresholds were measured with np.percentile."""
    rng = np.random.default_rng(5)
    images = [
        rng.integers(0, 256, (rng.integers(1, 60), rng.integers(1, 900)), dtype=np.uint8) for _ in range(200)
    ]
    images += [np.full((3, 7), 200, np.uint8), np.array([[0, 255]], np.uint8), np.array([[17]], np.uint8)]
    images.append(np.where(rng.random((48, 600)) < 0.03, 20, 235).astype(np.uint8))  # a line's ink
    for grey in images:
        assert grey_percentiles(grey, (1, 50, 99)).tolist() == np.percentile(grey, (1, 50, 99)).tolist()


def typed_page(height: int = 400, width: int = 600, colour: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """A white RGB page of four lines of type in `colour`."""
    page = np.full((height, width, 3), 255, np.uint8)
    for row in range(4):
        cv2.putText(
            page,
            "The quick brown fox jumps",
            (20, 80 + 80 * row),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.2,
            colour,
            2,
            cv2.LINE_AA,
        )
    return page


def channel_spread(image: np.ndarray) -> np.ndarray:
    return image.max(axis=2).astype(int) - image.min(axis=2)


@pytest.mark.parametrize("size", [(400, 600), (2051, 1537)])  # the second scaled down 2:1, unevenly
def test_a_red_ring_over_black_text_is_washed_out_and_set_apart(size):
    page = typed_page(*size)
    ringed = page.copy()
    small = size[1] == 600
    centre, axes = (
        ((420, 150), (230, 80)) if small else ((300, 150), (150, 60))
    )  # the first runs off the page
    cv2.ellipse(ringed, centre, axes, 0, 0, 360, (200, 30, 40), 5, cv2.LINE_AA)
    stamps = wash_stamps(ringed)
    assert stamps is not None
    assert (channel_spread(stamps.washed) < 40).all()  # no red left...
    ring = channel_spread(ringed) >= 40
    far = cv2.dilate(ring.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
    assert (stamps.washed[far] == page[far]).all()  # ...and the type away from it as it was
    x0, y0, x1, y1 = stamps.box
    ys, xs = np.nonzero(ring)
    assert (x0, y0) <= (xs.min(), ys.min()) and x1 > xs.max() and y1 > ys.max()
    assert stamps.ink.shape == (y1 - y0, x1 - x0, 3)
    alone = stamps.ink[..., 0] < 160  # the ring on its own, dark; the type not in it
    assert alone[ring[y0:y1, x0:x1]].mean() > 0.9
    assert not alone[far[y0:y1, x0:x1] & (page[y0:y1, x0:x1, 0] < 100)].any()


def test_colour_that_crosses_no_black_text_is_not_washed():
    blue_type = typed_page(colour=(30, 60, 200))
    solid = typed_page()
    cv2.rectangle(solid, (100, 40), (400, 170), (200, 30, 40), -1)  # a figure's filled box...
    cv2.putText(solid, "label", (150, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3)  # ...labelled
    fringed = typed_page()
    fringed[:, 1:, 0] = fringed[:, :-1, 0]  # the red channel a pixel out: colour fringes round black
    for page in (blue_type, solid, fringed):
        assert wash_stamps(page) is None


def test_a_dark_ink_ring_is_washed_to_the_paper_not_to_its_brightest_channel():
    # Dark red ink's brightest channel is 130: washed to that, the ring still stood out as grey
    # strokes that joined the lines under it; lifted by its ink's own level, it is paper white.
    page = typed_page()
    ringed = page.copy()
    cv2.ellipse(ringed, (300, 150), (230, 80), 0, 0, 360, (130, 10, 20), 5)
    stamps = wash_stamps(ringed)
    assert stamps is not None
    ring = channel_spread(ringed) >= 40
    paper = cv2.dilate((page.min(axis=2) < 250).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert stamps.washed[ring & paper].min() >= 230
    typed = ~cv2.dilate(ring.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & (page[..., 0] < 100)
    assert (stamps.washed[typed] == page[typed]).all()  # the type as it was


@pytest.mark.parametrize("height", [1535, 1536])
def test_a_thick_pen_ring_is_washed_whatever_the_pages_size(height):
    """Strokes were judged on the page scaled down by a whole step: a 1,535 px page at full size,
    where a 9 px ring filled too much of its reach to count as a stroke and was left, and a 1,536 px
    page at half size, where it was washed. The page is now scaled to one size."""
    page = typed_page(height, 1100)
    cv2.ellipse(page, (300, 150), (150, 60), 0, 0, 360, (200, 30, 40), 9, cv2.LINE_AA)
    assert wash_stamps(page) is not None


def test_a_stamps_line_found_again_on_the_washed_page_is_not_kept_twice():
    """A chart's grey axis labels, fringed with colour by JPEG, were washed as a stamp's strokes,
    stayed legible on the washed page, and were read twice ("600", "600"). A line found on the
    stamps alone is kept only if it is no line found on the washed page; a stamp's line, larger
    and turned over the text's, is."""
    from ocrcli.pipeline import _not_found

    label = np.array([[[10, 10], [60, 10], [60, 30], [10, 30]]], np.float32)
    text = np.array([[[0, 100], [600, 100], [600, 125], [0, 125]]], np.float32)
    stamp = np.array([[[200, 60], [420, 100], [410, 160], [190, 120]]], np.float32)  # 10 degrees
    found = np.concatenate([label + 1, text])
    assert _not_found(np.concatenate([label, stamp]), found).tolist() == [False, True]
    assert _not_found(stamp, found[:0]).tolist() == [True]


def test_a_word_two_overlapping_lines_both_read_is_kept_once():
    """Two overlapping boxes on one line both read the ink they share ("This i", "is a lot"): the
    word inside a word of another line that says it goes; of two that say each other, the shorter
    line's; a word merely overlapped by another that says something else stays."""
    from ocrcli.document import Line, Word
    from ocrcli.pipeline import _without_words_read_twice

    def quad(x0: float, x1: float, y0: float = 0, y1: float = 40) -> tuple[float, ...]:
        return (x0, y0, x1, y0, x1, y1, x0, y1)

    def line(*words: tuple[str, float, float]) -> Line:
        placed = [Word(text, quad(x0, x1), 0.9) for text, x0, x1 in words]
        return Line(" ".join(w.text for w in placed), quad(words[0][1], words[-1][2]), 0.9, placed)

    first = line(("This", 5, 67), ("i", 78, 86))
    second = line(("is", 65, 98), ("a", 110, 126), ("lot", 139, 170))
    assert [ln.text for ln in _without_words_read_twice([first, second])] == ["This", "is a lot"]
    again = line(("lot", 140, 169))  # the same word in a shorter line
    assert [ln.text for ln in _without_words_read_twice([second, again])] == ["is a lot"]
    assert [ln.text for ln in _without_words_read_twice([again, second])] == ["is a lot"]
    other = line(("x", 80, 90))  # inside "is", but not what it says
    assert [ln.text for ln in _without_words_read_twice([other, second])] == ["x", "is a lot"]


def dark_wood(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A walnut table's grain (RGB): dark brown, thin darker lines wavering across it."""
    rng = np.random.default_rng(seed)
    wobble = np.zeros((height, width))
    for cell in (16, 32, 64, 128):
        noise = rng.random((height // cell + 2, width // cell + 2))
        wobble += cv2.resize(noise, (width + 2 * cell, height + 2 * cell), interpolation=cv2.INTER_CUBIC)[
            :height, :width
        ] * (cell / 240)
    grain = (0.5 + 0.5 * np.sin(np.arange(width) / 9 + wobble * 25)) ** 3
    wood = np.array([90.0, 55.0, 30.0]) * (0.35 + 0.65 * grain[..., None]) + rng.normal(
        0, 5, (height, width, 3)
    )
    return wood.clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("ringed", [False, True], ids=["plain", "ringed"])
def test_a_receipt_photographed_on_a_dark_wooden_table_has_only_its_own_ink_washed(ringed):
    """Wood grain is thin dark lines beside brown: taken for coloured strokes over type, the whole
    photo was washed (120 ms, the lines searched twice, a stray '(25' read in the grain). A stamp is
    inked on paper: a part whose box is mostly dark where it is not inked is none. A ring over the
    receipt's type is still washed, and nothing of the table."""
    photo = dark_wood(1875, 960)
    receipt = typed_page(900, 600)
    if ringed:
        cv2.ellipse(receipt, (300, 150), (150, 60), 0, 0, 360, (200, 30, 40), 5, cv2.LINE_AA)
    photo[200:1100, 180:780] = receipt
    stamps = wash_stamps(photo)
    if not ringed:
        assert stamps is None
    else:
        assert stamps is not None
        x0, y0, x1, y1 = stamps.box
        assert x0 >= 180 and x1 <= 780 and y0 >= 200 and y1 <= 1100  # on the receipt alone


DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BASELINE = 60  # of typed_line's text


def typed_line(text: str = "Happy jogging agreement", size: int = 30) -> np.ndarray:
    """A white RGB strip with a line of DejaVu Sans on it, its baseline at BASELINE."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (700, 110), "white")
    ImageDraw.Draw(image).text(
        (20, BASELINE), text, font=ImageFont.truetype(DEJAVU, size), fill="black", anchor="ls"
    )
    return np.asarray(image).copy()


LINE_QUAD = np.array([[[12, 28], [680, 28], [680, 70], [12, 70]]], np.float32)  # as the detector finds it


def test_a_rule_through_descenders_is_painted_out_and_the_letters_kept():
    """An underline 3 px thick just under the baseline runs through the descenders of "ppy j gg g"
    (6 px deep): it is painted white, but where a descender crosses it."""
    clean = typed_line()
    ruled = clean.copy()
    ruled[BASELINE + 1 : BASELINE + 4, 10:690] = 0
    washed = without_rules(ruled, LINE_QUAD)
    assert washed is not None
    text = clean.min(axis=2) < 128
    rule = np.zeros(text.shape, bool)
    rule[BASELINE + 1 : BASELINE + 4, 10:690] = True
    crossing = text[BASELINE] & text[BASELINE + 4]  # columns where a descender crosses it
    assert crossing.sum() >= 10
    assert (washed[rule & ~text] == 255).mean() > 0.95  # the rule gone...
    assert (washed[BASELINE + 1 : BASELINE + 4][:, crossing].max(axis=-1) < 128).mean() > 0.9  # ...not there
    assert (washed[text & ~rule] == clean[text & ~rule]).all()  # the letters as they were


def test_a_strike_through_and_a_rule_away_from_text_are_left():
    """A strike-through is crossed by most letters: painted out, it took the bars of the "e"s with
    it ("acreement" read as "acrccmcnt"). A rule clear of the text needs no painting."""
    struck = typed_line()
    struck[BASELINE - 12 : BASELINE - 9, 10:690] = 0  # through the middle of the x-height
    assert without_rules(struck, LINE_QUAD) is None
    apart = typed_line()
    apart[BASELINE + 30 : BASELINE + 33, 10:690] = 0
    assert without_rules(apart, LINE_QUAD) is None


def test_a_big_letters_bar_is_no_rule():
    """The bar of a logo's big "L", longer than the page's lines are high but not than its own line,
    is kept (tess's linn page read "Linn" as "Tinn")."""
    page = np.full((400, 700, 3), 255, np.uint8)
    quads = [[[20, 10 + 40 * k], [680, 10 + 40 * k], [680, 38 + 40 * k], [20, 38 + 40 * k]] for k in range(3)]
    for k in range(3):
        cv2.putText(page, "The quick brown fox jumps", (30, 32 + 40 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    page[200:330, 100:118] = 0  # the L's stem
    page[326:330, 100:230] = 0  # its bar, 130 px long, 4 px thick
    page[296:326, 150:160] = 0  # the "i" beside it, on the bar
    quads.append([[90, 190], [400, 190], [400, 340], [90, 340]])  # the logo's line, 150 px high
    washed = without_rules(page, np.array(quads, np.float32))
    assert washed is None or (washed[326:330, 100:230] == 0).all()


def test_a_letter_lost_in_a_ligature_is_put_back_where_the_word_list_agrees():
    """Typeset "fl", "ff" and "ffi" read as one "f" (docbank): a word the list does not know is
    mended if exactly one letter put back after an "f" makes one it does; an "i" or "l" only where
    the recogniser nearly read it there."""
    from ocrcli.ligatures import restored

    assert restored("fuid", ((1, "l"),)) == "fluid"
    assert restored("(fux-return,", ((2, "l"),)) == "(flux-return,"
    assert restored("fuid") == "fuid"  # no trace of the "l": left as read
    assert restored("fb") == "fb"  # femtobarn: an "i" would make "fib", but none was nearly read
    assert restored("coeficients.") == "coefficients."  # a doubled f leaves no trace
    assert restored("Hausdorf,") == "Hausdorff,"
    assert restored("self-afine") == "self-affine"
    assert restored("coeffcient", ((5, "i"),)) == "coefficient"
    assert restored("ef-") == "ef-"  # a word broken across lines: "eff-" is not what it is
    assert restored("often") == "often"  # known as it is
    assert restored("Café") == "Café"
    assert restored("fuctuations18") == "fuctuations18"  # anything with a digit stays
    assert restored("OFER") == "OFER"  # capitals are not drawn as ligatures


def test_an_f_is_marked_with_the_letters_nearly_read_before_the_next_character():
    """CTC decoding keeps, on each "f", the letters ("i", "l") whose probability reached NEAR_READ
    between it and the next character: a ligature's hidden "l" (0.47 beside the blank's 0.52 on
    docbank 263's "fluid"), not an "l" further on."""
    from ocrcli.ligatures import near_letters

    classes = ["", "f", "i", "l", "u"]
    probs = np.array(
        [
            [0.0, 0.99, 0.0, 0.01, 0.0],  # f
            [0.52, 0.01, 0.0, 0.47, 0.0],  # blank, its "l" nearly read
            [0.0, 0.0, 0.0, 0.0, 1.0],  # u
            [0.0, 1.0, 0.0, 0.0, 0.0],  # f
            [1.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 0.0],  # l, read: no longer a hidden letter of the f
        ]
    )
    chars = near_letters(probs, ctc_greedy(probs, classes), classes)
    assert [(c.char, c.nearly_next) for c in chars] == [("f", "l"), ("u", ""), ("f", ""), ("l", "")]
    assert near_letters(probs, ctc_greedy(probs, classes), classes[:3] + ["x", "u"])[0].nearly_next == ""


def test_without_its_word_list_no_word_is_mended(monkeypatch: pytest.MonkeyPatch):
    """Another pyspellchecker, without the list's file where ligatures reads it: the words stay as
    read, and reading goes on (a FileNotFoundError out of every page before)."""
    import importlib.resources

    from ocrcli import ligatures

    def missing(package: str) -> Any:
        raise ModuleNotFoundError(f"No module named {package!r}")

    ligatures._words_with_f.cache_clear()
    monkeypatch.setattr(importlib.resources, "files", missing)
    try:
        assert ligatures.restored("coeficients") == "coeficients"
    finally:
        ligatures._words_with_f.cache_clear()
    monkeypatch.undo()
    assert ligatures.restored("coeficients") == "coefficients"
