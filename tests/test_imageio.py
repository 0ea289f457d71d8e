"""ocrcli.imageio: every pixel mode comes out as the colours the file shows; every bad input is a
one-line BadInputError naming the file."""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from common import DATA, colour_scan, raised_as_another_user, uncompressed_tiff
from PIL import Image

from ocrcli import imageio
from ocrcli.errors import EXIT_USAGE, BadInputError, UsageError
from ocrcli.imageio import SUPPORTED_SUFFIXES, PageImage, count_pages, iter_pages, load_pages, to_rgb
from ocrcli.imagepdf import images_pdf

TESS_IMG = DATA / "tess" / "img"


def load_one(path: Path, **kwargs: int) -> PageImage:
    pages = load_pages(path, **kwargs)
    assert len(pages) == 1
    page = pages[0]
    assert page.image.dtype == np.uint8
    assert page.image.ndim == 3 and page.image.shape[2] == 3
    assert page.image.flags.c_contiguous
    assert page.index == 0
    return page


def save(image: Image.Image, path: Path, **kwargs: object) -> Path:
    image.save(path, **kwargs)
    return path


def bad_input(path: Path, **kwargs: int) -> BadInputError:
    with pytest.raises(BadInputError) as info:
        load_pages(path, **kwargs)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message
    return info.value


# --- pixel modes ---------------------------------------------------------------------------------


def test_rgb_png_round_trips_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    page = load_one(save(Image.fromarray(pixels), tmp_path / "rgb.png"))
    np.testing.assert_array_equal(page.image, pixels)


def palette_image(size: tuple[int, int] = (8, 4)) -> Image.Image:
    im = Image.new("P", size, 0)
    im.putpalette([200, 30, 40, 10, 220, 30] + [0, 0, 0] * 254)
    for x in range(size[0] // 2, size[0]):
        for y in range(size[1]):
            im.putpixel((x, y), 1)
    return im


def test_palette_png_uses_palette_colours(tmp_path: Path) -> None:
    page = load_one(save(palette_image(), tmp_path / "palette.png"))
    assert page.image.shape == (4, 8, 3)
    assert tuple(page.image[0, 0]) == (200, 30, 40)
    assert tuple(page.image[3, 7]) == (10, 220, 30)


def test_palette_transparency_is_white(tmp_path: Path) -> None:
    page = load_one(save(palette_image(), tmp_path / "palette-t.png", transparency=0))
    assert tuple(page.image[0, 0]) == (255, 255, 255)
    assert tuple(page.image[3, 7]) == (10, 220, 30)


def test_gif_with_transparency(tmp_path: Path) -> None:
    page = load_one(save(palette_image(), tmp_path / "palette.gif", transparency=0))
    assert tuple(page.image[0, 0]) == (255, 255, 255)
    assert tuple(page.image[3, 7]) == (10, 220, 30)


def test_rgba_is_composited_over_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (3, 1))
    im.putpixel((0, 0), (255, 0, 0, 0))  # fully transparent red
    im.putpixel((1, 0), (0, 0, 255, 255))
    im.putpixel((2, 0), (0, 0, 0, 128))
    page = load_one(save(im, tmp_path / "rgba.png"))
    assert tuple(page.image[0, 0]) == (255, 255, 255)
    assert tuple(page.image[0, 1]) == (0, 0, 255)
    assert all(abs(int(v) - 127) <= 1 for v in page.image[0, 2])


def test_la_is_composited_over_white(tmp_path: Path) -> None:
    im = Image.new("LA", (2, 1))
    im.putpixel((0, 0), (0, 0))
    im.putpixel((1, 0), (40, 255))
    page = load_one(save(im, tmp_path / "la.png"))
    assert tuple(page.image[0, 0]) == (255, 255, 255)
    assert tuple(page.image[0, 1]) == (40, 40, 40)


