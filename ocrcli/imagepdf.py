"""Images wrapped in a PDF (no text yet), a page per frame as the file displays it, at the size
its resolution gives, the pixels kept exactly.

img2pdf does the wrapping: JPEG bytes pass through untouched (an EXIF turn becomes the page's
/Rotate), PNG data passes through, bilevel TIFFs become CCITT Group 4. Of an animated GIF or a
stereo MPO photo it takes the first frame only, the page the loader reads. Where it would get a
file wrong, it is handed the pages as the loader sees them instead, re-encoded losslessly:
- a TIFF with an orientation tag (Pillow turns its pixels upright, and img2pdf would turn the
  page again; its JPEG frames are drawn turned instead, see below) and a mirrored EXIF
  orientation in other formats (which /Rotate cannot express);
- any transparency, flattened onto white as the loader reads it and a viewer shows it on the page
  (img2pdf's soft mask hid 1-4 bit palette PNGs entirely);
- files img2pdf refuses (16-bit TIFFs, grey or colour, whose samples stay 16-bit; float).
A black-and-white PNG is re-encoded as Group 4 when that is smaller than the file (typically by
a third for scanned text), so the searchable PDF stays close to the scan's size; then every Group 4
image made here or by img2pdf (not a TIFF's own Group 4 data in one strip, which passes through)
becomes lossless JBIG2 where that is smaller (by about 30 % on scanned text) and pdfium decodes it
to the same pixels (see _as_jbig2; JBIG2_FOR_BILEVEL turns this off). A JPEG whose EXIF
orientation mirrors it keeps its bytes too: the page draws the image mirrored (see _drawn_as). A
JPEG-compressed TIFF frame's strips are joined into one JPEG (see tiffjpeg), checked to decode to
the same pixels (see _same_pixels), and passed through, also among frames of other compressions
and under an orientation tag (the page draws the image turned: see _drawn_as): img2pdf, or the
re-encoding here, would store the pixels with Flate, 2 to 3 times larger."""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pypdfium2 as pdfium
from PIL import Image
from PIL.TiffImagePlugin import BITSPERSAMPLE, COMPRESSION, ROWSPERSTRIP, STRIPBYTECOUNTS, STRIPOFFSETS

from ocrcli import jbig2
from ocrcli.errors import BadInputError
from ocrcli.imageio import (
    decoding,
    deep_samples,
    exif_orientation,
    file_resolution,
    frame_to_rgb,
    is_preview,
    iter_frames,
    open_image,
    plausible_resolution,
    significant_bits,
    upright_frame,
)
from ocrcli.pdfa import make_pdfa, refuse_unless_pdfa_able
from ocrcli.tiffjpeg import JPEG_COMPRESSION, frame_jpeg

IMG2PDF_RESOLUTION = (96.0, 96.0)  # img2pdf's size for an image without a resolution
_MIRRORS = (2, 4, 5, 7)  # EXIF orientations that mirror the picture (5 and 7 also turn it)
_QUARTER_TURNS = (5, 6, 7, 8)  # EXIF orientations that turn the picture a quarter
# How to take a picture turned upright by its EXIF orientation back to its pixels as stored
_UNDO_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # upright, it was turned ROTATE_270 (a quarter clockwise)
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
_BLACK_AND_WHITE = {(0, 0, 0), (255, 255, 255)}
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}  # what PNG stores as it is
STRIP_EDGE_LEVELS = 32  # see _same_pixels
JBIG2_FOR_BILEVEL = True  # Group 4 images made here become JBIG2 where smaller (see _as_jbig2)
# The encoder holds about 15 bytes per pixel (0.23 GB for an A4 page at 300 dpi): larger images
# stay Group 4, so that memory stays under 0.6 GB.
JBIG2_MAX_PIXELS = 40_000_000
_GROUP4_COMPRESSION = 4  # TIFF Compression
# What img2pdf embeds from the file's own data, or (TIFF) with the frame's mode as it is. Other
# formats it decodes and stores, colour or not, in the mode Pillow gives (every WebP as RGB).
_IMG2PDF_EMBEDS = ("JPEG", "MPO", "PNG", "TIFF", "JPEG2000")
# An ICC profile's colour components, by the colour space in its header (bytes 16-19)
_ICC_COMPONENTS = {b"GRAY": 1, b"RGB ": 3, b"CMYK": 4, b"Lab ": 3}
_DEVICE_SPACES = {1: pikepdf.Name.DeviceGray, 3: pikepdf.Name.DeviceRGB, 4: pikepdf.Name.DeviceCMYK}


