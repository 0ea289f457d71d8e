"""Images wrapped in a PDF (no text yet), a page per frame, the pixels kept exactly.

img2pdf does the wrapping: JPEG bytes pass through untouched, PNG data passes through, bilevel
TIFFs become CCITT Group 4. A black-and-white PNG is the one case where we help it: its pixels
are re-encoded as Group 4 (lossless, and typically a third smaller for scanned text) when that
is smaller than the file, so the searchable PDF stays close to the scan's size."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pikepdf
from PIL import Image

from ocrcli.imageio import iter_pages

_BLACK_AND_WHITE = {(0, 0, 0), (255, 255, 255)}
_ORIENTATION_TAG = 0x0112


def images_pdf(sources: list[Path]) -> pikepdf.Pdf:
    """A PDF of the images, a page per frame (no text yet)."""
    return pikepdf.open(io.BytesIO(_img2pdf(sources)))


def _img2pdf(sources: list[Path]) -> bytes:
    import img2pdf

    try:
        inputs = [_group4(s) or os.fspath(s) for s in sources]
        return img2pdf.convert(inputs, rotation=img2pdf.Rotation.ifvalid)
    except Exception:  # noqa: BLE001 - img2pdf refuses some images (16-bit colour); convert those
        return img2pdf.convert([_lossless_png(s) for s in sources])


def _group4(source: Path) -> bytes | None:
    """The PNG's pixels as a Group 4 TIFF of the same resolution, if the PNG is black and white
    only and the TIFF is smaller; else None (img2pdf then embeds the file as it is)."""
    with Image.open(source) as im:
        dpi = im.info.get("dpi")
        if im.format != "PNG" or not dpi or "transparency" in im.info:
            return None  # without a resolution img2pdf would size the two differently
        if im.getexif().get(_ORIENTATION_TAG, 1) != 1:
            return None  # the page must turn as img2pdf turns the PNG; leave that case to it
        if not _is_black_and_white(im):
            return None
        out = io.BytesIO()
        im.convert("L").convert("1", dither=Image.Dither.NONE).save(
            out, format="TIFF", compression="group4", dpi=dpi
        )
    tiff = out.getvalue()
    return tiff if len(tiff) < source.stat().st_size else None


def _is_black_and_white(im: Image.Image) -> bool:
    """Every pixel pure black or pure white (mode 1, or grey/palette using only those two)."""
    if im.mode == "1":
        return True
    if im.mode == "L":
        histogram = im.histogram()
        return sum(histogram[0:1] + histogram[255:256]) == sum(histogram)
    if im.mode == "P":
        palette = im.getpalette() or []
        used = im.getcolors(256) or []
        return all(tuple(palette[3 * index : 3 * index + 3]) in _BLACK_AND_WHITE for _, index in used)
    return False


def _lossless_png(source: Path) -> bytes:
    """The image as 8-bit RGB PNG frames img2pdf accepts (a multi-page TIFF stays multi-page)."""
    frames = [Image.fromarray(f.image) for f in iter_pages(source)]
    out = io.BytesIO()
    if len(frames) == 1:
        frames[0].save(out, format="PNG")
    else:
        frames[0].save(out, "TIFF", compression="tiff_deflate", save_all=True, append_images=frames[1:])
    return out.getvalue()