def test_one_bit_tiff(tmp_path: Path) -> None:
    im = Image.new("1", (10, 6), 1)
    for x in range(5):
        im.putpixel((x, 2), 0)
    page = load_one(save(im, tmp_path / "bilevel.tif", compression="group4"))
    assert page.image.shape == (6, 10, 3)
    assert set(np.unique(page.image)) == {0, 255}
    assert tuple(page.image[2, 0]) == (0, 0, 0)
    assert tuple(page.image[0, 0]) == (255, 255, 255)


def test_16bit_png_with_12bit_range_is_not_black(tmp_path: Path) -> None:
    values = np.linspace(0, 4095, 64 * 8).astype(np.uint16).reshape(8, 64)
    page = load_one(save(Image.fromarray(values), tmp_path / "grey16.png"))
    grey = page.image[:, :, 0].astype(int)
    assert grey.max() >= 250 and grey.min() == 0
    assert np.all(np.diff(grey[0]) >= 0)  # still a gradient, not clipped to white
    assert np.array_equal(page.image[:, :, 0], page.image[:, :, 2])


def test_16bit_big_endian_tiff_full_range(tmp_path: Path) -> None:
    # Not Image.convert("I;16B"): that conversion itself clips at 255.
    im = Image.fromarray(np.array([[0, 32768, 65535]], dtype=">u2"))
    assert im.mode == "I;16B"
    page = load_one(save(im, tmp_path / "grey16b.tif"))
    assert list(page.image[0, :, 0]) == [0, 128, 255]


@pytest.mark.parametrize(
    "kind", ["12 bits, LZW", "12 bits, big-endian", "12 bits, alpha", "12 bits, second page", "16 bits"]
)
def test_a_colour_tiff_of_16_bit_samples_reads_at_their_bit_depth(tmp_path: Path, kind: str) -> None:
    """A colour TIFF of 16-bit samples (a scanner's 48-bit colour; a lab camera's 12 bits in
    16-bit samples, 0..4095) was read by the high byte of each sample, as Pillow decodes it: a
    12-bit one came out at 1/16 of its brightness, nearly black, and the OCR broke up its words
    (25 of phototest's 60 right; none with alpha, which came out nearly transparent). Its samples
    are now read at 16 bits and scaled by their bit depth, as a grey one's are: it reads as the
    8-bit page it was made from."""
    colour = colour_scan()
    bits = 16 if kind == "16 bits" else 12
    samples = np.rint(colour * ((1 << bits) - 1)).astype(np.uint16)
    path = tmp_path / "scan.tif"
    if "LZW" in kind:  # as libtiff writes it (OpenCV's): LZW with the horizontal predictor
        assert cv2.imwrite(str(path), samples[:, :, ::-1])
    elif "alpha" in kind:
        uncompressed_tiff(path, np.dstack([samples, np.full(samples.shape[:2], 4095, np.uint16)]))
    elif "second page" in kind:  # each page is read as its own frame
        assert cv2.imwritemulti(str(path), [samples[:, ::-1, ::-1], samples[:, :, ::-1]])
    else:
        uncompressed_tiff(path, samples, big_endian="big-endian" in kind)
    pages = load_pages(path)
    shown = pages[-1].image.astype(int)
    assert np.abs(shown - np.rint(colour * 255)).max() <= 1
    if "second page" in kind:
        assert np.abs(pages[0].image[:, ::-1].astype(int) - shown).max() == 0