def images_pdf(sources: list[Path], pdfa: bool = False) -> pikepdf.Pdf:
    """A PDF of the images, a page per frame (no text yet); PDF/A-2b with `pdfa` (see
    ocrcli.pdfa). BadInputError for an image whose page PDF cannot hold (see _within_pdf_limits),
    or PDF/A cannot."""
    parts = []
    for source in sources:
        part = _within_pdf_limits(source)
        _boxes_as_drawn(part)
        _drop_unfitting_profiles(part)
        if pdfa:  # on each image's own PDF, so that the error names the image refused
            refuse_unless_pdfa_able(part, source)
        parts.append(part)
    pdf = _joined(parts)
    if pdfa:
        make_pdfa(pdf)
    return pdf


def _boxes_as_drawn(pdf: pikepdf.Pdf) -> None:
    """Give each page's MediaBox the 4 decimals its image is drawn to (img2pdf's and _drawn_as's
    matrices), not pikepdf's 6: at 198.12 dpi the box was 168.26166 pt wide and the image drawn
    168.2617, and on a page turned upright in user space (see pdfgraft.turn_user_space) the image
    then began past the box's edge, which pdfium drew off the pixel grid, blurred."""
    for page in pdf.pages:
        page.obj.MediaBox = pikepdf.Array([round(float(v), 4) for v in page.mediabox])


def _drop_unfitting_profiles(pdf: pikepdf.Pdf) -> None:
    """Draw in its device colour space each image whose ICC profile is for another number of
    colour components than it has, which ISO 32000 (8.6.5.5) does not allow and PDF/A validators
    refuse: an RGB profile on a bilevel TIFF (as ImageMagick wrote them), on a grey PNG, or on a
    black-and-white palette PNG made Group 4; a CMYK one on a CMYK TIFF stored as RGB; a grey one
    on an RGB JPEG. img2pdf embeds a file's profile as it is. A reader ignores such a profile
    (pdfium and poppler draw the device colours; Acrobat reports an error): the page looks the same."""
    for page in pdf.pages:
        for image in page.get_images().values():
            space = image.get("/ColorSpace")
            if isinstance(space, pikepdf.Array) and space[0] == pikepdf.Name.ICCBased:
                components = int(space[1].N)  # img2pdf's: 1, 3 or 4, by the image's mode
                if _ICC_COMPONENTS.get(bytes(space[1].read_bytes()[16:20])) != components:
                    image.ColorSpace = _DEVICE_SPACES[components]


def _within_pdf_limits(source: Path) -> pikepdf.Pdf:
    """_image_pdf(source), with img2pdf's refusal of a page under 3 or over 14,400 pt a side (a
    5 x 5 px image at 300 dpi, or a long strip at a low resolution) and Pillow's decoding errors
    (a truncated PNG, decoded here before the loader reads it) and libtiff's (a corrupt Group 4
    frame that img2pdf re-encodes) as one-line errors, as the loader gives them (see
    imageio.decoding), Pillow's warnings kept off stderr as there. Catching only OSError and
    EOFError, a PNG whose chunk Pillow could not parse (SyntaxError) or a palette PNG without its
    palette (AssertionError) ended in "unexpected ... please report this", exit 1, naming no file,
    where the JSON alone said what was wrong with it (found by mutating images)."""
    with decoding(source):
        try:
            return _image_pdf(source)
        except ValueError as exc:
            if "Page size must be between" not in str(exc):
                raise
            reason = (
                "at its resolution the page would be under 3 pt or over 14400 pt a side, more than PDF allows"
            )
            raise BadInputError(source, reason, "unsupported") from exc


def _joined(parts: list[pikepdf.Pdf]) -> pikepdf.Pdf:
    """The pages of `parts` in one PDF."""
    if len(parts) == 1:
        return parts[0]
    return _pdf_of([page for part in parts for page in part.pages])


def _pdf_of(pages: list[pikepdf.Page]) -> pikepdf.Pdf:
    """A PDF of these pages, of other PDFs (still open while it is made)."""
    merged = pikepdf.new()
    merged.pages.extend(pages)
    out = io.BytesIO()
    merged.save(out)  # copies the pages' data while the PDFs they came from are still open
    return pikepdf.open(out)


