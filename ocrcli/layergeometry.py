"""Where the text layer's words go on the page: quads turned into frames, and the arithmetic of
points, directions and levels that the layer's modules draw on; also the narrowest a word may be
drawn (least_width), which every frame keeps to.

A word's frame is where it is drawn: its baseline origin, the unit direction of its text, and its
width. Coordinates are points of the page as displayed, origin bottom-left (y up); quads come in
image pixels (y down) and are turned over with the page's height.
"""

from __future__ import annotations

import itertools
import math

from ocrcli.document import Quad
from ocrcli.pdffont import DESCENT_EM

# A word with a glyph repeated ("!!", "11", "...") is drawn at least this many ems wide per glyph:
# poppler drops a glyph drawn within 0.1 em of the same glyph before it as fake bold, so a narrow
# "!!" came out as "!".
MIN_ADVANCE_EM = 0.12
DIAGONAL_SLACK = 5.0  # degrees, see nearest_axis
UPSIDE_DOWN = (-1.0, 0.0)  # the direction of a row drawn upside down (see textlayer._upside_down_row)

Point = tuple[float, float]
Frame = tuple[Point, Point, float]  # baseline origin, direction, width


def quad_corners(quad: Quad, points_per_px: float, height_pt: float) -> list[Point]:
    """A quad's four corners, image pixels (y down) turned into displayed-page points (y up)."""
    return [(quad[2 * i] * points_per_px, height_pt - quad[2 * i + 1] * points_per_px) for i in range(4)]


def quad_frame(
    quad: Quad, points_per_px: float, height_pt: float
) -> tuple[tuple[float, float], tuple[float, float], float, float] | None:
    """(middle of the left edge, unit direction, width, height) of a quad in displayed-page points."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad_corners(quad, points_per_px, height_pt)
    along = ((x1 - x0 + x2 - x3) / 2, (y1 - y0 + y2 - y3) / 2)  # left to right along the text
    up = ((x0 - x3 + x1 - x2) / 2, (y0 - y3 + y1 - y2) / 2)  # bottom to top
    width, height = math.hypot(*along), math.hypot(*up)
    if width <= 0.01 or height <= 0.01:
        return None
    return ((x0 + x3) / 2, (y0 + y3) / 2), (along[0] / width, along[1] / width), width, height


def nearest_axis(dx: float, dy: float) -> tuple[float, float]:
    """The page axis (0, 90, 180 or 270 degrees) nearest a unit direction; within DIAGONAL_SLACK
    of 45 degrees, left to right if the direction runs rightwards. A chart's labels set at 45
    degrees were drawn whichever way rounding tipped each one: those drawn upright got boxes a
    third as wide as the label, and two neighbours drawn in different directions came out of
    pdftotext -raw as one word (ocrmypdf_graph)."""
    slack = math.tan(math.radians(45 - DIAGONAL_SLACK))
    across = abs(dx) >= abs(dy) or (dx > 0 and dx >= abs(dy) * slack)
    return (math.copysign(1.0, dx), 0.0) if across else (0.0, math.copysign(1.0, dy))


def word_frame(
    quad: Quad,
    points_per_px: float,
    height_pt: float,
    size: float,
    axis: Point,
    min_width: float,
) -> Frame | None:
    """The frame of a word drawn at `size` along `axis`, its em box centred on the quad's centre,
    as wide as the quad's projection on the axis, but at least `min_width`."""
    frame = quad_frame(quad, points_per_px, height_pt)
    if frame is None:
        return None
    middle_left, (dx, dy), width, _ = frame
    centre = frame_centre(middle_left, (dx, dy), width)
    width = max(width * max(0.0, dx * axis[0] + dy * axis[1]), min_width)
    (dx, dy) = axis
    middle_left = (centre[0] - dx * width / 2, centre[1] - dy * width / 2)
    drop = size * (0.5 - DESCENT_EM)  # from the em box's middle down to the baseline
    return (middle_left[0] + dy * drop, middle_left[1] - dx * drop), (dx, dy), width


def least_width(text: str, size: float) -> float:
    """The narrowest a word may be drawn (see MIN_ADVANCE_EM)."""
    repeated = any(a == b for a, b in itertools.pairwise(text))
    return MIN_ADVANCE_EM * size * len(text) if repeated else 0.0


def frame_centre(middle_left: Point, direction: Point, width: float) -> Point:
    """The middle of a frame (see quad_frame): `width` along `direction` from its left edge's middle."""
    return middle_left[0] + direction[0] * width / 2, middle_left[1] + direction[1] * width / 2


def distance_along(start: Point, end: Point, direction: Point) -> float:
    """How far `end` lies from `start` along the unit `direction`."""
    return (end[0] - start[0]) * direction[0] + (end[1] - start[1]) * direction[1]


def normal_to(direction: Point) -> Point:
    """The unit direction turned a quarter to the left: "up" for text running along `direction`."""
    return (-direction[1], direction[0])


def level_of(point: Point, direction: Point) -> float:
    """How high `point` lies, measured across text running along `direction`."""
    return distance_along((0.0, 0.0), point, normal_to(direction))


def moved_frame(frame: Frame, direction: Point, distance: float) -> Frame:
    """`frame` moved `distance` along the unit `direction`."""
    (x, y), along, width = frame
    return (x + direction[0] * distance, y + direction[1] * distance), along, width


def tilt_of(direction: Point, axis: Point) -> float:
    """The sine of the angle between a line's unit `direction` and the page `axis` it is drawn along."""
    return abs(direction[0] * axis[1] - direction[1] * axis[0])


def height_across(quad: Quad, axis: Point, points_per_px: float, height_pt: float) -> float:
    """How far a quad spans across text running along `axis`: the height of its upright box."""
    levels = [level_of(corner, axis) for corner in quad_corners(quad, points_per_px, height_pt)]
    return max(levels) - min(levels)


def clamp(shift: float, reach: float) -> float:
    """`shift`, cut down to at most `reach` either way."""
    return min(reach, max(-reach, shift))