def test_a_colour_tiff_of_16_bit_samples_reads_where_files_cannot_be_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its 16-bit samples are read again from the file mapped in memory; on a file system that
    cannot map files (FUSE with direct I/O) that failed the image, which Pillow alone reads."""
    colour = colour_scan()
    path = tmp_path / "scan.tif"
    uncompressed_tiff(path, np.rint(colour * 4095).astype(np.uint16))

    def cannot_map(*args: object, **kwargs: object) -> None:
        raise OSError(19, "No such device")  # what mmap says there

    monkeypatch.setattr(np, "memmap", cannot_map)
    assert np.abs(load_one(path).image.astype(int) - np.rint(colour * 255)).max() <= 1


def test_32bit_integer_and_float_tiffs(tmp_path: Path) -> None:
    ints = Image.fromarray(np.array([[0, 1 << 19, (1 << 20) - 1]], dtype=np.int32))
    assert ints.mode == "I"
    assert list(load_one(save(ints, tmp_path / "int32.tif")).image[0, :, 0]) == [0, 128, 255]
    floats = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert floats.mode == "F"
    assert list(load_one(save(floats, tmp_path / "float.tif")).image[0, :, 0]) == [0, 128, 255]


def test_a_tiff_of_unsigned_32_bit_samples_reads_at_their_bit_depth(tmp_path: Path) -> None:
    """Pillow decodes unsigned 32-bit samples (TIFF's default SampleFormat, ImageMagick's -depth 32
    grey) as signed: those of 2**31 and over, the page's paper, read negative, and the page was
    stretched from its least to its largest sample (a mean of 127 levels off; its PDF page too)."""
    eight = np.rint(colour_scan()[:, :, 0] * 255).astype(np.uint32)
    path = uncompressed_tiff(tmp_path / "deep.tif", eight * 0x01010101, bits=32)  # as -depth 32
    assert np.array_equal(load_one(path).image[:, :, 0], eight)
    pdf = images_pdf([path])
    (image,) = pdf.pages[0].Resources.XObject.values()
    assert np.array_equal(np.asarray(pikepdf.PdfImage(image).as_pil_image()), eight)


def test_cmyk_jpeg(tmp_path: Path) -> None:
    page = load_one(save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), tmp_path / "cmyk.jpg"))
    r, g, b = (int(v) for v in page.image[8, 8])
    assert r > 230 and g < 30 and b < 30


def test_lab_and_ycbcr_tiffs(tmp_path: Path) -> None:
    lab = load_one(save(Image.new("LAB", (4, 4), (128, 128, 128)), tmp_path / "lab.tif"))
    assert all(abs(int(v) - 119) <= 2 for v in lab.image[0, 0])  # L=50 neutral grey
    ycc = load_one(save(Image.new("YCbCr", (4, 4), (255, 128, 128)), tmp_path / "ycc.tif"))
    assert all(int(v) >= 250 for v in ycc.image[0, 0])


def test_exif_orientation_6_is_applied(tmp_path: Path) -> None:
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise
    page = load_one(save(stored, tmp_path / "rotated.jpg", exif=exif, quality=95))
    assert page.image.shape == (40, 20, 3)  # transposed vs the stored 20 x 40
    top, bottom = page.image[5, 10].astype(int), page.image[35, 10].astype(int)
    assert top[0] > 200 and top[2] < 60  # the stored left edge is now at the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_bmp_and_webp(tmp_path: Path) -> None:
    pixels = np.zeros((5, 7, 3), np.uint8)
    pixels[:, :3] = (10, 200, 30)
    for name, kwargs in (("bmp.bmp", {}), ("lossless.webp", {"lossless": True})):
        if name.endswith(".webp") and ".webp" not in SUPPORTED_SUFFIXES:
            continue
        page = load_one(save(Image.fromarray(pixels), tmp_path / name, **kwargs))
        np.testing.assert_array_equal(page.image, pixels)


# --- multi-page, laziness, page counts -----------------------------------------------------------


def three_page_tiff(path: Path) -> Path:
    frames = [Image.new("L", (30, 20), 50), Image.new("RGB", (10, 40), (1, 2, 3)), Image.new("1", (7, 9), 1)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    return path


def test_multi_page_tiff(tmp_path: Path) -> None:
    path = three_page_tiff(tmp_path / "three.tif")
    pages = load_pages(path)
    assert [p.index for p in pages] == [0, 1, 2]
    assert [p.image.shape for p in pages] == [(20, 30, 3), (40, 10, 3), (9, 7, 3)]
    assert tuple(pages[1].image[0, 0]) == (1, 2, 3)
    assert tuple(pages[2].image[0, 0]) == (255, 255, 255)
    assert count_pages(path) == 3


def test_iter_pages_is_lazy(tmp_path: Path) -> None:
    pages = iter_pages(three_page_tiff(tmp_path / "three.tif"))
    first = next(pages)
    assert first.index == 0 and first.image.shape == (20, 30, 3)
    pages.close()


def test_animated_gif_is_one_page(tmp_path: Path) -> None:
    frames = [Image.new("P", (6, 6), i) for i in range(3)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert count_pages(path) == 1
    assert len(load_pages(path)) == 1


def test_count_pages_single_and_missing(tmp_path: Path) -> None:
    assert count_pages(save(palette_image(), tmp_path / "one.png")) == 1
    with pytest.raises(BadInputError, match="not found"):
        count_pages(tmp_path / "missing.png")


# --- dpi -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dpi", "expected"),
    [
        ("a.png", (300, 300), 300.0),
        ("b.png", None, None),
        ("c.tif", (150, 150), 150.0),
        ("d.tif", None, None),
        ("e.jpg", (200, 200), 200.0),
        ("f.jpg", None, None),  # Pillow writes JFIF density 1:1, "no unit"
        ("g.png", (10, 10), None),  # implausible
        ("h.tif", (204, 98), 204.0),  # fax: read at the higher resolution, with square pixels
        # One axis implausible: unknown, as the PDF's page is then sized (it said 200 while the
        # page was placed at 96 dpi and --pdf's sidecar said 96).
        ("i.png", (200, 1), None),
    ],
)
def test_dpi(tmp_path: Path, name: str, dpi: tuple[int, int] | None, expected: float | None) -> None:
    kwargs = {"dpi": dpi} if dpi else {}
    page = load_one(save(Image.new("RGB", (8, 8), "white"), tmp_path / name, **kwargs))
    assert page.dpi == expected


@pytest.mark.parametrize(
    ("x_resolution", "unit", "expected"),
    [(None, None, None), (300, 2, 300.0), (300, None, 300.0), (120, 3, 304.8), (300, 1, None)],
)
def test_a_jpegs_exif_declares_its_resolution_or_none(
    tmp_path: Path, x_resolution: int | None, unit: int | None, expected: float | None
) -> None:
    """Pillow reports 72 dpi for a JPEG whose EXIF holds no resolution (a phone's, say), or a
    resolution without its unit (inches, says EXIF): the file declares none, or that one."""
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation: upright
    if x_resolution:
        exif[0x011A] = exif[0x011B] = x_resolution
    if unit:
        exif[0x0128] = unit
    page = load_one(save(Image.new("RGB", (8, 8), "white"), tmp_path / "photo.jpg", exif=exif))
    assert page.dpi == expected


@pytest.mark.parametrize("name", ["fax.png", "fax.jpg", "fax.tif"])
@pytest.mark.parametrize("orientation", [1, 6])
def test_non_square_pixels_are_read_square_at_the_higher_resolution(
    tmp_path: Path, name: str, orientation: int
) -> None:
    """Stored 40 x 10 px at 200 x 100 dpi, the page is 0.2 x 0.1 in: read as 40 x 20 px at 200 dpi.
    Turned a quarter by its orientation tag, the file's x resolution runs down the page."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = Image.new("L", (40, 10), 255)
    options = {"compression": "tiff_lzw"} if name.endswith(".tif") else {}
    page = load_one(save(stored, tmp_path / name, dpi=(200, 100), exif=exif, **options))
    assert page.dpi == 200.0
    assert page.image.shape[:2] == ((20, 40) if orientation == 1 else (40, 20))


def test_an_uncompressed_tiff_turned_a_quarter_is_refused_not_garbled(tmp_path: Path) -> None:
    """Pillow 13 decodes such a grey file into scrambled pixels (and drops the tag): say so instead."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = noise((60, 30)).convert("L")  # 60 x 30, displayed 30 x 60 (RGB ones Pillow gets right)
    path = save(stored, tmp_path / "raw.tif", exif=exif, compression="raw")
    assert "save it compressed" in bad_input(path).reason
    turned = save(stored, tmp_path / "lzw.tif", exif=exif, compression="tiff_lzw")
    assert load_one(turned).image.shape[:2] == (60, 30)


# --- bad inputs ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in bad_input(tmp_path / "nope.png").reason


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "scans.png"
    folder.mkdir()
    assert "directory" in bad_input(folder).reason


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()
    assert "empty" in bad_input(path).reason


def test_an_empty_image_and_an_empty_pdf_fail_for_one_reason(tmp_path: Path) -> None:
    """An empty image was "file is empty (0 bytes)", an empty PDF "empty file (0 bytes)": ocr
    scan's summary, which groups failures by reason, gave the one cause two rows."""
    from ocrcli.errors import BadInputError
    from ocrcli.pdfpages import open_pdf

    image, pdf = tmp_path / "empty.png", tmp_path / "empty.pdf"
    image.touch()
    pdf.touch()
    with pytest.raises(BadInputError) as raised:
        open_pdf(pdf)
    assert raised.value.reason == bad_input(image).reason == "file is empty (0 bytes)"


def test_text_named_png(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    assert "not an image" in bad_input(path).reason


def test_a_pdf_given_as_an_image_points_to_ocr_pdf() -> None:
    reason = bad_input(DATA / "pdfs" / "pikepdf_congress.pdf").reason
    assert "is a PDF" in reason and "ocr pdf" in reason


def noise(size: tuple[int, int] = (200, 200)) -> Image.Image:
    return Image.effect_noise(size, 60).convert("RGB")


@pytest.mark.parametrize("name", ["cut.jpg", "cut.png", "cut.tif"])
def test_truncated_files(tmp_path: Path, name: str) -> None:
    path = save(noise(), tmp_path / name)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    reason = bad_input(path).reason
    assert "truncated" in reason or "corrupt" in reason


def test_truncated_jpeg_says_truncated(tmp_path: Path) -> None:
    path = save(noise(), tmp_path / "half.jpg")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "truncated" in bad_input(path).reason


def test_header_only_jpeg(tmp_path: Path) -> None:
    path = save(noise(), tmp_path / "header.jpg")
    path.write_bytes(path.read_bytes()[:300])
    assert "truncated" in bad_input(path).reason


def test_truncated_second_tiff_page_names_the_page(tmp_path: Path) -> None:
    path = tmp_path / "two.tif"
    noise().save(path, save_all=True, append_images=[noise((300, 300))])
    data = path.read_bytes()
    with Image.open(path) as im:
        im.seek(1)
        start = im.tile[0].offset  # where the second page's pixel data begins
    path.write_bytes(data[: start + (len(data) - start) // 4])
    pages = iter_pages(path)
    assert next(pages).image.shape == (200, 200, 3)  # the intact first page still loads
    with pytest.raises(BadInputError) as info:
        next(pages)
    assert "page 2 of 2" in info.value.reason
    assert "truncated" in info.value.reason


def test_a_corrupt_group4_frame_is_an_error_not_a_garbled_page(tmp_path: Path) -> None:
    # libtiff reports the bad code words on stderr and decodes on; Pillow raised nothing, and the
    # page came out garbled (OCR found nothing; exit 0). Both readers of the file must refuse it.
    path = tmp_path / "fax.tif"
    frames = [noise((400, 300)).convert("1")] * 3
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="group4")
    data = bytearray(path.read_bytes())
    with Image.open(path) as im:
        im.seek(1)
        start, length = im.tag_v2[273][0], im.tag_v2[279][0]  # the second page's Group 4 data
    for k in range(start + length // 3, start + length // 3 + 40):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))
    pages = iter_pages(path)
    assert next(pages).image.shape == (300, 400, 3)  # the intact first page still loads
    with pytest.raises(BadInputError) as info:
        next(pages)
    assert info.value.reason.startswith("page 2 of 3: corrupt or unreadable image data (libtiff: Fax4Decode")
    with pytest.raises(BadInputError, match="libtiff: Fax4Decode"):
        images_pdf([path])


def _tiff_with_damaged_data(path: Path, compression: str) -> Path:
    """A 400 x 300 TIFF of noise in `compression`, with 40 bytes a third into its data inverted."""
    pixels = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, compression=compression)
    data = bytearray(path.read_bytes())
    with Image.open(path) as im:
        start, length = im.tag_v2[273][0], sum(im.tag_v2[279])
    for k in range(start + length // 3, start + length // 3 + 40):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def test_libtiff_says_why_a_frame_it_cannot_decode_fails(tmp_path: Path) -> None:
    # Where Pillow fails as well ("decoder error -2"), libtiff's report was collected and dropped:
    # the error said less than libtiff printed on stderr before its messages were caught.
    path = _tiff_with_damaged_data(tmp_path / "zip.tif", "tiff_adobe_deflate")
    with pytest.raises(BadInputError, match="libtiff: ZIPDecode"):
        load_pages(path)
    with pytest.raises(BadInputError, match="libtiff: ZIPDecode"):
        images_pdf([path])


def test_libtiffs_reason_does_not_name_pillows_stand_in_for_the_file(tmp_path: Path) -> None:
    """libtiff names the file it reads in some reports (LZW's), and Pillow opens every TIFF for it
    as "tempfile.tif": the error named a file the user never had beside the one it was about
    (found by an image-input bug hunt)."""
    path = _tiff_with_damaged_data(tmp_path / "lzw.tif", "tiff_lzw")
    for read in (load_pages, lambda p: images_pdf([p])):
        with pytest.raises(BadInputError) as info:
            read(path)
        assert "(libtiff: Using code not yet in table)" in str(info.value)
        assert "tempfile" not in str(info.value)


@pytest.mark.parametrize("compression", ["tiff_lzw", "jpeg", "group4"])
def test_a_tiff_whose_orientation_tag_has_no_valid_value_reads_upright(
    tmp_path: Path, compression: str
) -> None:
    """libtiff reports an Orientation of 0 (some scanners write it) or over 8 as an error, leaves
    the tag out and decodes on; that report was taken for damage, and the scan refused as
    "corrupt or unreadable image data". It reads as the same file without the tag does."""
    frame = Image.fromarray((colour_scan() * 255).astype(np.uint8)).convert(
        "1" if compression == "group4" else "RGB"
    )
    upright = tmp_path / "upright.tif"
    frame.save(upright, compression=compression, tiffinfo={274: 1}, dpi=(200, 200))
    expected = load_pages(upright)[0].image
    data = bytearray(upright.read_bytes())  # Pillow refuses to write such a value: set it by hand
    (ifd,) = struct.unpack_from("<I", data, 4)
    (entries,) = struct.unpack_from("<H", data, ifd)
    (entry,) = [
        ifd + 2 + 12 * k for k in range(entries) if struct.unpack_from("<H", data, ifd + 2 + 12 * k)[0] == 274
    ]
    for value in (0, 9):
        struct.pack_into("<H", data, entry + 8, value)  # a SHORT's value, in the entry itself
        path = tmp_path / f"orientation-{value}.tif"
        path.write_bytes(bytes(data))
        assert np.array_equal(load_pages(path)[0].image, expected), value
        assert len(images_pdf([path]).pages) == 1


def test_a_libtiff_that_cannot_be_loaded_leaves_decoding_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A library mapped into the process but gone from disk (Pillow upgraded under a running scan:
    # "/path/libtiff.so.6 (deleted)" in /proc/self/maps) made the first decode of the process, of
    # any image, fail as "corrupt or unreadable image data (... cannot open shared object file)".
    from ocrcli import libtiff

    gone = tmp_path / "libtiff-0.so.6 (deleted)"
    monkeypatch.setattr(libtiff, "_installed", [])
    monkeypatch.setattr(libtiff, "_loaded_libtiffs", lambda: [gone])
    path = save(noise(), tmp_path / "fine.png")
    assert load_pages(path)[0].image.shape == (200, 200, 3)
    assert images_pdf([path]).pages


def test_corrupt_png_data(tmp_path: Path) -> None:
    path = save(noise(), tmp_path / "garbled.png")
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 400] = bytes(390)  # wreck the zlib stream (the CRC no longer matches)
    path.write_bytes(bytes(data))
    reason = bad_input(path).reason
    assert "corrupt" in reason or "truncated" in reason


def test_png_data_damaged_in_a_few_bytes_is_an_error_not_a_blacked_out_page(tmp_path: Path) -> None:
    """8 bytes of a scan's image data inverted, 60 % into it: Pillow decodes it without an error,
    black below the damage (OCR found 38 of the page's 60 words, exit 0). The chunk's CRC says it
    is damaged."""
    path = tmp_path / "damaged.png"
    with Image.open(DATA / "tess" / "img" / "phototest.tif") as im:
        im.convert("L").save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    for k in range(start + length * 6 // 10, start + length * 6 // 10 + 8):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))
    with Image.open(path) as im:
        im.load()  # Pillow takes it
        assert (np.asarray(im)[-100:] == 0).mean() > 0.5
    with pytest.raises(BadInputError) as info:
        load_pages(path)
    assert info.value.reason == "corrupt or unreadable image data (its PNG IDAT chunk fails its checksum)"
    assert info.value.kind == "corrupt"
    with pytest.raises(BadInputError, match="IDAT chunk fails its checksum"):
        images_pdf([path])


def test_permission_error_from_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(noise((8, 8)), tmp_path / "locked.png")

    def refuse(*args: object, **kwargs: object) -> Image.Image:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", refuse)  # works when the tests run as root, too
    assert "permission denied" in bad_input(path).reason


def test_permission_denied(tmp_path: Path) -> None:
    path = save(noise((8, 8)), tmp_path / "locked.png")
    path.chmod(0)
    if os.geteuid() != 0:
        assert "permission denied" in bad_input(path).reason
        return
    raised = raised_as_another_user(tmp_path, lambda: load_pages(Path("locked.png")))
    assert raised == "BadInputError: locked.png: permission denied"


def png_with_claimed_size(path: Path, width: int, height: int) -> Path:
    """A real 1x1 PNG whose IHDR claims another size (with a valid CRC): a cheap bomb."""
    Image.new("1", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def test_decompression_bomb_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restore after the test
    monkeypatch.delenv(imageio.MAX_PIXELS_ENV, raising=False)
    path = png_with_claimed_size(tmp_path / "bomb.png", 100_000, 100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not fire first
        error = bad_input(path)
    assert "100000x100000" in error.reason
    assert "10,000 megapixels" in error.reason
    assert "limit of 200 megapixels" in error.reason
    assert "OCRCLI_MAX_PIXELS" in error.reason


def test_limit_from_argument_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(noise((40, 30)), tmp_path / "small.png")
    assert "40x30 = 1,200 pixels" in bad_input(path, max_pixels=1000).reason
    assert load_one(path, max_pixels=1200).image.shape == (30, 40, 3)
    monkeypatch.setenv(imageio.MAX_PIXELS_ENV, "1_000")
    assert "over the limit of 1,000 pixels" in bad_input(path).reason
    monkeypatch.setenv(imageio.MAX_PIXELS_ENV, "lots")
    with pytest.raises(UsageError) as bad_setting:  # exit 2, kind options, as a bad option
        load_pages(path)
    assert imageio.MAX_PIXELS_ENV in bad_setting.value.reason
    assert bad_setting.value.exit_code == EXIT_USAGE and bad_setting.value.kind == "options"


def test_pillow_guard_does_not_fire_below_our_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restore after the test
    monkeypatch.delenv(imageio.MAX_PIXELS_ENV, raising=False)
    # 90 megapixels: over Pillow's default warning threshold, under our 200 megapixel limit, so
    # decoding is attempted and fails on the 1x1 pixel data instead.
    bomb = png_with_claimed_size(tmp_path / "big.png", 10_000, 9_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reason = bad_input(bomb).reason
    assert "truncated" in reason or "corrupt" in reason


# --- to_rgb --------------------------------------------------------------------------------------


def test_to_rgb_uint8_rgb_is_returned_as_is() -> None:
    rgb = np.zeros((2, 3, 3), np.uint8)
    assert to_rgb(rgb) is rgb


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0, 200]], np.uint8), [0, 200]),
        (np.array([[[0], [200]]], np.uint8), [0, 200]),
        (np.array([[False, True]]), [0, 255]),
        (np.array([[0, 4095]], np.uint16), [0, 255]),
        (np.array([[0, 65535]], np.uint16), [0, 255]),
        (np.array([[0, 200]], np.int64), [0, 200]),
        (np.array([[0.0, 1.0]], np.float32), [0, 255]),
        (np.array([[0.0, 200.0]], np.float64), [0, 200]),
        (np.array([[-1.0, 3.0]], np.float64), [0, 255]),
        (np.array([[np.nan, 1.0]], np.float32), [0, 255]),
    ],
)
def test_to_rgb_grey(array: np.ndarray, expected: list[int]) -> None:
    rgb = to_rgb(array)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 2, 3) and rgb.flags.c_contiguous
    assert list(rgb[0, :, 0]) == expected
    assert np.array_equal(rgb[:, :, 0], rgb[:, :, 1])


def test_to_rgb_alpha_over_white() -> None:
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 128]]], np.uint8)
    rgb = to_rgb(rgba)
    assert rgb.tolist()[0][:2] == [[255, 255, 255], [0, 0, 255]]
    assert rgb[0, 2].tolist() == [127, 127, 127]
    grey_alpha = np.array([[[0, 0], [40, 255]]], np.uint8)
    assert to_rgb(grey_alpha).tolist() == [[[255, 255, 255], [40, 40, 40]]]