def _image_pdf(source: Path) -> pikepdf.Pdf:
    import img2pdf

    # img2pdf logs its choices (an alpha channel masked, an invalid rotation ignored) to stderr.
    logging.getLogger("img2pdf").setLevel(logging.ERROR)
    tiff = _tiff_frames(source)  # read once: a TIFF may have hundreds of frames
    jpeg_frames = _tiff_jpeg_frames(source, tiff)
    if jpeg_frames and len(jpeg_frames) == len(tiff.schemes):  # each page sized by its own resolution
        return _joined([jpeg_frames[index] for index in range(len(tiff.schemes))])
    job = _img2pdf_job(source)
    # img2pdf reads a JPEG's resolution through Pillow, which says 72 dpi where EXIF gives none or
    # no unit; the page is sized by the loader's reading instead, as the sidecar states it.
    layout = {"layout_fun": img2pdf.get_fixed_dpi_layout_fun(job.dpi)} if job.dpi else {}
    mirror = job.mirror
    rotation = img2pdf.Rotation.none if mirror else img2pdf.Rotation.ifvalid
    own_data = job.inputs == [os.fspath(source)]  # img2pdf gets the file itself, not our re-encoding
    try:
        data = img2pdf.convert(job.inputs, rotation=rotation, first_frame_only=job.pages == 1, **layout)
    except Exception:  # noqa: BLE001 - img2pdf refuses some files (16-bit TIFF, float): re-encode
        data = img2pdf.convert(_frames_encoded(source))
        mirror, own_data = None, False
    pdf = pikepdf.open(io.BytesIO(data))
    if jpeg_frames:  # a page per frame (see _tiff_jpeg_frames): the JPEG frames' in place of Flate
        pdf = _with_pages(pdf, jpeg_frames)
    if mirror:
        _drawn_as(pdf, mirror)
    if JBIG2_FOR_BILEVEL:
        # A TIFF's own Group 4 data stays as the scanner wrote it; frames encoded here or by
        # img2pdf do not.
        _as_jbig2(pdf, keep=tiff.own_group4 if own_data else set())
    return pdf


def _jpeg_page(jpeg: bytes, dpi: tuple[float, float], orientation: int = 1) -> pikepdf.Pdf:
    """A PDF of one page that shows the JPEG file's bytes as they are, stored at `dpi`, as its
    `orientation` (a TIFF's tag, as EXIF numbers them) displays it (see _drawn_as)."""
    import img2pdf

    pdf = pikepdf.open(io.BytesIO(img2pdf.convert(jpeg, layout_fun=img2pdf.get_fixed_dpi_layout_fun(dpi))))
    if orientation != 1:
        _drawn_as(pdf, orientation)
    return pdf


def _with_pages(pdf: pikepdf.Pdf, pages: dict[int, pikepdf.Pdf]) -> pikepdf.Pdf:
    """`pdf` with each page whose index `pages` has replaced by the one page of its PDF there."""
    return _pdf_of(
        [pages[index].pages[0] if index in pages else page for index, page in enumerate(pdf.pages)]
    )


def _as_jbig2(pdf: pikepdf.Pdf, keep: set[int]) -> None:
    """Re-encode the Group 4 image of each page not in `keep` as lossless JBIG2 (see jbig2) if
    that is smaller. The bitmap is the one pdfium decodes from the Group 4 data, and JBIG2
    replaces it only once pdfium has decoded the JBIG2 data to exactly the same samples."""
    images = {
        index: image
        for index, image in _page_images(pdf).items()
        if index not in keep
        and pikepdf.PdfImage(image).filters == ["/CCITTFaxDecode"]
        and int(image.Width) * int(image.Height) <= JBIG2_MAX_PIXELS
    }
    if not images:
        return
    out = io.BytesIO()
    pdf.save(out)
    data = out.getvalue()
    for index, samples in _pdfium_samples(data, set(images)):  # one page's at a time
        coded = jbig2.encode(samples == 0)  # 1-bit DeviceGray: sample 0 is black
        if len(coded) < len(images[index].read_raw_bytes()) and np.array_equal(
            dict(_pdfium_samples(jbig2_pdf(coded, samples.shape), {0})).get(0), samples
        ):
            images[index].write(coded, filter=pikepdf.Name.JBIG2Decode)  # drops the fax /DecodeParms


def _page_images(pdf: pikepdf.Pdf) -> dict[int, pikepdf.Stream]:
    """The image XObject of each page that draws exactly one (as img2pdf's pages do)."""
    images = {}
    for index, page in enumerate(pdf.pages):
        xobjects = list(page.Resources.get("/XObject", {}).values())
        if len(xobjects) == 1 and xobjects[0].get("/Subtype") == pikepdf.Name.Image:
            images[index] = xobjects[0]
    return images


