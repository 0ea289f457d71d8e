"""Quad geometry: rectify a text-line quad into a straight crop, and map crop points back to the page."""

from __future__ import annotations

import cv2
import numpy as np


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    """Length of a quad's reading direction (width) and its height, in pixels."""
    top = np.linalg.norm(quad[1] - quad[0])
    bottom = np.linalg.norm(quad[2] - quad[3])
    left = np.linalg.norm(quad[3] - quad[0])
    right = np.linalg.norm(quad[2] - quad[1])
    return float(max(top, bottom)), float(max(left, right))


def crop_transform(quad: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Perspective matrix taking the quad (TL, TR, BR, BL) to an out_w x out_h rectangle."""
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    return cv2.getPerspectiveTransform(quad.astype(np.float32), target)


def rectify(
    image: np.ndarray, quad: np.ndarray, out_h: int, max_w: int, squeeze: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a text-line quad straight into a crop of height out_h; return the crop and its matrix.

    Warping straight to the target height avoids a second resize. The crop keeps the line's aspect
    ratio, capped at max_w.
    """
    width, height = quad_size(quad)
    out_w = int(np.clip(round(width * squeeze * out_h / max(height, 1.0)), 8, max_w))
    matrix = crop_transform(quad, out_w, out_h)
    interpolation = cv2.INTER_AREA if height > 2 * out_h else cv2.INTER_LINEAR
    crop = cv2.warpPerspective(
        image, matrix, (out_w, out_h), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, matrix


def map_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply the inverse of a crop matrix: crop points (N, 2) -> page points (N, 2)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, np.linalg.inv(matrix)).reshape(-1, 2)


def scaled(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` resized by `scale` (area-averaged), each side at least 1 px: OpenCV refuses a side
    scaled to 0 (a 1 x 60,000 px image scaled down)."""
    height, width = image.shape[:2]
    if min(height, width) * scale >= 0.5:  # by the factor: OpenCV's fast path for whole steps
        return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def rotate_image(image: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate clockwise by a multiple of 90 degrees."""
    turns = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    code = turns[degrees % 360]
    return image if code is None else cv2.rotate(image, code)


def unrotate_points(points: np.ndarray, degrees: int, width: int, height: int) -> np.ndarray:
    """Map points of an image rotated clockwise by `degrees` back to the original image's frame.

    width and height are the ORIGINAL image's size.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    degrees %= 360
    if degrees == 0:
        return pts.copy()
    if degrees == 90:  # rotated (x', y') = (H - y, x)  =>  x = y', y = H - x'
        return np.stack([y, height - x], axis=1)
    if degrees == 180:
        return np.stack([width - x, height - y], axis=1)
    # 270: rotated (x', y') = (y, W - x)  =>  x = W - y', y = x'
    return np.stack([width - y, x], axis=1)
