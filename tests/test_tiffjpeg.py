"""JPEG-compressed TIFFs wrapped in a PDF: their JPEG data passes through, joined into one JPEG per
frame, and poppler decodes it to exactly the TIFF's pixels; what cannot be joined is re-encoded
losslessly as before."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from ocrcli.imagepdf import STRIP_EDGE_LEVELS, _same_pixels, images_pdf
from ocrcli.tiffjpeg import frame_jpeg

RECEIPT = Path(__file__).resolve().parents[2] / "shared" / "data" / "sroie" / "img" / "000.jpg"


def _scan(mode: str, size: tuple[int, int] = (600, 900)) -> Image.Image:
    return Image.open(RECEIPT).convert(mode).resize(size)


def _jpeg_tiff(path: Path, kind: str) -> Path:
    """A JPEG-compressed TIFF as Pillow (libtiff) writes it: in strips, tables in JPEGTables."""
    if kind == "grey":
        _scan("L").save(path, compression="jpeg", quality=90, dpi=(300, 300))
    elif kind == "rgb":  # photometric RGB: the JPEG's components are R, G and B, not YCbCr
        _scan("RGB").save(path, compression="jpeg", quality=85, dpi=(200, 200))
    elif kind == "ycbcr":
        _scan("YCbCr").save(path, compression="jpeg", quality=85, dpi=(150, 150))
    elif kind == "two-frames":
        first, second = _scan("RGB"), _scan("L", (500, 700))
        first.save(path, compression="jpeg", save_all=True, append_images=[second], dpi=(240, 240))
    return path


def _one_strip_tiff(path: Path, jpeg: bytes, size: tuple[int, int]) -> Path:
    """A grey TIFF whose one strip is the given JPEG file, tables and all, written by hand."""
    width, height = size
    entries = [(256, width), (257, height), (258, 8), (259, 7), (262, 1), (273, 0), (277, 1), (278, height)]
    entries.append((279, len(jpeg)))
    data_offset = 8 + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, value in entries:
        value = data_offset if tag == 273 else value
        ifd += struct.pack("<HHII", tag, 4, 1, value)  # every value a LONG
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + jpeg)
    return path


def _poppler_images(pdf_path: Path, tmp_path: Path) -> list[np.ndarray]:
    """Every image of the PDF as poppler decodes it (pdfimages)."""
    subprocess.run(["pdfimages", "-png", str(pdf_path), str(tmp_path / "img")], check=True)
    return [np.asarray(Image.open(p)) for p in sorted(tmp_path.glob("img-*.png"))]


def _frames(path: Path) -> list[Image.Image]:
    frames = []
    with Image.open(path) as im:
        for index in range(getattr(im, "n_frames", 1)):
            im.seek(index)
            frames.append(im.copy())
    return frames


@pytest.mark.parametrize("kind", ["grey", "rgb", "ycbcr", "two-frames"])
def test_a_jpeg_tiff_keeps_its_jpeg_data_and_pixels_and_size(tmp_path: Path, kind: str) -> None:
    tiff = _jpeg_tiff(tmp_path / "scan.tif", kind)
    frames = _frames(tiff)
    assert len(Image.open(tiff).tag_v2[273]) > 1  # several strips, joined

    pdf = images_pdf([tiff])
    out = tmp_path / "scan.pdf"
    pdf.save(out)

    assert len(pdf.pages) == len(frames)
    for page, frame in zip(pdf.pages, frames, strict=True):
        (image,) = page.Resources.XObject.values()
        assert pikepdf.PdfImage(image).filters == ["/DCTDecode"]
        dpi = frame.info["dpi"][0]
        assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, *(n * 72 / dpi for n in frame.size)])
    decoded = _poppler_images(out, tmp_path)
    for pixels, frame in zip(decoded, frames, strict=True):
        expected = np.asarray(frame.convert("RGB" if frame.mode == "YCbCr" else frame.mode))
        assert np.array_equal(pixels, expected)
    # The bound for an image input is 10 %; the text layer comes on top of this.
    assert out.stat().st_size <= 1.02 * tiff.stat().st_size


def test_a_scanners_mixed_batch_keeps_its_jpeg_pages_and_its_group4_pages(tmp_path: Path) -> None:
    """A scanner's colour-detecting batch: Group 4 pages of text and JPEG pages in colour in one
    TIFF. Only a TIFF of JPEG frames alone was joined; this one went to img2pdf whole, which
    stored the JPEG pages' pixels with Flate (the zoo's batch of two of each: 1.48 times the file)."""
    from PIL import TiffImagePlugin

    text = Image.open(RECEIPT).convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    tiff = tmp_path / "batch.tif"
    with TiffImagePlugin.AppendingTiffWriter(str(tiff), True) as out:
        for frame, compression in (
            (text, "group4"),
            (_scan("RGB"), "jpeg"),
            (_scan("L", (400, 500)), "jpeg"),
        ):
            frame.save(out, format="TIFF", compression=compression, dpi=(200, 200))
            out.newFrame()
    frames = _frames(tiff)

    pdf = images_pdf([tiff])
    out_path = tmp_path / "batch.pdf"
    pdf.save(out_path)

    filters = [pikepdf.PdfImage(next(iter(page.Resources.XObject.values()))).filters for page in pdf.pages]
    assert filters == [["/CCITTFaxDecode"], ["/DCTDecode"], ["/DCTDecode"]]
    for page, frame in zip(pdf.pages, frames, strict=True):
        assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, *(n * 72 / 200 for n in frame.size)])
    for pixels, frame in zip(_poppler_images(out_path, tmp_path), frames, strict=True):
        expected = np.asarray(frame.convert("L" if frame.mode == "1" else frame.mode))
        assert np.array_equal(pixels if frame.mode != "1" else (pixels > 0) * 255, expected)
    assert out_path.stat().st_size <= 1.02 * tiff.stat().st_size


def test_a_single_strip_with_its_own_tables_passes_through_unchanged(tmp_path: Path) -> None:
    scan = _scan("L", (120, 200))
    buffer = io.BytesIO()
    scan.save(buffer, format="JPEG", quality=90)
    tiff = _one_strip_tiff(tmp_path / "one.tif", buffer.getvalue(), scan.size)

    with Image.open(tiff) as im:
        joined = frame_jpeg(im, tiff.read_bytes())
    assert joined is not None
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(joined))), np.asarray(Image.open(tiff)))


def test_a_progressive_jpeg_strip_is_stored_losslessly_instead(tmp_path: Path) -> None:
    scan = _scan("L", (120, 200))
    buffer = io.BytesIO()
    scan.save(buffer, format="JPEG", quality=90, progressive=True)
    tiff = _one_strip_tiff(tmp_path / "progressive.tif", buffer.getvalue(), scan.size)

    with Image.open(tiff) as im:
        assert frame_jpeg(im, tiff.read_bytes()) is None
    pdf = images_pdf([tiff])
    out = tmp_path / "progressive.pdf"
    pdf.save(out)
    (image,) = pdf.pages[0].Resources.XObject.values()
    assert pikepdf.PdfImage(image).filters != ["/DCTDecode"]
    (pixels,) = _poppler_images(out, tmp_path)
    assert np.array_equal(pixels, np.asarray(Image.open(tiff)))


def test_malformed_strips_give_none_not_an_exception(tmp_path: Path) -> None:
    """The strips' JPEG segments are parsed from the file: corrupt headers (lengths, markers,
    frame sizes) must leave the frame to the lossless fallback, never raise."""
    tiff = _jpeg_tiff(tmp_path / "scan.tif", "rgb")
    data = tiff.read_bytes()
    with Image.open(tiff) as im:
        assert frame_jpeg(im, data) is not None
        offsets = im.tag_v2[273]
        rng = np.random.default_rng(7)
        for _ in range(300):
            corrupt = bytearray(data)
            offset = int(rng.choice(offsets[:3]))
            for position in rng.integers(offset, offset + 40, size=int(rng.integers(1, 4))):
                corrupt[position] = int(rng.integers(0, 256))
            joined = frame_jpeg(im, bytes(corrupt))
            assert joined is None or joined.startswith(b"\xff\xd8")

    # A frame header cut short (3 bytes where 11 belong), with valid segments around it.
    scan = _scan("L", (120, 200))
    buffer = io.BytesIO()
    scan.save(buffer, format="JPEG", quality=90)
    jpeg = buffer.getvalue()
    start = jpeg.index(b"\xff\xc0")
    (length,) = struct.unpack(">H", jpeg[start + 2 : start + 4])
    short = jpeg[:start] + b"\xff\xc0\x00\x05\x08\x00\xc8" + jpeg[start + 2 + length :]
    cut = _one_strip_tiff(tmp_path / "short.tif", short, scan.size)
    with Image.open(cut) as im:
        assert frame_jpeg(im, cut.read_bytes()) is None
    # Sampling factors of 0 (an MCU of no size), and a TEM marker, which has no length, among the
    # headers: libjpeg reads past it differently, so the joined file could describe another frame.
    zero = bytearray(jpeg)
    zero[start + 2 + 2 + 6 + 1] = 0x00  # the one component's sampling factors
    tem = jpeg[:start] + b"\xff\x01" + jpeg[start:]
    for name, stream in (("zero", bytes(zero)), ("tem", tem)):
        odd = _one_strip_tiff(tmp_path / f"{name}.tif", stream, scan.size)
        with Image.open(odd) as im:
            assert frame_jpeg(im, odd.read_bytes()) is None


def _colour_strips_tiff(path: Path, rows_per_strip: int) -> tuple[Path, Image.Image]:
    """An RGB picture as a YCbCr 4:2:0 JPEG TIFF (libtiff's default for colour JPEG), written by
    hand: each strip a JPEG of its own rows, all with the same tables."""
    y, x = np.mgrid[0:100, 0:64]
    picture = np.stack([x * 4, y * 2, 60 + x + y + 30 * np.sin(x / 5)], axis=2).astype(np.uint8)  # smooth
    image = Image.fromarray(picture)
    strips = []
    for top in range(0, image.height, rows_per_strip):
        buffer = io.BytesIO()
        image.crop((0, top, image.width, min(top + rows_per_strip, image.height))).save(
            buffer, format="JPEG", quality=90, subsampling=2
        )
        strips.append(buffer.getvalue())
    arrays = {273: None, 279: [len(strip) for strip in strips], 258: [8, 8, 8]}
    tags = [(256, 4, [image.width]), (257, 4, [image.height]), (258, 3, arrays[258]), (259, 3, [7])]
    tags += [(262, 3, [6]), (273, 4, [0] * len(strips)), (277, 3, [3]), (278, 4, [rows_per_strip])]
    tags += [(279, 4, arrays[279]), (284, 3, [1]), (530, 3, [2, 2])]
    ifd_size = 2 + 12 * len(tags) + 4
    extra_at = 8 + ifd_size
    extra = b""
    offsets_at = {}
    for tag, kind, values in tags:
        size = (2 if kind == 3 else 4) * len(values)
        if size > 4:
            offsets_at[tag] = extra_at + len(extra)
            extra += b"\0" * size
    data_at = extra_at + len(extra)
    strip_offsets = list(np.cumsum([data_at] + [len(strip) for strip in strips[:-1]]))
    ifd, extra = struct.pack("<H", len(tags)), bytearray(extra)
    for tag, kind, values in tags:
        values = [int(v) for v in (strip_offsets if tag == 273 else values)]
        packed = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if tag in offsets_at:
            start = offsets_at[tag] - extra_at
            extra[start : start + len(packed)] = packed
            ifd += struct.pack("<HHII", tag, kind, len(values), offsets_at[tag])
        else:
            ifd += struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0")
    path.write_bytes(
        b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + bytes(extra) + b"".join(strips)
    )
    return path, image


def test_a_subsampled_colour_tiff_in_strips_keeps_its_jpeg_data(tmp_path: Path) -> None:
    """4:2:0 strips joined decode as libtiff decodes them but for the rows either side of a strip
    boundary, where libjpeg now interpolates chroma across it: accepted, and passed through."""
    tiff, _ = _colour_strips_tiff(tmp_path / "colour.tif", 32)
    with Image.open(tiff) as im:
        frame = im.convert("RGB")
        joined = frame_jpeg(im, tiff.read_bytes())
    assert joined is not None
    pdf = images_pdf([tiff])
    (image,) = pdf.pages[0].Resources.XObject.values()
    assert pikepdf.PdfImage(image).filters == ["/DCTDecode"]
    out = tmp_path / "colour.pdf"
    pdf.save(out)
    (pixels,) = _poppler_images(out, tmp_path)
    difference = np.abs(pixels.astype(int) - np.asarray(frame).astype(int)).max(axis=2)
    rows = set(np.flatnonzero(difference.max(axis=1)).tolist())
    assert rows <= {31, 32, 63, 64, 95, 96} and difference.max() <= STRIP_EDGE_LEVELS


def test_joined_pixels_may_differ_only_next_to_strip_boundaries() -> None:
    picture = np.full((48, 16, 3), 128, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")  # _same_pixels only decodes the file
    joined = buffer.getvalue()

    def frame_with(row: int, change: int) -> Image.Image:
        changed = picture.copy()
        changed[row, 3] = 128 + change
        return Image.fromarray(changed)

    assert _same_pixels(joined, Image.fromarray(picture), 16)
    assert _same_pixels(joined, frame_with(15, 12), 16)  # last row of the first strip
    assert _same_pixels(joined, frame_with(32, 12), 16)  # first row of the third
    assert not _same_pixels(joined, frame_with(8, 1), 16)  # inside a strip
    assert not _same_pixels(joined, frame_with(0, 1), 16)  # the top row is no boundary
    assert not _same_pixels(joined, frame_with(47, 1), 16)  # nor the bottom one
    assert not _same_pixels(joined, frame_with(16, STRIP_EDGE_LEVELS + 1), 16)


def test_an_icc_profile_goes_along_and_cmyk_goes_to_img2pdf_as_before(tmp_path: Path) -> None:
    """The TIFF's ICC profile (a tag of its own) is carried into the joined JPEG, so the image
    keeps its ICC-based colour; CMYK, which tiffjpeg does not join, is embedded by img2pdf as it
    was, DeviceCMYK (it had been converted to RGB)."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = tmp_path / "icc.tif"
    _scan("RGB").save(icc, compression="jpeg", icc_profile=profile, dpi=(200, 200))
    cmyk = tmp_path / "cmyk.tif"
    _scan("CMYK").save(cmyk, compression="jpeg", dpi=(200, 200))

    pdf = images_pdf([icc, cmyk])
    (icc_image,) = pdf.pages[0].Resources.XObject.values()
    assert pikepdf.PdfImage(icc_image).filters == ["/DCTDecode"]
    assert icc_image.ColorSpace[0] == "/ICCBased" and icc_image.ColorSpace[1].read_bytes() == profile
    (cmyk_image,) = pdf.pages[1].Resources.XObject.values()
    assert cmyk_image.ColorSpace == "/DeviceCMYK"


def test_a_large_icc_profile_is_split_across_app2_segments(tmp_path: Path) -> None:
    profile = bytes(range(256)) * 300  # 76,800 bytes: two segments (any bytes do for carrying)
    tiff = tmp_path / "big.tif"
    _scan("RGB").save(tiff, compression="jpeg", icc_profile=profile)
    with Image.open(tiff) as im:
        joined = frame_jpeg(im, tiff.read_bytes())
    assert joined is not None and joined.count(b"\xff\xe2") >= 2
    with Image.open(io.BytesIO(joined)) as decoded:
        assert decoded.info["icc_profile"] == profile