def jbig2_pdf(coded: bytes, shape: tuple[int, ...]) -> bytes:
    """A PDF of one page that draws the JBIG2 data as a black-and-white image: for pdfium to
    decode before the data goes in a user's PDF (and for the encoder's tests)."""
    height, width = shape
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, coded)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height = width, height
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 1
    image.Filter = pikepdf.Name.JBIG2Decode
    page = pdf.add_blank_page(page_size=(max(width, 3), max(height, 3)))  # PDF's smallest page
    page.Resources.XObject = pikepdf.Dictionary(Im0=image)
    page.Contents = pdf.make_stream(f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _pdfium_samples(data: bytes, pages: set[int]) -> Iterator[tuple[int, np.ndarray]]:
    """(page, samples) for each of `pages` of the PDF `data` whose one image pdfium decodes to
    black and white: its samples as pdfium reads them from the image's data (0 or 255, not
    rendered), one page at a time (a TIFF may have hundreds)."""
    document = pdfium.PdfDocument(data)
    try:
        for index in sorted(pages):
            objects = list(document[index].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]))
            if len(objects) != 1:
                continue
            grey = objects[0].get_bitmap(render=False).to_numpy().copy()
            # not np.isin: 35 ms on a 300 dpi letter page, twice per page, against 2 ms
            if grey.ndim == 2 and ((grey == 0) | (grey == 255)).all():
                yield index, grey
    finally:
        document.close()


@dataclass(frozen=True)
class _TiffFrames:
    """What the tags of each frame of a TIFF say (all empty for other files)."""

    schemes: list[int | None]  # the compression scheme (tag 259)
    orientations: list[int]  # the orientation (tag 274, numbered as EXIF's; 1 without)
    # Frames whose CCITT data img2pdf passes through as it is: Group 4 in one strip (a
    # scanner's), which stays. Group 3 or modified Huffman data, and Group 4 in several strips
    # (libtiff's default of about 8 KB a strip), img2pdf decodes and encodes as Group 4 itself.
    own_group4: set[int]


def _tiff_frames(source: Path) -> _TiffFrames:
    """The tags of each frame of the file, if it is a TIFF, read before any frame is decoded
    (Pillow drops the orientation tag as it turns the pixels upright)."""
    schemes: list[int | None] = []
    orientations, own_group4 = [], set()
    with open_image(source) as im:
        for index in range(getattr(im, "n_frames", 1) if im.format == "TIFF" else 0):
            im.seek(index)
            schemes.append(im.tag_v2.get(COMPRESSION))
            orientations.append(exif_orientation(im))
            strips = [len(im.tag_v2.get(tag) or ()) for tag in (STRIPOFFSETS, STRIPBYTECOUNTS)]
            if schemes[-1] == _GROUP4_COMPRESSION and strips == [1, 1]:
                own_group4.add(index)
    return _TiffFrames(schemes, orientations, own_group4)


def _drawn_as(pdf: pikepdf.Pdf, orientation: int) -> None:
    """Make the one page img2pdf drew as its image is stored show it as the EXIF (or TIFF)
    `orientation` 2-8 displays it: the page takes the displayed shape, and the image is drawn
    through the matrix that flips or turns it there. The image's data stays as it is."""
    page = pdf.pages[0]
    _, _, width, height = (float(v) for v in page.mediabox)  # the stored image, in points
    shown = (height, width) if orientation in _QUARTER_TURNS else (width, height)

    def displayed(x: float, y: float) -> tuple[float, float]:
        """Where a point of the stored image (points from its top-left) is shown, from the
        displayed page's bottom-left (PDF coordinates)."""
        across, down = {
            2: (width - x, y),
            3: (width - x, height - y),
            4: (x, height - y),
            5: (y, x),
            6: (height - y, x),  # a quarter turn clockwise: the stored top row is the right column
            7: (height - y, width - x),
            8: (y, width - x),
        }[orientation]
        return across, shown[1] - down

    # The image's unit square: (0, 0) is the stored image's bottom-left corner.
    e, f = displayed(0.0, height)
    right, up = displayed(width, height), displayed(0.0, 0.0)
    matrix = (right[0] - e, right[1] - f, up[0] - e, up[1] - f, e, f)
    (name,) = page.Resources.XObject.keys()
    page.Contents = pdf.make_stream(f"q {' '.join(f'{v:.4f}' for v in matrix)} cm {name} Do Q".encode())
    page.MediaBox = pikepdf.Array([0, 0, *shown])