def test_to_rgb_keeps_channel_order_and_makes_contiguous() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    view = rgb[:, ::2]
    out = to_rgb(view)
    assert out.flags.c_contiguous and out.shape == (4, 2, 3)
    assert out[0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize("shape", [(4,), (4, 4, 5), (2, 2, 2, 3), (0, 4)])
def test_to_rgb_rejects_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shape"):
        to_rgb(np.zeros(shape, np.uint8))


def test_supported_suffixes() -> None:
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif"} <= SUPPORTED_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in SUPPORTED_SUFFIXES)


# --- real scans ----------------------------------------------------------------------------------


@pytest.mark.skipif(not (TESS_IMG / "phototest.tif").exists(), reason="shared data not present")
def test_real_bilevel_tiff() -> None:
    page = load_one(TESS_IMG / "phototest.tif")  # 1-bit, 640 x 480, 200 dpi
    assert page.image.shape == (480, 640, 3)
    assert page.dpi == 200.0
    assert set(np.unique(page.image)) == {0, 255}
    assert page.image.mean() > 200  # mostly white paper


@pytest.mark.skipif(not (TESS_IMG / "phototest-rotated-L.png").exists(), reason="shared data not present")
def test_real_palette_png_is_not_black() -> None:
    page = load_one(TESS_IMG / "phototest-rotated-L.png")  # palette PNG, pHYs 7874 ppm
    assert page.image.shape == (640, 480, 3)
    assert page.dpi == 200.0
    assert page.image.mean() > 200


@pytest.mark.parametrize("save_as", ["EPS", "ICO", "TGA", "PCX"])
def test_formats_the_readme_does_not_list_are_refused_whatever_the_name(tmp_path: Path, save_as: str) -> None:
    """Pillow opened a file as any format it knows, whatever its name: PostScript named .png was
    rendered by running Ghostscript on it (a `{ } loop` in it hung the run), and ICO, TGA, PCX and
    thirty more were read though the README lists none of them. Now they are refused, unread."""
    path = tmp_path / "scan.png"
    if save_as == "EPS":  # by hand: Pillow would need Ghostscript to save one (no loop: see above)
        path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n")
    else:
        Image.new("RGB", (64, 32), "white").save(path, format=save_as)
    error = bad_input(path)
    assert error.kind == "unsupported"
    assert error.reason == "not an image, or an image format that cannot be read"
