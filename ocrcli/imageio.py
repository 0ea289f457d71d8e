"""The one image loader: every input image goes through here and comes out as uint8 RGB.

Decoding is Pillow's (but for the 16-bit samples of a colour TIFF, which it cuts to 8 bits: see
deep_samples); this module only decides how each pixel mode becomes RGB (palettes via the palette,
transparency over white, 16/32-bit samples scaled by their bit depth rather than clipped, EXIF
orientation applied), guards against decompression bombs, and turns every failure into a one-line
`BadInputError` naming the file.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import time
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError, features

from ocrcli import fingerprint, libtiff
from ocrcli.errors import BadInputError, OcrError, UsageError, input_size, one_line

MAX_PIXELS: int = 200_000_000  # default per-frame limit; the environment variable below overrides it
MAX_PIXELS_ENV = "OCRCLI_MAX_PIXELS"

_DPI_RANGE = (30.0, 5000.0)  # outside this a resolution tag is a placeholder (1, 72 dpi is kept) or junk
_EXIF_ORIENTATION = 0x0112
_NEW_SUBFILE_TYPE = 254  # TIFF: bit 0 marks a reduced-resolution copy of another frame
_BITS_PER_SAMPLE = 258  # TIFF
_SAMPLE_FORMAT = 339  # TIFF: 1 unsigned integers (the default), 2 signed, 3 floating point
_EXIF_X_RESOLUTION, _EXIF_Y_RESOLUTION, _EXIF_RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
_QUARTER_TURNS = {5, 6, 7, 8}  # the orientations that turn a picture a quarter

# Pillow logs some of what it cannot decode ("More samples per pixel than can be decoded: 9", a
# corrupt TIFF) as errors, and with no handler anywhere Python printed them bare on stderr above
# the one-line error that names the file.
logging.getLogger("PIL").addHandler(logging.NullHandler())


def _supported_suffixes() -> frozenset[str]:
    suffixes = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".bmp", ".dib", ".gif"}
    suffixes |= {".pbm", ".pgm", ".ppm", ".pnm"}
    # These depend on optional libraries Pillow may have been built without.
    optional = {"webp": {".webp"}, "jpg_2000": {".jp2", ".j2k", ".jpf", ".jpx"}, "avif": {".avif"}}
    known = set(features.modules) | set(features.codecs)
    for feature, extra in optional.items():
        if feature in known and features.check(feature):
            suffixes |= extra
    return frozenset(suffixes)


SUPPORTED_SUFFIXES: frozenset[str] = _supported_suffixes()

# The Pillow formats an image is opened as: those the README lists (PNM is Pillow's PPM; a JPEG
# with extra pictures opens as MPO through JPEG's). Pillow knows some 40 more, and opens a file
# as any of them whatever its name, EPS among them, which it renders by running Ghostscript on the
# file: a PostScript loop named .png hung the run, and untrusted input must not reach an interpreter.
Image.init()
OPENED_FORMATS: tuple[str, ...] = tuple(
    name
    for name in ("PNG", "JPEG", "TIFF", "BMP", "DIB", "GIF", "PPM", "WEBP", "JPEG2000", "AVIF")
    if name in Image.OPEN  # those Pillow was built with
)


@dataclass
class PageImage:
    """One frame of an image file.

    `image` is H x W x 3 uint8 RGB, C-contiguous, in the orientation the file displays (EXIF
    applied). It may be read-only (it wraps Pillow's buffer without a copy): copy it before
    modifying it in place.
    """

    image: np.ndarray
    dpi: float | None  # from the file's resolution tags when plausible, else None
    index: int  # 0-based page index within the file (TIFF previews are no pages: see _page_frames)


def iter_pages(path: str | os.PathLike[str], max_pixels: int | None = None) -> Iterator[PageImage]:
    """Yield the file's pages one at a time, decoding each only when it is reached.

    Every page of a multi-page TIFF is yielded; other formats yield their first frame only
    (animated GIF/WebP/PNG frames are not pages, nor is the second picture of a phone's MPO JPEG).
    `max_pixels` (default: $OCRCLI_MAX_PIXELS, else MAX_PIXELS) caps width x height per frame.
    Errors, including a missing file, are raised as `BadInputError` during iteration.
    """
    limit = _pixel_limit(path, max_pixels)
    with _open(path) as im:
        frames = _page_frames(path, im)
        for page in range(len(frames)):
            yield _read_frame(path, im, frames, page, limit)


def read_page(path: str | os.PathLike[str], index: int, max_pixels: int | None = None) -> PageImage:
    """One page (0-based `index`) of the file, seeking past the others without decoding them."""
    limit = _pixel_limit(path, max_pixels)
    with _open(path) as im:
        frames = _page_frames(path, im)
        if not 0 <= index < len(frames):
            raise BadInputError(path, f"has no page {index + 1} (it has {len(frames)})")
        return _read_frame(path, im, frames, index, limit)


def load_pages(path: str | os.PathLike[str], max_pixels: int | None = None) -> list[PageImage]:
    """All pages of the file (see `iter_pages`)."""
    return list(iter_pages(path, max_pixels))


def open_image(path: str | os.PathLike[str], max_pixels: int | None = None) -> Image.Image:
    """The file opened as the loader opens it (headers only), every page checked against the pixel
    limit first, so nothing that reads it decodes a decompression bomb. Errors as `iter_pages`."""
    limit = _pixel_limit(path, max_pixels)
    im = _open(path)
    try:
        count = _frame_count(path, im)
        for index in range(count):
            with decoding(path, index, count):
                im.seek(index)
            _check_pixels(path, im.size, limit, _page_prefix(index, count))
        with decoding(path, 0, count):
            im.seek(0)
    except BaseException:
        im.close()
        raise
    return im


def count_pages(path: str | os.PathLike[str]) -> int:
    """How many pages `iter_pages` would yield, without decoding any pixels."""
    with _open(path) as im:
        return len(_page_frames(path, im))


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Normalise a caller-supplied array to H x W x 3 uint8 RGB (C-contiguous).

    Accepts H x W grey, H x W x 1 grey, H x W x 2 grey+alpha, H x W x 3 RGB and H x W x 4 RGBA.
    Colour arrays are assumed to be RGB(A), not OpenCV's BGR. Alpha is composited over white.
    Values: bool -> 0/255; integers up to 255 are kept; larger integers are scaled down by their
    bit depth (a 12-bit scan in uint16 uses the full 0..255 range); floats in 0..1 are scaled by
    255, floats in 0..255 kept, anything else (or negative integers) stretched min..max.
    A uint8 RGB C-contiguous array is returned as is, without a copy.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise ValueError(f"expected an H x W or H x W x 1/2/3/4 image array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"image array is empty (shape {array.shape})")
    array = _to_uint8(array)
    if array.ndim == 3 and array.shape[2] in (2, 4):
        array = _composite_array_on_white(array[:, :, :-1], array[:, :, -1])
    if array.ndim == 2 or array.shape[2] == 1:
        grey = array.reshape(array.shape[0], array.shape[1])
        return np.repeat(grey[:, :, np.newaxis], 3, axis=2)
    return np.ascontiguousarray(array)


# --- opening and per-frame decoding -------------------------------------------------------------


def _pixel_limit(path: str | os.PathLike[str], max_pixels: int | None) -> int:
    if max_pixels is not None:
        if max_pixels <= 0:
            raise ValueError(f"max_pixels must be positive, got {max_pixels}")
        return max_pixels
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return MAX_PIXELS
    try:
        value = int(raw)  # accepts 300_000_000 too
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(  # the setting's fault, not the file's: exit 2, as a bad option
            path, f"{MAX_PIXELS_ENV} must be a positive whole number of pixels, got {raw!r}"
        )
    return value


_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
)


def header_kind(file: str | os.PathLike[str]) -> str | None:
    """What the file's first bytes say it is ("PDF", "PNG", ...), or None: the hint an error
    message gives when a file cannot be read as the kind its command takes."""
    try:
        with open(file, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _open(path: str | os.PathLike[str]) -> Image.Image:
    """Open lazily (header only) with a specific error for each way a path can fail."""
    file = Path(path)
    if input_size(file, "an image file") == 0:
        raise BadInputError(path, "file is empty (0 bytes)")
    # Pillow's own bomb guard (a warning over 89 megapixels, an error over 179) would fire first,
    # below a limit the user raised, and without saying how to raise it. The per-frame check in
    # _read_frame replaces it. This is process-wide, which is fine: all images load through here.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with _quiet_pillow():
            im = Image.open(file, formats=OPENED_FORMATS)
    except PermissionError as exc:
        raise BadInputError(path, "permission denied", "unreadable") from exc
    except UnidentifiedImageError as exc:
        kind = header_kind(file)
        if kind == "PDF":
            raise BadInputError(path, "is a PDF, not an image: OCR it with `ocr pdf`", "unsupported") from exc
        if kind:  # its header says what it is, yet it cannot be read
            raise BadInputError(path, f"a {kind} file that cannot be read: truncated or corrupt") from exc
        raise BadInputError(
            path, "not an image, or an image format that cannot be read", "unsupported"
        ) from exc
    except Image.DecompressionBombError as exc:  # only if someone re-enabled Pillow's limit
        raise BadInputError(path, f"image is too large ({one_line(exc)})", "too-large") from exc
    except Exception as exc:  # a plugin recognised the format but choked on the header
        raise BadInputError(path, decode_reason(exc), decode_kind(exc)) from exc
    if im.format == "PNG":
        try:
            _check_png_checksums(path)
        except BaseException:
            im.close()
            raise
    return im


def _frame_count(path: str | os.PathLike[str], im: Image.Image) -> int:
    # Only TIFF frames are pages; GIF/WebP/APNG frames are animation and MPO extras are previews.
    if im.format != "TIFF":
        return 1
    try:
        with _quiet_pillow():  # counting reads every frame's tags: "Corrupt EXIF data" on a cut-off one
            return max(1, int(getattr(im, "n_frames", 1)))
    except Exception as exc:
        raise BadInputError(path, f"corrupt multi-page TIFF ({one_line(exc)})") from exc


def iter_frames(
    path: str | os.PathLike[str], max_pixels: int | None = None
) -> Iterator[tuple[Image.Image, tuple[float, float] | None]]:
    """The pages `iter_pages` yields, as decoded Pillow frames turned upright, each with its (x, y)
    resolution (see `upright_frame`), in their own pixel mode. A frame may be the open image
    itself: use it before taking the next. Errors as for `iter_pages`."""
    limit = _pixel_limit(path, max_pixels)
    with _open(path) as im:
        frames = _page_frames(path, im)
        for page in range(len(frames)):
            yield _decode_frame(path, im, frames, page, limit)


def _page_frames(path: str | os.PathLike[str], im: Image.Image) -> list[int]:
    """The indices of the frames that are pages: every frame of a TIFF but those marked as a
    reduced-resolution copy of another (a scanner's or an image editor's preview, which was read
    as one more page, every word on it found twice), unless all are; the first of other files."""
    count = _frame_count(path, im)
    if count == 1:
        return [0]
    frames = []
    for index in range(count):
        with decoding(path, index, count):
            im.seek(index)
        if not is_preview(im):
            frames.append(index)
    with decoding(path, 0, count):
        im.seek(0)
    return frames or list(range(count))


def is_preview(im: Image.Image) -> bool:
    """Whether the current frame of a TIFF is a reduced-resolution copy of another (bit 0 of its
    NewSubfileType tag)."""
    try:
        return im.format == "TIFF" and bool(int(im.tag_v2.get(_NEW_SUBFILE_TYPE, 0)) & 1)
    except (TypeError, ValueError):  # a malformed tag: the frame is taken as a page
        return False


def _read_frame(
    path: str | os.PathLike[str], im: Image.Image, frames: list[int], page: int, limit: int
) -> PageImage:
    frame, resolution = _decode_frame(path, im, frames, page, limit)
    size, dpi = _square_pixels(frame.size, resolution)
    with decoding(path, page, len(frames)):
        if size != frame.size:
            _check_pixels(path, size, limit, _page_prefix(page, len(frames)))
        image = frame_to_rgb(frame)
        if size != frame.size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    return PageImage(image=image, dpi=dpi, index=page)


def _decode_frame(
    path: str | os.PathLike[str], im: Image.Image, frames: list[int], page: int, limit: int
) -> tuple[Image.Image, tuple[float, float] | None]:
    """Page `page`, frame `frames[page]` of the file, decoded and turned upright (upright_frame)."""
    count = len(frames)
    with decoding(path, page, count):
        if frames[page] != im.tell():
            im.seek(frames[page])
    _check_pixels(path, im.size, limit, _page_prefix(page, count))  # Image.open read the header only
    with decoding(path, page, count):  # decode here, so truncation and corruption surface as errors
        return upright_frame(im)


def _check_png_checksums(path: str | os.PathLike[str]) -> None:
    """Refuse a PNG whose chunks fail their CRC. Pillow checks those of the chunks before the image
    data but not the image data's own, and image data damaged in a few bytes decoded without an
    error, black or garbled below the damage: a page OCRed half empty, exit 0. Where the file ends
    early, Pillow's decoding says so. A file found sound is not read again while its stat stays
    (fingerprint.settled_stat): it is opened three times for its OCR and its PDF."""
    settled = fingerprint.settled_stat(os.stat(path), time.time_ns())
    if settled is None:
        _read_png_checksums(os.fspath(path))
    else:
        _png_found_sound(os.fspath(path), tuple(settled.values()))


@functools.lru_cache(maxsize=32)
def _png_found_sound(path: str, stat: tuple[int, ...]) -> None:
    _read_png_checksums(path)  # an error is raised, not cached: the file is read again next time


def _read_png_checksums(path: str) -> None:
    with open(path, "rb") as f:
        f.seek(8)  # the signature
        while len(head := f.read(8)) == 8:
            kind, left, crc = head[4:], int.from_bytes(head[:4], "big"), zlib.crc32(head[4:])
            while left and (piece := f.read(min(left, 1 << 20))):
                crc, left = zlib.crc32(piece, crc), left - len(piece)
            stored = f.read(4)
            if left or len(stored) < 4:
                return
            if crc != int.from_bytes(stored, "big"):
                chunk = kind.decode("latin-1")
                raise BadInputError(
                    path, f"corrupt or unreadable image data (its PNG {chunk} chunk fails its checksum)"
                )
            if kind == b"IEND":
                return


@contextlib.contextmanager
def decoding(path: str | os.PathLike[str], index: int = 0, count: int = 1) -> Iterator[None]:
    """Pillow's errors while decoding page `index` of `count`, as the user's one-line error about
    `path`; and libtiff's, which it reports without failing (a corrupt Group 4 frame decodes to
    garbage). Pillow's warnings stay off stderr meanwhile (see _quiet_pillow)."""
    tiff_errors: list[str] = []
    try:
        with _quiet_pillow(), libtiff.reported_errors() as tiff_errors:
            yield
    except OcrError:  # ours, already saying what went wrong (a bad OCRCLI_MAX_PIXELS, say)
        raise
    except Exception as exc:
        reason = f"{_page_prefix(index, count)}{decode_reason(exc, tiff_errors)}"
        raise BadInputError(path, reason, decode_kind(exc)) from exc
    if tiff_errors:
        raise BadInputError(path, f"{_page_prefix(index, count)}{libtiff_reason(tiff_errors)}")


@contextlib.contextmanager
def _quiet_pillow() -> Iterator[None]:
    """Pillow's warnings while reading a file ("Corrupt EXIF data" from a truncated TIFF) stay off
    stderr, where they printed a library path above the one-line error, or above nothing at all
    for a file that reads: what is wrong with a file is said by its error, if it has one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV's warnings while it reads a file (libtiff's "Unknown field with tag ...", for a
    scanner's private tags) stay off stderr, as Pillow's do (see _quiet_pillow). OpenCV's log level
    is the process's: it is set back at once, and nothing else decodes meanwhile."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _page_prefix(index: int, count: int) -> str:
    return f"page {index + 1} of {count}: " if count > 1 else ""


def _check_pixels(path: str | os.PathLike[str], size: tuple[int, int], limit: int, page: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise BadInputError(path, f"{page}image has no pixels ({width}x{height})")
    if width * height > limit:
        raise BadInputError(
            path,
            f"{page}image is {width}x{height} = {_format_pixels(width * height)}, over the limit of "
            f"{_format_pixels(limit)} (set {MAX_PIXELS_ENV} to raise it)",
            "too-large",
        )


def _format_pixels(pixels: int) -> str:
    if pixels >= 10_000_000:
        return f"{round(pixels / 1e6):,} megapixels"
    if pixels >= 1_000_000:
        return f"{pixels / 1e6:.1f} megapixels"
    return f"{pixels:,} pixels"


def decode_reason(exc: BaseException, tiff_errors: list[str] | None = None) -> str:
    """Why decoding failed; libtiff's first error, if it reported any (see libtiff), says more than
    Pillow's "decoder error -2"."""
    detail = one_line(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory to decode the image"
    if isinstance(exc, EOFError) or "truncat" in detail.lower():
        return f"image data is truncated, the file is incomplete ({detail})"
    if tiff_errors:
        return libtiff_reason(tiff_errors)
    return f"corrupt or unreadable image data ({detail})"


def decode_kind(exc: BaseException) -> str:
    """The error's kind: running out of memory while decoding is no fault of the file's (it was
    "corrupt", where README's kinds have "out-of-memory" for it)."""
    return "out-of-memory" if isinstance(exc, MemoryError) else "corrupt"


def libtiff_reason(messages: list[str]) -> str:
    return f"corrupt or unreadable image data (libtiff: {messages[0]})"


def upright_frame(im: Image.Image) -> tuple[Image.Image, tuple[float, float] | None]:
    """Decode the current frame; return it as the file displays it (EXIF or TIFF orientation
    applied) with the (x, y) resolution its tags give, in that displayed frame (None without)."""
    orientation = exif_orientation(im)  # before load(): Pillow turns TIFF pixels upright as it
    displayed = im.size  # decodes them and drops the tag; it gives a TIFF's upright size at once
    im.load()
    frame = _apply_orientation(im)
    if frame.size != displayed and im.format == "TIFF":  # Pillow 13 garbles uncompressed ones
        raise ValueError("Pillow cannot turn an uncompressed TIFF by its orientation tag; save it compressed")
    resolution = file_resolution(im)
    if resolution and orientation in _QUARTER_TURNS:  # the file's x runs down the page as displayed
        resolution = resolution[1], resolution[0]
    return frame, resolution


def file_resolution(im: Image.Image) -> tuple[float, float] | None:
    """The (x, y) resolution a Pillow image's file stores, or None."""
    if im.format in ("JPEG", "MPO") and im.info.get("jfif_unit") not in (1, 2):
        # Not from JFIF: from EXIF, read here, since Pillow says 72 dpi for EXIF without a
        # resolution or without its unit (which EXIF defines as inches).
        return _exif_resolution(im.getexif())
    value = im.info.get("dpi")
    try:
        pair = value if isinstance(value, tuple | list) else (value, value)
        x, y = float(pair[0]), float(pair[1])
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None  # NaN: a 0/0 TIFF rational


def _exif_resolution(exif: Image.Exif) -> tuple[float, float] | None:
    """EXIF's XResolution and YResolution in dots per inch, or None if it declares none."""
    unit = exif.get(_EXIF_RESOLUTION_UNIT, 2)  # 1: no unit, 2: inch, 3: centimetre
    if _EXIF_X_RESOLUTION not in exif or unit not in (2, 3):
        return None
    x = exif[_EXIF_X_RESOLUTION]
    y = exif.get(_EXIF_Y_RESOLUTION, x)
    try:
        scale = 2.54 if unit == 3 else 1.0
        return float(x) * scale, float(y) * scale
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _square_pixels(
    size: tuple[int, int], resolution: tuple[float, float] | None
) -> tuple[tuple[int, int], float | None]:
    """The size at which the frame has square pixels, and its resolution then (None if unknown).

    A fax at 204 x 98 dpi has pixels twice as tall as wide: its page is read, and its boxes
    given, at 204 dpi both ways, the height resampled to match the page the file describes."""
    if (resolution := plausible_resolution(resolution)) is None:  # as imagepdf sizes the page
        return size, None
    x, y = resolution
    if abs(x - y) <= 0.01 * max(x, y):
        return size, round(x, 1)  # PNG's 7874 pixels/m read as 199.9996 dpi
    dpi = max(x, y)
    width, height = size
    return (round(width * dpi / x), round(height * dpi / y)), round(dpi, 1)


def plausible_resolution(resolution: tuple[float, float] | None) -> tuple[float, float] | None:
    """A file's (x, y) resolution if both are plausible (see _DPI_RANGE), else None: unknown."""
    if resolution is None or not all(_plausible(v) for v in resolution):
        return None
    return resolution


def _plausible(dpi: float) -> bool:
    low, high = _DPI_RANGE
    return low <= dpi <= high


def exif_orientation(im: Image.Image) -> int:
    """The EXIF or TIFF orientation tag (1-8; 1, upright, when absent, invalid or unreadable:
    scanners write 0)."""
    if im.format == "PNG":
        im.load()  # an eXIf chunk may follow the pixels; decode errors must not pass for "no tag"
    try:
        orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # broken EXIF must not make an otherwise readable image unreadable
        return 1
    return orientation if 1 <= orientation <= 8 else 1


def _apply_orientation(im: Image.Image) -> Image.Image:
    if exif_orientation(im) in (2, 3, 4, 5, 6, 7, 8):
        return ImageOps.exif_transpose(im)
    return im  # exif_transpose would copy even when there is nothing to do


def frame_to_rgb(im: Image.Image) -> np.ndarray:
    """A decoded frame as H x W x 3 uint8 RGB: palettes via the palette, transparency over white,
    16/32-bit and float samples scaled rather than clipped (see to_rgb)."""
    mode = im.mode
    if mode in ("I", "F"):
        # Pillow's convert("RGB") clips these at 255: a 16-bit scan would come out white or black.
        return to_rgb(_unsigned_as_stored(im))
    if (samples := deep_samples(im)) is not None:  # scaled by their bit depth; alpha over white
        return to_rgb(samples)
    if im.has_transparency_data:  # RGBA, LA, PA, RGBa, or a tRNS/GIF transparent colour
        return _composite_image_on_white(im)
    if mode in ("1", "L"):
        return to_rgb(np.asarray(im))  # 1 byte per pixel until the final RGB array
    rgb = im if mode == "RGB" else im.convert("RGB")  # P via its palette, CMYK, YCbCr, LAB, HSV
    return np.ascontiguousarray(np.asarray(rgb))


def _unsigned_as_stored(im: Image.Image) -> np.ndarray:
    """A mode I or F frame's samples; a TIFF's unsigned 32-bit ones (SampleFormat 1, TIFF's
    default: ImageMagick's -depth 32), which Pillow decodes as signed, read as unsigned again (the
    paper, at 2**31 and over, read negative: the page was stretched from its least sample to its
    largest, 127 levels off)."""
    samples = np.asarray(im)
    if im.mode != "I" or im.format != "TIFF" or max(im.tag_v2.get(_BITS_PER_SAMPLE, (0,))) != 32:
        return samples
    if im.tag_v2.get(_SAMPLE_FORMAT, (1,))[0] == 1:
        return samples.view(np.uint32)
    return samples


def deep_samples(im: Image.Image) -> np.ndarray | None:
    """A decoded frame's 16-bit samples, as the file holds them: a grey frame's (Pillow's I;16
    modes), H x W; a colour TIFF frame's (RGB or RGBA, as a scanner's 48-bit colour or a lab
    camera's 12 bits in 16-bit samples), H x W x 3 or 4, which Pillow decodes to 8 bits by keeping
    each sample's high byte (a 12-bit image came out at 1/16 of its brightness). Those are read
    again by OpenCV, and given only where OpenCV reads the same frame to the same high bytes.
    None for any other frame, and for a colour one OpenCV does not read so (premultiplied alpha,
    which Pillow divides out; a frame over OpenCV's limit of 2**30 pixels): its 8 bits are all."""
    if im.mode.startswith("I;16"):
        return np.asarray(im)
    if im.format != "TIFF" or im.mode not in ("RGB", "RGBA") or not getattr(im, "filename", None):
        return None
    if max(im.tag_v2.get(_BITS_PER_SAMPLE, (8,))) != 16:
        return None
    page = im.tell()
    # By its bytes: by its name OpenCV opened no file named in other than ASCII (and crashed where
    # the name was not UTF-8).
    try:
        data = np.memmap(im.filename, dtype=np.uint8, mode="r")
    except OSError:  # a file system that cannot map files (FUSE with direct I/O): read it
        data = np.fromfile(im.filename, dtype=np.uint8)
    with _quiet_opencv():
        read, frames = cv2.imdecodemulti(data, cv2.IMREAD_UNCHANGED, range=(page, page + 1))
    del data
    if not read or frames[0].dtype != np.uint16 or frames[0].ndim != 3:
        return None
    channels = len(im.mode)
    if frames[0].shape[2] < channels:
        return None
    samples = frames[0][:, :, [2, 1, 0, 3][:channels]]  # OpenCV's BGR(A), an unused 4th sample left out
    return samples if np.array_equal(samples >> 8, np.asarray(im)) else None


def _composite_image_on_white(im: Image.Image) -> np.ndarray:
    rgba = im.convert("RGBA")  # palettes and transparent colours become a real alpha channel
    page = Image.new("RGB", rgba.size, (255, 255, 255))
    page.paste(rgba, mask=rgba.getchannel("A"))
    return np.ascontiguousarray(np.asarray(page))


# --- array helpers ------------------------------------------------------------------------------


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(array.dtype, np.integer):
        return _integers_to_uint8(array)
    if np.issubdtype(array.dtype, np.floating):
        return _floats_to_uint8(array)
    raise ValueError(f"unsupported image array dtype {array.dtype}")


def _integers_to_uint8(array: np.ndarray) -> np.ndarray:
    low, high = int(array.min()), int(array.max())
    if low < 0:
        return _stretch(array, low, high)
    # Scale by the data's bit depth, not the container's: 0..4095 (12-bit) maps to 0..255.
    return (array >> (significant_bits(array) - 8)).astype(np.uint8)


def significant_bits(samples: np.ndarray) -> int:
    """The bit depth non-negative integer samples are read at: that of the largest, at least 8.
    A 12-bit scan stored in 16-bit samples (0..4095) is read as 12-bit, 4095 white, not as 16-bit
    at 1/16 of its brightness; a 16-bit image using its full range as 16-bit."""
    return max(8, int(samples.max()).bit_length())


def _floats_to_uint8(array: np.ndarray) -> np.ndarray:
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(array.min()), float(array.max())
    if low >= 0.0 and high <= 1.0:
        return np.rint(array * 255.0).astype(np.uint8)
    if low >= 0.0 and high <= 255.0:
        return np.rint(array).astype(np.uint8)
    return _stretch(array, low, high)


def _stretch(array: np.ndarray, low: float, high: float) -> np.ndarray:
    if high == low:
        return np.full(array.shape, 255, np.uint8)  # no content: show it as blank paper
    scaled = (array.astype(np.float32) - np.float32(low)) * np.float32(255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _composite_array_on_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[:, :, np.newaxis].astype(np.uint16)
    # colour*a + 255*(255-a) <= 255*255, so uint16 cannot overflow; +127 rounds to nearest.
    blended = (colour.astype(np.uint16) * a + 255 * (255 - a) + 127) // 255
    return blended.astype(np.uint8)