@dataclass(frozen=True)
class _Img2pdfJob:
    inputs: list[str | bytes]  # what img2pdf is given
    pages: int  # how many pages the loader reads in the file
    dpi: tuple[float, float] | None = None  # to size them by (None: img2pdf's reading, the loader's)
    mirror: int | None = None  # a JPEG's mirroring EXIF orientation, for the page to draw (_drawn_as)


def _img2pdf_job(source: Path) -> _Img2pdfJob:
    """What img2pdf is given for the file: the file itself, or a Group 4 copy of a black-and-white
    PNG if smaller, or (where img2pdf would get the file wrong, or decode it anyway) its pages
    re-encoded. Only the first frame of a GIF or an MPO is a page."""
    with open_image(source) as im:  # refuses a decompression bomb before anything decodes it
        pages = getattr(im, "n_frames", 1) if im.format == "TIFF" else 1
        if _img2pdf_gets_right(im, pages) and _img2pdf_sizes_right(im, pages):
            orientation = exif_orientation(im)
            if im.format == "PNG":
                # Without a resolution, img2pdf sizes the page by pHYs's pixel aspect ratio if it
                # has one (2:1 at 192 x 96 dpi); the loader, like any viewer, reads square pixels.
                dpi = None if "dpi" in im.info else IMG2PDF_RESOLUTION
                group4 = _group4(im, below=source.stat().st_size)
                return _Img2pdfJob([group4 or os.fspath(source)], pages, dpi)
            if im.format in ("JPEG", "MPO"):
                dpi = _page_dpi(file_resolution(im))
                return _Img2pdfJob(
                    [os.fspath(source)], pages, dpi, orientation if orientation in _MIRRORS else None
                )
            if im.format == "JPEG2000":  # see _jp2_without_resolution; sized as img2pdf would
                x, y = _page_dpi(file_resolution(im))
                jp2 = _jp2_without_resolution(source.read_bytes())
                return _Img2pdfJob([jp2], pages, (float(round(x)), float(round(y))))
            if im.format in _IMG2PDF_EMBEDS and not _grey_of_few_bits(im, pages):
                return _Img2pdfJob([os.fspath(source)], pages)
    # Re-encoded here (see _encoded), a grey scan is stored as grey and a black-and-white one as
    # Group 4: img2pdf stored a WebP of a 300-dpi bilevel page as RGB, 2.5 times the file.
    return _Img2pdfJob(_frames_encoded(source), pages)


def _jp2_without_resolution(data: bytes) -> bytes:
    """A JP2 file's bytes without the resolution box of its header ("res " in "jp2h"), its
    codestream as it is. img2pdf reads the box's first box only if it is the capture resolution
    ("resc"), and loops forever on any other: a JP2 whose display resolution ("resd") comes
    first, or alone, never became a PDF. A raw codestream (.j2k) or an unusual box (of a 64-bit
    length, or to the file's end) stays as it is."""
    at = 0
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if length < 8:
            return data
        if kind == b"jp2h":
            inner = at + 8
            while inner + 8 <= at + length:
                size, box = struct.unpack(">I4s", data[inner : inner + 8])
                if size < 8:
                    return data
                if box == b"res ":
                    header = struct.pack(">I4s", length - size, kind)
                    return data[:at] + header + data[at + 8 : inner] + data[inner + size :]
                inner += size
            return data
        at += length
    return data


def _tiff_jpeg_frames(source: Path, tiff: _TiffFrames) -> dict[int, pikepdf.Pdf]:
    """For a TIFF whose every frame is a page (no preview, no transparency), by frame index, a page
    for each JPEG-compressed frame that shows its data joined into one JPEG file (see tiffjpeg), at
    the frame's resolution, turned as its orientation tag says (see _drawn_as), where the data
    decodes to the frame's pixels (see _same_pixels). The other frames go to img2pdf as before: a
    scanner's mixed batch, Group 4 pages of text and JPEG pages in colour, keeps both. Either
    would otherwise store the pixels with Flate, 2 to 3 times larger. `tiff`: its frames' tags
    (see _tiff_frames)."""
    if JPEG_COMPRESSION not in tiff.schemes:
        return {}
    pages = {}
    with open_image(source) as tags:  # the frames' tags, as stored: iter_frames turns them upright
        if not _img2pdf_gets_right(tags, len(tiff.schemes), turned_tiffs=True):
            return {}
        data = source.read_bytes()
        for index, (frame, resolution) in enumerate(iter_frames(source)):
            if tiff.schemes[index] != JPEG_COMPRESSION:
                continue
            tags.seek(index)
            jpeg = frame_jpeg(tags, data)
            orientation = tiff.orientations[index]
            stored = frame.transpose(_UNDO_ORIENTATION[orientation]) if orientation != 1 else frame
            rows_per_strip = int(tags.tag_v2.get(ROWSPERSTRIP, stored.height))
            if jpeg is not None and _same_pixels(jpeg, stored, rows_per_strip):
                dpi = _page_dpi(resolution)  # the displayed frame's: x and y of the stored one swapped
                stored_dpi = dpi[::-1] if orientation in _QUARTER_TURNS else dpi
                pages[index] = _jpeg_page(jpeg, stored_dpi, orientation)
    return pages


def _same_pixels(jpeg: bytes, frame: Image.Image, rows_per_strip: int) -> bool:
    """Whether the joined JPEG decodes to the frame's pixels: exactly, except that in the two rows
    either side of a boundary between strips a colour may differ by up to STRIP_EDGE_LEVELS. With
    subsampled chroma (YCbCr 4:2:0, libtiff's default) libjpeg interpolates a strip's edge row
    from the next strip's once they are one scan, and repeats the edge row when libtiff decodes
    the strips one by one: up to 12 levels apart, on those rows only, in tiffcp's files."""
    try:
        with Image.open(io.BytesIO(jpeg)) as decoded:
            if decoded.size != frame.size:
                return False
            joined = np.asarray(decoded.convert(frame.mode)).astype(np.int16)
    except (OSError, ValueError, SyntaxError):
        return False
    difference = np.abs(joined - np.asarray(frame).astype(np.int16))
    if difference.ndim == 3:
        difference = difference.max(axis=2)
    rows = np.flatnonzero(difference.max(axis=1))
    below_edge = (rows % rows_per_strip == 0) & (rows > 0)
    above_edge = (rows % rows_per_strip == rows_per_strip - 1) & (rows + 1 < frame.height)
    return bool((below_edge | above_edge).all() and difference.max() <= STRIP_EDGE_LEVELS)


def _frames_encoded(source: Path) -> list[bytes]:
    """Each page of the file as the loader reads it, re-encoded losslessly for img2pdf."""
    return [_encoded(frame, resolution) for frame, resolution in iter_frames(source)]


def _img2pdf_gets_right(im: Image.Image, pages: int, turned_tiffs: bool = False) -> bool:
    """Does img2pdf embed each page of this file as it displays on a white page? With
    `turned_tiffs`, a TIFF's orientation tag is left out of the question: the caller turns it."""
    for index in range(pages):
        im.seek(index)
        orientation = 1 if turned_tiffs and im.format == "TIFF" else exif_orientation(im)
        if im.format == "TIFF" and orientation != 1:
            return False  # Pillow turns the pixels upright; img2pdf would turn the page too
        if im.has_transparency_data:
            return False  # img2pdf adds a soft mask (wrongly for 1-4 bit palettes); we flatten instead
        if orientation in _MIRRORS and im.format not in ("JPEG", "MPO"):
            return False  # a mirror image: img2pdf expresses only turns, as /Rotate (see _drawn_as)
        if is_preview(im):
            return False  # img2pdf makes every frame a page; the loader reads no preview as one
    im.seek(0)
    return True


def _grey_of_few_bits(im: Image.Image, pages: int) -> bool:
    """Whether a frame of this TIFF is grey of 2 or 4 bits a sample, which img2pdf stores at 8 (a
    docbank page in 4 grey levels made a PDF 1.12 times its LZW TIFF); see _encoded."""
    few = False
    for index in range(pages if im.format == "TIFF" else 0):
        im.seek(index)
        few = few or (im.mode == "L" and max(im.tag_v2.get(BITSPERSAMPLE, (8,))) in (2, 4))
    im.seek(0)
    return few


def _page_dpi(resolution: tuple[float, float] | None) -> tuple[float, float]:
    """The resolution a page is sized by: the file's, unless it has none or an implausible one
    (a TIFF without resolution tags reads as 1 dpi), as the loader reads it; then 96 dpi."""
    return plausible_resolution(resolution) or IMG2PDF_RESOLUTION


def _img2pdf_sizes_right(im: Image.Image, pages: int) -> bool:
    """Does img2pdf size each page as the loader reads it? Not by an implausible resolution (a
    TIFF without resolution tags reads as 1 dpi: 640 px made 460 inches); a JPEG's page is sized
    by the caller (see _img2pdf_job)."""
    if im.format in ("JPEG", "MPO"):
        return True
    for index in range(pages):
        im.seek(index)
        stored = file_resolution(im)
        if stored and not plausible_resolution(stored):
            return False
    im.seek(0)
    return True


def _encoded(frame: Image.Image, resolution: tuple[float, float] | None) -> bytes:
    """One frame as a lossless file for img2pdf (Group 4 if black and white, else PNG, 16 bits a
    sample where the file has 16), any transparency flattened onto white as the loader reads it
    and a viewer shows it on the page."""
    dpi = _page_dpi(resolution)
    deep = None if frame.has_transparency_data else deep_samples(frame)
    if deep is not None:  # PNG keeps 16 bits, grey or colour; 8 where they are 8 bits widened
        deep = _widened_to_16_bits(deep)
        colour = deep.ndim == 3 and ("icc_profile" in frame.info or not _colourless(deep))
        samples = _narrowed_to_8_bits(deep)
        if colour and samples is None:
            return _colour_png_16_bits(deep, dpi, frame.info.get("icc_profile"))
        samples = deep if samples is None else samples
        profile = frame.info.get("icc_profile") if colour else None
        frame = Image.fromarray(
            np.ascontiguousarray(samples if colour or samples.ndim == 2 else samples[:, :, 0])
        )
        if profile:
            frame.info["icc_profile"] = profile  # Pillow writes it into the PNG, img2pdf into the PDF
    elif frame.mode == "P" and frame.has_transparency_data and (flat := _palette_on_white(frame)):
        frame = flat
    elif frame.has_transparency_data or frame.mode in ("I", "F") or frame.mode.startswith("I;"):
        frame = _as_loaded(frame)  # 32-bit and float PNG cannot hold
    elif frame.mode == "RGB" and "icc_profile" not in frame.info and _colourless(np.asarray(frame)):
        frame = frame.convert("L")  # a grey scan Pillow decodes as RGB (every WebP): one sample, not three
    if _is_black_and_white(frame):
        return _group4_bytes(frame, dpi)
    if frame.mode not in _PNG_MODES:
        frame = frame.convert("RGB")  # CMYK, YCbCr, LAB
    out = io.BytesIO()
    frame.save(out, format="PNG", dpi=dpi, **({"bits": bits} if (bits := _grey_bits(frame)) < 8 else {}))
    return out.getvalue()


def _grey_bits(frame: Image.Image) -> int:
    """The bits a grey frame's samples need: 2 if every sample is one of 0, 85, 170 and 255 (a
    2-bit scan, as the loader reads it), 4 if every one is a multiple of 17, else 8. PNG keeps the
    high bits of each sample at 2 or 4 bits, which are those levels exactly."""
    if frame.mode != "L":
        return 8
    used = [value for value, count in enumerate(frame.histogram()) if count]
    return next((bits for bits, step in ((2, 85), (4, 17)) if all(v % step == 0 for v in used)), 8)


def _colour_png_16_bits(samples: np.ndarray, dpi: tuple[float, float], icc_profile: bytes | None) -> bytes:
    """H x W x 3 16-bit RGB samples as a PNG at `dpi` with the ICC profile, if any: OpenCV's, as
    Pillow has no 16-bit colour mode, with the pHYs and iCCP chunks OpenCV does not write added
    after its header (img2pdf takes the resolution and the profile from them, as from Pillow's).
    Its IDAT chunks are of 1 MiB, OpenCV's largest: img2pdf joins them one by one, in time square
    to their number, 34 s for the 5,000 chunks of 8 KiB of a noisy A4 page at 300 dpi. zlib's
    level 3, not Pillow's 6: on such a page (12 bits in 16), 6 took 7.7 s to save 1 % (3: 2.4 s);
    on smooth ones 6 saves 3 to 7 %, in 0.3 to 0.8 s more."""
    options = [cv2.IMWRITE_PNG_COMPRESSION, 3, cv2.IMWRITE_PNG_ZLIBBUFFER_SIZE, 1 << 20]
    _, png = cv2.imencode(".png", np.ascontiguousarray(samples[:, :, ::-1]), options)
    per_metre = (round(value / 0.0254) for value in dpi)  # as Pillow writes a resolution
    chunks = [_png_chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1))]
    if icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc_profile)))
    end_of_header = 8 + 4 + 4 + 13 + 4  # the signature, then IHDR: length, type, data, CRC
    data = png.tobytes()
    return data[:end_of_header] + b"".join(chunks) + data[end_of_header:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _widened_to_16_bits(samples: np.ndarray) -> np.ndarray:
    """16-bit samples of `significant_bits` fewer than 16 (a 12-bit scan's 0..4095) scaled to the
    full range, as the loader reads them (4095 white), by repeating each sample's bits into the
    low bits freed (0xABC becomes 0xABCA): the file's samples are the high bits, kept exactly."""
    bits = significant_bits(samples)
    wide = samples.astype(np.uint16)
    return (wide << (16 - bits)) | (wide >> (2 * bits - 16))


def _narrowed_to_8_bits(samples: np.ndarray) -> np.ndarray | None:
    """16-bit samples that are 8-bit ones widened (each v = b * 257, as GIMP and ImageMagick's
    -depth 16 write an 8-bit image) as those 8 bits, which a PDF shows the same (v / 65535 =
    b / 255): stored at 16 bits, the page was 1.14 times the file. None if any sample is not."""
    high = samples >> 8
    if not np.array_equal(samples & 0xFF, high):
        return None
    return high.astype(np.uint8)


def _palette_on_white(frame: Image.Image) -> Image.Image | None:
    """A palette frame with transparent colours as the loader reads it (see _as_loaded), still a
    palette: each colour put over white as the loader puts a pixel of it, the pixels' indices
    kept, so that a 16-colour scan stays 4 bits a pixel (stored as the loader's 8-bit grey or RGB,
    it was 1.3 to 1.4 times the file). None if a pixel's index is past the palette's end."""
    palette = frame.palette
    colours = len(palette.tobytes()) // len(palette.mode)
    if not colours or frame.getextrema()[1] >= colours:
        return None
    every = Image.new("P", (colours, 1))
    every.putdata(range(colours))
    every.putpalette(palette.tobytes(), palette.mode)
    if "transparency" in frame.info:
        every.info["transparency"] = frame.info["transparency"]
    flat = frame.copy()
    flat.info.pop("transparency", None)
    flat.putpalette(frame_to_rgb(every).tobytes(), "RGB")
    return flat


def _as_loaded(frame: Image.Image) -> Image.Image:
    """The frame as the loader reads it: 8-bit, transparency over white; grey if it has no colour."""
    rgb = frame_to_rgb(frame)
    if _colourless(rgb):
        return Image.fromarray(np.ascontiguousarray(rgb[:, :, 0]))
    return Image.fromarray(rgb)


def _colourless(rgb: np.ndarray) -> bool:
    """Whether every pixel of an H x W x 3 array is grey (its three samples equal)."""
    return bool((rgb[:, :, 0] == rgb[:, :, 1]).all() and (rgb[:, :, 1] == rgb[:, :, 2]).all())


def _group4(im: Image.Image, below: int) -> bytes | None:
    """The image as it displays (an EXIF turn applied: the TIFF has no orientation of its own) as
    a Group 4 TIFF of the same size if it is black and white and that takes fewer than `below`
    bytes; else None."""
    upright, resolution = upright_frame(im)
    if not _is_black_and_white(upright):
        return None
    tiff = _group4_bytes(upright, _page_dpi(resolution))
    return tiff if len(tiff) < below else None


def _group4_bytes(im: Image.Image, dpi: tuple[float, float]) -> bytes:
    out = io.BytesIO()
    im.convert("L").convert("1", dither=Image.Dither.NONE).save(
        out, format="TIFF", compression="group4", dpi=dpi
    )
    return out.getvalue()


def _is_black_and_white(im: Image.Image) -> bool:
    """Every pixel pure black or pure white, and none transparent (mode 1, or grey or palette
    using only those two)."""
    if im.has_transparency_data:
        return False
    if im.mode == "1":
        return True
    if im.mode == "L":
        histogram = im.histogram()
        return histogram[0] + histogram[255] == sum(histogram)
    if im.mode == "P":
        palette = im.getpalette() or []
        used = im.getcolors(256) or []
        return all(tuple(palette[3 * index : 3 * index + 3]) in _BLACK_AND_WHITE for _, index in used)
    return False
