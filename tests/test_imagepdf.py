"""Images wrapped in a PDF: the pixels and the page size are kept, and black-and-white PNGs are
embedded as JBIG2 (or CCITT Group 4) when that is smaller."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from common import DATA, TESS, colour_scan, grey_scan, ocr, uncompressed_tiff
from PIL import Image

from ocrcli import imagepdf
from ocrcli.errors import BadInputError
from ocrcli.imageio import load_pages
from ocrcli.imagepdf import images_pdf

BLACK_AND_WHITE_PNG = DATA / "tess" / "img" / "phototest-rotated-L.png"  # a two-colour palette PNG, 200 dpi
RECEIPT = DATA / "sroie" / "img" / "000.jpg"
# How to store an upright image so that the EXIF/TIFF orientation tag displays it upright again.
STORED_FOR = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _only_image(pdf: pikepdf.Pdf) -> pikepdf.Stream:
    return _only_image_of(pdf, 0)


def _only_image_of(pdf: pikepdf.Pdf, page: int) -> pikepdf.Stream:
    (image,) = pdf.pages[page].Resources.XObject.values()
    return image


def _pixels(image: pikepdf.Stream) -> np.ndarray:
    return np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("L"))


def _mediabox(pdf: pikepdf.Pdf) -> list[float]:
    return [float(v) for v in pdf.pages[0].mediabox]


@pytest.mark.parametrize("dpi", [(200, 200), None], ids=["200dpi", "no-dpi"])
@pytest.mark.parametrize("jbig2", [True, False], ids=["jbig2", "group4"])
def test_a_black_and_white_png_becomes_jbig2_or_group4_with_the_same_pixels_and_page(
    tmp_path: Path, dpi, jbig2: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JBIG2 where it is smaller than Group 4 (it is, by about a third), Group 4 with
    JBIG2_FOR_BILEVEL off; both smaller than the PNG wrapped as it is."""
    monkeypatch.setattr(imagepdf, "JBIG2_FOR_BILEVEL", jbig2)
    png = tmp_path / "scan.png"
    Image.open(BLACK_AND_WHITE_PNG).save(png, **({"dpi": dpi} if dpi else {}))
    pdf = images_pdf([png])
    image = _only_image(pdf)
    assert pikepdf.PdfImage(image).filters == (["/JBIG2Decode"] if jbig2 else ["/CCITTFaxDecode"])
    assert np.array_equal(_pixels(image), np.asarray(Image.open(png).convert("L")))
    assert np.array_equal(_pdfium_pixels(pdf), np.asarray(Image.open(png).convert("L")))
    as_is = pikepdf.open(io.BytesIO(img2pdf.convert(str(png))))
    assert _mediabox(pdf) == _mediabox(as_is)  # the same physical size as the PNG wrapped as it is
    assert len(image.read_raw_bytes()) < (0.5 if jbig2 else 0.75) * len(_only_image(as_is).read_raw_bytes())


def test_a_tiffs_own_group4_data_stays_and_other_bilevel_tiffs_become_jbig2(tmp_path: Path) -> None:
    """img2pdf passes through Group 4 data in one strip only: Group 3, and Group 4 in several strips
    (libtiff's default), it decodes and encodes as Group 4 itself, and that Group 4 was kept,
    where JBIG2 is about 30 % smaller (eurotext's PDF was 1.12 times its multi-strip file)."""
    bilevel = Image.open(BLACK_AND_WHITE_PNG).convert("1")
    cases = [("group4", True, {}), ("group3", False, {}), ("group4", False, {"strip_size": 1024})]
    cases += [("raw", False, {}), ("tiff_lzw", False, {})]
    for index, (compression, kept, options) in enumerate(cases):
        path = tmp_path / f"{index}-{compression}.tif"
        bilevel.save(path, compression=compression, dpi=(200, 200), **options)
        assert (len(Image.open(path).tag_v2[273]) > 1) == bool(options), compression
        pdf = images_pdf([path])
        image = _only_image(pdf)
        if kept:
            assert pikepdf.PdfImage(image).filters == ["/CCITTFaxDecode"], compression
        else:
            assert pikepdf.PdfImage(image).filters == ["/JBIG2Decode"], compression
        assert np.array_equal(_pixels(image), np.asarray(bilevel.convert("L"))), compression
    group4 = Image.open(tmp_path / "0-group4.tif")
    offset, length = group4.tag_v2[273][0], group4.tag_v2[279][0]
    own = (tmp_path / "0-group4.tif").read_bytes()[offset : offset + length]
    pdf = images_pdf([tmp_path / "0-group4.tif"])
    assert _only_image(pdf).read_raw_bytes() == own  # the file's own bytes


def test_a_group4_tiff_turned_by_its_orientation_tag_becomes_jbig2(tmp_path: Path) -> None:
    """Such a TIFF is re-encoded here as it displays (img2pdf would ignore the tag), so its frame is
    no longer the scanner's own data and goes to JBIG2 like any other re-encoded one; it was kept
    as Group 4 (found by a review helper)."""
    bilevel = Image.open(BLACK_AND_WHITE_PNG).convert("1")
    path = tmp_path / "turned.tif"
    bilevel.save(path, compression="group4", dpi=(200, 200), tiffinfo={274: 3})  # stored upside down
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert pikepdf.PdfImage(image).filters == ["/JBIG2Decode"]
    assert np.array_equal(_pixels(image), np.asarray(bilevel.rotate(180).convert("L")))


def test_multi_page_bilevel_tiff_frames_become_jbig2_each_but_not_past_the_pixel_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each frame of an LZW bilevel TIFF is re-encoded on its own (one page's samples in memory at
    a time); a frame over JBIG2_MAX_PIXELS stays Group 4 (the encoder holds 15 bytes a pixel)."""
    page = Image.open(BLACK_AND_WHITE_PNG).convert("1")
    small = page.crop((0, 0, page.width // 2, page.height // 2))
    path = tmp_path / "two.tif"
    page.save(path, compression="tiff_lzw", save_all=True, append_images=[small], dpi=(200, 200))
    monkeypatch.setattr(imagepdf, "JBIG2_MAX_PIXELS", small.width * small.height)
    pdf = images_pdf([path])
    images = [next(iter(p.Resources.XObject.values())) for p in pdf.pages]
    assert [pikepdf.PdfImage(image).filters for image in images] == [["/CCITTFaxDecode"], ["/JBIG2Decode"]]
    for image, frame in zip(images, (page, small), strict=True):
        assert np.array_equal(_pixels(image), np.asarray(frame.convert("L")))


def test_only_pages_pdfium_decodes_to_black_and_white_are_taken_for_jbig2() -> None:
    """_pdfium_samples yields the samples of a page whose image decodes to 0 and 255 only (a
    Group 4 page), exactly as pdfium decodes them, and not those of a grey page that has both."""
    grey = Image.fromarray((grey_scan() * 255).round().astype(np.uint8))
    bilevel = Image.open(BLACK_AND_WHITE_PNG).convert("1")
    sources = []
    for im, kind in ((grey, "PNG"), (bilevel, "TIFF")):
        out = io.BytesIO()
        im.save(out, format=kind, **({"compression": "group4"} if kind == "TIFF" else {}))
        sources.append(out.getvalue())
    samples = dict(imagepdf._pdfium_samples(img2pdf.convert(sources), {0, 1}))
    assert set(samples) == {1}
    assert np.array_equal(samples[1], np.asarray(bilevel.convert("L")))
    assert 0 < np.count_nonzero(samples[1] == 0) < samples[1].size
    assert len(np.unique(np.asarray(grey))) > 2  # the grey page has both, and other levels


def _pdfium_pixels(pdf: pikepdf.Pdf) -> np.ndarray:
    """The page's one image as pdfium decodes it (not rendered)."""
    out = io.BytesIO()
    pdf.save(out)
    document = pdfium.PdfDocument(out.getvalue())
    try:
        (image,) = document[0].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE])
        return image.get_bitmap(render=False).to_numpy().copy()
    finally:
        document.close()


def test_pngs_group4_would_not_suit_are_embedded_as_they_are(tmp_path: Path) -> None:
    bilevel = np.asarray(Image.open(BLACK_AND_WHITE_PNG).convert("L"))
    grey = bilevel.copy()
    grey[:8] = 128  # one grey band: no longer black and white
    cases = {
        "grey.png": (Image.fromarray(grey), {"dpi": (200, 200)}),
        "noise.png": (
            Image.fromarray(np.random.default_rng(0).random((300, 300)) > 0.5),
            {"dpi": (300, 300)},
        ),
    }
    for name, (im, options) in cases.items():
        path = tmp_path / name
        im.save(path, **options)
        pdf = images_pdf([path])
        image = _only_image(pdf)
        assert pikepdf.PdfImage(image).filters == ["/FlateDecode"], name
        assert np.array_equal(_pixels(image), np.asarray(im.convert("L"))), name


@pytest.mark.parametrize(
    ("name", "orientation"),
    [("receipt.tif", 6), ("bilevel.tif", 6), ("receipt.tif", 3), ("mirrored.png", 2), ("transposed.png", 5)],
)
def test_an_oriented_image_becomes_a_page_as_it_displays(tmp_path: Path, name: str, orientation: int) -> None:
    """Pillow turns a TIFF's pixels upright as it decodes them, so img2pdf turned the page a second
    time (and garbled a Group 4 one); a mirror image cannot be expressed as /Rotate at all."""
    if name == "bilevel.tif":
        upright = Image.open(BLACK_AND_WHITE_PNG).convert("1")
        options = {"compression": "group4"}
    else:
        upright = Image.open(RECEIPT).convert("RGB")
        options = {"compression": "tiff_lzw"} if name.endswith(".tif") else {}
    path = _stored_for(upright, orientation, tmp_path / name, **options)
    (page,) = load_pages(path)  # what the OCR reads: upright
    expected = np.asarray(Image.fromarray(page.image).convert("L"))
    assert expected.shape == (upright.height, upright.width)
    pdf = images_pdf([path])
    assert int(pdf.pages[0].obj.get("/Rotate", 0)) == 0
    assert np.array_equal(_pixels(_only_image(pdf)), expected)  # upright, losslessly
    assert _mediabox(pdf) == pytest.approx([0, 0, upright.width * 72 / 150, upright.height * 72 / 150])


def _stored_for(upright: Image.Image, orientation: int, path: Path, **options) -> Path:
    """`upright` saved at 150 dpi as stored under an EXIF orientation that displays it upright."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    upright.transpose(STORED_FOR[orientation]).save(path, exif=exif, dpi=(150, 150), **options)
    return path


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_black_and_white_png_turned_by_exif_becomes_jbig2_upright(tmp_path: Path, orientation: int) -> None:
    """Only an upright black-and-white PNG was re-encoded: a turned one went to img2pdf as it is,
    1-bit Flate under /Rotate (phototest turned by EXIF 6: a PDF 1.34 times the file, text layer
    included). Its upright pixels are now encoded, the page shown as it displays, at its size."""
    upright = Image.open(BLACK_AND_WHITE_PNG).convert("1")
    path = _stored_for(upright, orientation, tmp_path / "turned.png")
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert pikepdf.PdfImage(image).filters == ["/JBIG2Decode"]
    assert int(pdf.pages[0].obj.get("/Rotate", 0)) == 0
    assert np.array_equal(_pixels(image), np.asarray(upright.convert("L")))
    assert np.array_equal(_pixels(image), np.asarray(Image.fromarray(load_pages(path)[0].image).convert("L")))
    assert _mediabox(pdf) == pytest.approx([0, 0, upright.width * 72 / 150, upright.height * 72 / 150])
    assert len(image.read_raw_bytes()) < 0.75 * path.stat().st_size


@pytest.mark.parametrize("orientation", [2, 4, 5, 7])
def test_a_mirrored_jpeg_keeps_its_bytes_and_the_page_shows_it_as_it_displays(
    tmp_path: Path, orientation: int
) -> None:
    """A JPEG whose EXIF orientation mirrors it was re-encoded losslessly, at 1.4-2.6 times the
    file's size; its bytes now pass through and the page draws the image mirrored."""
    upright = Image.open(RECEIPT).convert("RGB")
    path = _stored_for(upright, orientation, tmp_path / "photo.jpg", quality=95)
    (page,) = load_pages(path)  # what the OCR reads: upright
    assert page.image.shape[:2] == (upright.height, upright.width)
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert image.read_raw_bytes() == path.read_bytes()
    assert _mediabox(pdf) == pytest.approx(
        [0, 0, upright.width * 72 / 150, upright.height * 72 / 150], abs=0.01
    )
    _assert_page_shows(pdf, 0, page.image, tmp_path)


def _assert_page_shows(pdf: pikepdf.Pdf, index: int, upright: np.ndarray, tmp_path: Path) -> None:
    """Page `index` of the PDF, rendered by pdfium at 150 dpi, shows the picture `upright` (RGB)."""
    out = tmp_path / "shown.pdf"
    pdf.save(out)
    shown = pdfium.PdfDocument(out)[index].render(scale=150 / 72).to_pil().convert("L")
    height, width = upright.shape[:2]
    assert abs(shown.width - width) <= 1 and abs(shown.height - height) <= 1  # rounding
    shown = shown.crop((0, 0, width, height))
    difference = np.abs(np.asarray(shown, dtype=np.int16) - np.asarray(Image.fromarray(upright).convert("L")))
    # The same picture, resampling at its edges apart (measured mean 4.9; its mirror image 14.3,
    # upside down 17.8).
    assert np.median(difference) == 0 and difference.mean() < 8


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
def test_a_jpeg_tiff_with_an_orientation_tag_keeps_its_jpeg_data(tmp_path: Path, orientation: int) -> None:
    """Its pixels were turned upright and stored with Flate, 1.7-1.8 times the file (the image
    zoo's: 2.0-2.3 times); its JPEG data now passes through, and the page draws it turned or
    mirrored as it displays, also after the Group 4 page of a scanner's mixed batch."""
    from PIL import TiffImagePlugin

    upright = Image.open(RECEIPT).convert("RGB")
    alone = _stored_for(upright, orientation, tmp_path / "scan.tif", compression="jpeg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = orientation
    batch = tmp_path / "batch.tif"
    with TiffImagePlugin.AppendingTiffWriter(str(batch), True) as tiff:
        text = Image.open(BLACK_AND_WHITE_PNG).convert("1")
        text.save(tiff, format="TIFF", compression="group4", dpi=(150, 150))
        tiff.newFrame()
        upright.transpose(STORED_FOR[orientation]).save(
            tiff, format="TIFF", compression="jpeg", quality=90, dpi=(150, 150), exif=exif
        )
        tiff.newFrame()
    for source, index in ((alone, 0), (batch, 1)):
        pdf = images_pdf([source])
        image = _only_image_of(pdf, index)
        assert pikepdf.PdfImage(image).filters == ["/DCTDecode"]
        assert len(image.read_raw_bytes()) <= 1.02 * alone.stat().st_size
        page = pdf.pages[index]
        assert int(page.obj.get("/Rotate", 0)) == 0
        assert [float(v) for v in page.mediabox] == pytest.approx(
            [0, 0, upright.width * 72 / 150, upright.height * 72 / 150], abs=0.01
        )
        _assert_page_shows(pdf, index, load_pages(source)[index].image, tmp_path)


def test_pixels_twice_as_tall_as_wide_make_a_page_the_ocr_reads_at_that_shape(tmp_path: Path) -> None:
    """A fax at 200 x 98 dpi: the page is as tall as the paper, and the loader reads it with square
    pixels at 200 dpi, so sidecar boxes (pixels at the page's dpi) land on the page's words."""
    upright = Image.open(BLACK_AND_WHITE_PNG).convert("L")
    fax = upright.resize((upright.width, round(upright.height * 98 / 200))).point(lambda v: 255 * (v > 127))
    path = tmp_path / "fax.tif"
    fax.convert("1").save(path, compression="group4", dpi=(200, 98))
    (page,) = load_pages(path)
    assert page.dpi == 200 and page.image.shape[:2] == (round(fax.height * 200 / 98), fax.width)
    pdf = images_pdf([path])
    _, _, width_pt, height_pt = _mediabox(pdf)
    assert abs(width_pt - page.image.shape[1] * 72 / 200) < 0.5
    assert abs(height_pt - page.image.shape[0] * 72 / 200) < 0.5


def test_a_transparent_colour_in_a_low_bit_palette_still_shows_the_scan(tmp_path: Path) -> None:
    """img2pdf's soft mask for a 1-bit palette with a transparent white hid the whole page."""
    scan = np.asarray(Image.open(BLACK_AND_WHITE_PNG).convert("L"))
    palette = Image.fromarray((scan // 255).astype(np.uint8), "P")
    palette.putpalette([0, 0, 0, 255, 255, 255])
    path = tmp_path / "transparent-white.png"
    palette.save(path, dpi=(200, 200), transparency=1, bits=1)
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert np.array_equal(_pixels(image), scan)  # white over white: the scan itself
    assert "/SMask" not in image


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_a_palette_with_transparent_colours_stays_a_palette_flattened_onto_white(
    tmp_path: Path, suffix: str
) -> None:
    """Each transparent colour of the palette is put over white as the loader puts its pixels (a
    half-transparent one too), the pixels' indices kept: a 16-colour scan stays 4 bits a pixel. It
    was stored as the loader's 8-bit grey or RGB, 1.26 (GIF) to 1.44 (4-bit PNG) times the file."""
    scan = Image.open(RECEIPT).quantize(16)
    background = scan.getpixel((0, 0))
    path = tmp_path / f"transparent{suffix}"
    if suffix == ".png":
        alpha = [255] * 16
        alpha[background], alpha[(background + 1) % 16] = 0, 128
        scan.save(path, dpi=(150, 150), transparency=bytes(alpha))
    else:
        scan.save(path, transparency=background)
    pdf = images_pdf([path])
    image = _only_image(pdf)
    space = image.ColorSpace
    assert isinstance(space, pikepdf.Array) and space[0] == pikepdf.Name.Indexed, space
    assert int(image.BitsPerComponent) == 4 and "/SMask" not in image
    shown = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("RGB"))
    assert np.array_equal(shown, load_pages(path)[0].image)  # as the OCR reads it
    assert len(image.read_raw_bytes()) <= path.stat().st_size


def test_an_animated_gif_is_one_page_and_files_img2pdf_refuses_keep_their_size(tmp_path: Path) -> None:
    receipt = Image.open(RECEIPT)
    gif = tmp_path / "anim.gif"
    receipt.quantize(64).save(gif, save_all=True, append_images=[receipt.quantize(64).rotate(180)])
    deep = tmp_path / "grey16.tif"  # img2pdf refuses 16-bit TIFFs
    Image.fromarray(np.asarray(receipt.convert("L")).astype(np.uint16) * 257).save(deep, dpi=(150, 150))
    pdf = images_pdf([RECEIPT, gif, deep])
    assert len(pdf.pages) == 3  # as many as the loader reads: the GIF's first frame only
    first = pdf.pages[0].Resources.XObject
    assert [pikepdf.PdfImage(im).filters for im in first.values()] == [["/DCTDecode"]]  # still as it was
    for index, page in enumerate(pdf.pages):
        dpi = 150 if index != 1 else 96  # the GIF has no resolution: img2pdf's 96
        width_pt = float(page.mediabox[2]) - float(page.mediabox[0])
        assert abs(width_pt - receipt.width * 72 / dpi) < 0.5, index
    image = _only_image_of(pdf, 2)
    assert int(image.BitsPerComponent) == 8  # its 16-bit samples are 8 bits widened (* 257): those 8


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG's chunks as (type, data) after its 8-byte signature."""
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def _png_of(chunks: list[tuple[bytes, bytes]], lengths: dict[bytes, int] | None = None) -> bytes:
    """A PNG of these chunks, each with its right CRC and its length, or the one `lengths` gives."""
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", (lengths or {}).get(kind, len(data))) + kind + data
        + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )  # fmt: skip


def _tiff_tag_set(data: bytes, tag: int, count: int | None = None, value: int | None = None) -> bytes:
    """A little-endian TIFF with its first IFD's entry for `tag` given another count or value."""
    data = bytearray(data)
    (ifd,) = struct.unpack("<I", data[4:8])
    (entries,) = struct.unpack("<H", data[ifd : ifd + 2])
    for entry in range(ifd + 2, ifd + 2 + 12 * entries, 12):
        if struct.unpack("<H", data[entry : entry + 2])[0] == tag:
            if count is not None:
                data[entry + 4 : entry + 8] = struct.pack("<I", count)
            if value is not None:
                data[entry + 8 : entry + 10] = struct.pack("<H", value)
            return bytes(data)
    raise AssertionError(f"no tag {tag}")


def _damaged_images(folder: Path) -> dict[str, Path]:
    """Images damaged as mutating real ones showed up (each found by a fuzzing run, 272 mutants)."""
    buffer = io.BytesIO()
    Image.open(RECEIPT).convert("L").resize((60, 40)).save(buffer, "PNG")
    chunks = _png_chunks(buffer.getvalue())
    (folder / "idat-of-length-0.png").write_bytes(_png_of(chunks, {b"IDAT": 0}))
    buffer = io.BytesIO()
    Image.open(RECEIPT).convert("P").resize((60, 40)).save(buffer, "PNG")
    no_palette = [(kind, data) for kind, data in _png_chunks(buffer.getvalue()) if kind != b"PLTE"]
    (folder / "palette-png-without-palette.png").write_bytes(_png_of(no_palette))
    buffer = io.BytesIO()
    Image.open(RECEIPT).resize((60, 40)).save(buffer, "TIFF")
    (folder / "nine-samples.tif").write_bytes(_tiff_tag_set(buffer.getvalue(), 277, value=9))
    return {path.name: path for path in folder.iterdir()}


@pytest.mark.parametrize("pdf", [False, True], ids=["json", "pdf"])
def test_damaged_images_are_one_line_errors_naming_them_with_pdf_too(tmp_path: Path, pdf: bool) -> None:
    """With --pdf, a PNG whose chunk Pillow could not parse (an IDAT of length 0: SyntaxError) or a
    palette PNG without its palette (AssertionError) ended in "unexpected ... please report this",
    exit 1, naming no file: the PDF was made before the loader read the image, and caught only
    OSError. A TIFF of 9 samples per pixel also had Pillow's log line "More samples per pixel than
    can be decoded: 9" above the error, with or without --pdf."""
    for name, image in _damaged_images(tmp_path).items():
        output = ["--pdf", tmp_path / f"{name}.pdf"] if pdf else ["--json", tmp_path / f"{name}.json"]
        result = ocr("image", image, *output)
        assert (result.returncode, len(result.stderr.splitlines())) == (3, 1), (name, result.stderr)
        assert result.stderr.startswith(f"ocr: error: {image}: "), result.stderr
        assert not (tmp_path / f"{name}.pdf").exists()


def test_pillows_warnings_stay_off_stderr_when_an_image_becomes_a_pdf(tmp_path: Path) -> None:
    """A TIFF whose resolution tags claim more data than the file holds reads (the tags are
    skipped); making its PDF, Pillow's "UserWarning: Tag data larger than file. Skipping tag 282"
    printed four lines with a library path on stderr, where reading it alone printed none."""
    buffer = io.BytesIO()
    Image.open(RECEIPT).resize((600, 400)).save(buffer, "TIFF", dpi=(150, 150))
    tiff = tmp_path / "resolution-count-garbled.tif"
    tiff.write_bytes(_tiff_tag_set(_tiff_tag_set(buffer.getvalue(), 282, count=2**24), 283, count=2**24))
    result = ocr("image", tiff, "--pdf", tmp_path / "out.pdf")
    assert (result.returncode, result.stderr) == (0, "")
    assert len(pikepdf.open(tmp_path / "out.pdf").pages) == 1


def test_img2pdf_says_nothing_on_stderr(tmp_path: Path) -> None:
    """Its log lines ("Invalid rotation (0)", "Image contains an alpha channel") went to stderr
    unprefixed, even under `ocr scan --quiet`. A subprocess: pytest's own log capture hides them."""
    exif = Image.Exif()
    exif[0x0112] = 0  # scanners write 0
    jpeg = tmp_path / "o0.jpg"
    Image.open(RECEIPT).save(jpeg, exif=exif, dpi=(150, 150))
    rgba = tmp_path / "alpha.png"
    Image.open(RECEIPT).convert("RGBA").save(rgba)
    code = (
        "from pathlib import Path; from ocrcli.imagepdf import images_pdf; "
        f"images_pdf([Path({str(jpeg)!r}), Path({str(rgba)!r})])"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stderr == ""


def test_only_the_turned_page_of_a_multi_page_tiff_is_turned(tmp_path: Path) -> None:
    """Page 2 alone carries orientation 6: it was turned twice (only page 1 was looked at)."""
    from PIL import TiffImagePlugin

    receipt = Image.open(RECEIPT).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "two.tif"
    with TiffImagePlugin.AppendingTiffWriter(str(path), True) as tiff:
        receipt.save(tiff, format="TIFF", dpi=(150, 150), compression="tiff_lzw")
        tiff.newFrame()
        receipt.transpose(STORED_FOR[6]).save(
            tiff, format="TIFF", dpi=(150, 150), compression="tiff_lzw", exif=exif
        )
        tiff.newFrame()
    pdf = images_pdf([path])
    for index, page in enumerate(load_pages(path)):
        assert int(pdf.pages[index].obj.get("/Rotate", 0)) == 0
        expected = np.asarray(Image.fromarray(page.image).convert("L"))
        assert np.array_equal(_pixels(_only_image_of(pdf, index)), expected), index


def test_a_stereo_mpo_photo_is_one_page_with_its_jpeg_bytes(tmp_path: Path) -> None:
    receipt = Image.open(RECEIPT)
    path = tmp_path / "stereo.jpg"
    receipt.save(path, format="MPO", save_all=True, append_images=[receipt.rotate(180)], dpi=(150, 150))
    assert Image.open(path).format == "MPO"
    pdf = images_pdf([path])
    assert len(pdf.pages) == 1
    assert pikepdf.PdfImage(_only_image(pdf)).filters == ["/DCTDecode"]


def test_a_scanners_orientation_0_jpeg_keeps_its_bytes(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 0  # invalid; scanners write it
    path = tmp_path / "o0.jpg"
    Image.open(RECEIPT).save(path, exif=exif, dpi=(150, 150))
    assert pikepdf.PdfImage(_only_image(images_pdf([path]))).filters == ["/DCTDecode"]


@pytest.mark.parametrize(("x_resolution", "dpi"), [(None, 96.0), (300, 300.0)])
def test_a_jpeg_page_is_sized_at_the_resolution_the_loader_reads(tmp_path: Path, x_resolution, dpi) -> None:
    """Pillow says 72 dpi for a JPEG whose EXIF has no resolution, or one without its unit
    (inches, says EXIF); img2pdf took that for the page's size, unlike the loader's reading."""
    exif = Image.Exif()
    exif[0x0112] = 1
    if x_resolution:
        exif[0x011A] = exif[0x011B] = x_resolution  # no ResolutionUnit
    path = tmp_path / "photo.jpg"
    Image.open(RECEIPT).save(path, exif=exif)
    (page,) = load_pages(path)
    assert page.dpi == (None if x_resolution is None else dpi)
    width, height = Image.open(path).size
    pdf = images_pdf([path])
    assert _mediabox(pdf) == pytest.approx([0, 0, width * 72 / dpi, height * 72 / dpi], abs=0.01)
    assert pikepdf.PdfImage(_only_image(pdf)).filters == ["/DCTDecode"]  # its bytes, still


@pytest.mark.parametrize("kind", ["16-bit TIFF without tags", "oriented TIFF without tags", "PNG at 1 dpi"])
def test_an_implausible_resolution_sizes_the_page_at_96_dpi_as_the_loader_reads_it(
    tmp_path: Path, kind: str
) -> None:
    """A TIFF without resolution tags reads as 1 dpi in Pillow: the re-encoded ones (16-bit, an
    orientation tag) and a PNG tagged 1 dpi became pages 64 inches wide, while the loader (and the
    JSON) took the resolution as unknown. Now the page is 96 dpi, as for an image without one."""
    grey = Image.open(BLACK_AND_WHITE_PNG).convert("L")  # 480 x 640
    path = tmp_path / ("page.png" if kind.startswith("PNG") else "page.tif")
    if kind.startswith("16-bit"):
        Image.fromarray(np.asarray(grey).astype(np.uint16) * 257).save(path)
    elif kind.startswith("oriented"):
        grey.rotate(90, expand=True).save(path, tiffinfo={274: 6}, compression="tiff_lzw")
    else:
        grey.save(path, dpi=(1, 1))
    (page,) = load_pages(path)
    assert page.dpi is None and page.image.shape[:2] == (640, 480)
    assert _mediabox(images_pdf([path])) == pytest.approx([0, 0, 480 * 72 / 96, 640 * 72 / 96], abs=0.01)


def test_the_pixel_limit_holds_before_anything_decodes_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small file can hold a huge picture: it was decoded whole to choose how to embed it."""
    path = tmp_path / "bomb.png"
    Image.new("1", (200, 200), 1).save(path, dpi=(200, 200))
    monkeypatch.setenv("OCRCLI_MAX_PIXELS", "10000")
    with pytest.raises(BadInputError, match="over the limit"):
        images_pdf([path])


def test_an_image_too_small_for_a_pdf_page_is_a_one_line_error(tmp_path: Path) -> None:
    """img2pdf refuses a page under 3 pt a side (5 x 5 px at 300 dpi is 1.2 pt): that is bad input
    with a reason, not an unexpected error."""
    tiny = tmp_path / "tiny.png"
    Image.new("L", (5, 5), 255).save(tiny, dpi=(300, 300))
    with pytest.raises(BadInputError, match="3 pt"):
        images_pdf([tiny])


@pytest.mark.parametrize("kind", ["black and white", "grey"])
def test_a_webp_of_a_grey_scan_is_embedded_as_grey_not_as_three_channels(tmp_path: Path, kind: str) -> None:
    """Pillow decodes every WebP to RGB, so a grey or black-and-white scan saved as WebP was
    re-encoded as an RGB PNG, three samples a pixel: a lossless WebP of tess's 300-dpi page made
    a PDF 2.5 times the file, of a grey docbank page twice (found by an image-input bug hunt).
    Without colour it is embedded as grey, and black and white as JBIG2, as a PNG would be."""
    if kind == "black and white":
        scan = Image.open(DATA / "tess" / "img" / "8087_054.3B.tif").convert("L")
    else:
        scan = Image.open(RECEIPT).convert("L")
    webp = tmp_path / "scan.webp"
    scan.save(webp, lossless=True)
    assert Image.open(webp).mode == "RGB"
    pdf = images_pdf([webp])
    image = _only_image(pdf)
    assert image.ColorSpace == pikepdf.Name.DeviceGray
    filters = ["/JBIG2Decode"] if kind == "black and white" else ["/FlateDecode"]
    assert pikepdf.PdfImage(image).filters == filters
    assert np.array_equal(_pixels(image), np.asarray(scan))
    out = tmp_path / "scan.pdf"
    pdf.save(out)
    if kind == "black and white":
        assert out.stat().st_size <= 1.1 * webp.stat().st_size
    else:  # as large as the same scan as a grey PNG (lossless WebP is the tighter format)
        png = tmp_path / "scan.png"
        scan.save(png)
        assert out.stat().st_size <= 1.02 * png.stat().st_size


def test_a_webp_with_colour_or_a_colour_profile_stays_rgb(tmp_path: Path) -> None:
    receipt = Image.open(RECEIPT)
    colour = tmp_path / "colour.webp"
    receipt.save(colour, lossless=True)
    profiled = tmp_path / "profiled.webp"  # its greys are the profile's: DeviceGray would show them otherwise
    receipt.convert("L").convert("RGB").save(profiled, lossless=True, icc_profile=_srgb_profile())
    for path in (colour, profiled):
        pdf = images_pdf([path])
        image = _only_image(pdf)
        assert image.ColorSpace != pikepdf.Name.DeviceGray, path.name
        assert np.array_equal(
            np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("RGB")),
            np.asarray(Image.open(path).convert("RGB")),
        ), path.name


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _png_with_aspect_only(path: Path, image: Image.Image, x: int, y: int, **options) -> Path:
    """The image saved as a PNG whose pHYs chunk gives a pixel aspect ratio only (unit 0: no
    resolution)."""
    import zlib

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    data = buffer.getvalue()
    end_of_header = data.index(b"IHDR") + 4 + 13 + 4
    body = b"pHYs" + struct.pack(">IIB", x, y, 0)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
    path.write_bytes(data[:end_of_header] + chunk + data[end_of_header:])
    return path


@pytest.mark.parametrize("kind", ["grey", "black and white", "turned"])
def test_a_png_with_a_pixel_aspect_ratio_but_no_resolution_is_placed_at_96_dpi(
    tmp_path: Path, kind: str
) -> None:
    """img2pdf stretched such a PNG (pHYs unit 0, 2:1) to 192 x 96 dpi, while the loader, as for any
    image without a resolution, reads its pixels square: the sidecar's boxes and size (640 x 235 px
    at the 200 dpi of the page's width) covered half the page's height (found by an image-input
    bug hunt). It is placed at 96 dpi, as the README says of images without a DPI."""
    scan = Image.open(BLACK_AND_WHITE_PNG if kind == "black and white" else RECEIPT).convert("L")
    path = tmp_path / "aspect.png"
    if kind == "turned":
        exif = Image.Exif()
        exif[0x0112] = 6
        _png_with_aspect_only(path, scan.transpose(STORED_FOR[6]), 2, 1, exif=exif)
    else:
        _png_with_aspect_only(path, scan, 2, 1)
    assert "aspect" in Image.open(path).info and "dpi" not in Image.open(path).info
    (page,) = load_pages(path)
    assert page.dpi is None and page.image.shape[:2] == (scan.height, scan.width)
    pdf = images_pdf([path])
    page_box = pdf.pages[0].mediabox
    shown = (float(page_box[2]), float(page_box[3]))
    if int(pdf.pages[0].obj.get("/Rotate", 0)) % 180:
        shown = shown[::-1]
    assert shown == pytest.approx((scan.width * 72 / 96, scan.height * 72 / 96), abs=0.5)


@pytest.mark.parametrize("compression", ["group4", "jpeg"])
def test_a_tiffs_reduced_resolution_preview_is_no_page(tmp_path: Path, compression: str) -> None:
    """A frame marked as a reduced-resolution copy of another (NewSubfileType 1: a scanner's or an
    image editor's preview) was read and embedded as one more page, every word on it found twice."""
    from PIL import TiffImagePlugin

    page = Image.open(BLACK_AND_WHITE_PNG).convert("1" if compression == "group4" else "L")
    path = tmp_path / "with-preview.tif"
    with TiffImagePlugin.AppendingTiffWriter(str(path), True) as tiff:
        page.save(tiff, format="TIFF", compression=compression, dpi=(200, 200))
        tiff.newFrame()
        page.convert("L").resize((page.width // 4, page.height // 4)).save(
            tiff, format="TIFF", tiffinfo={254: 1}
        )
        tiff.newFrame()
    assert Image.open(path).n_frames == 2
    (read,) = load_pages(path)
    assert read.image.shape[:2] == (page.height, page.width) and read.index == 0
    pdf = images_pdf([path])
    assert len(pdf.pages) == 1
    assert _mediabox(pdf) == pytest.approx([0, 0, page.width * 72 / 200, page.height * 72 / 200], abs=0.01)


def _pdfium_grey(pdf: pikepdf.Pdf) -> np.ndarray:
    """The page's one grey image as pdfium draws it, 8 bits a sample (a 16-bit one it gives as
    three equal channels)."""
    pixels = _pdfium_pixels(pdf)
    return pixels[:, :, 0] if pixels.ndim == 3 else pixels


def _samples_16(image: pikepdf.Stream) -> np.ndarray:
    """A 16-bit image's samples as stored in the PDF: H x W if grey, else H x W x 3."""
    assert int(image.BitsPerComponent) == 16
    samples = np.frombuffer(image.read_bytes(), ">u2").reshape(int(image.Height), int(image.Width), -1)
    return samples[:, :, 0] if samples.shape[2] == 1 else samples


@pytest.mark.parametrize("kind", ["12 bits in 16", "12 bits in 16, SMaxSampleValue", "BitsPerSample 12"])
def test_a_12_bit_grey_tiff_shows_as_bright_as_it_reads_its_12_bits_kept(tmp_path: Path, kind: str) -> None:
    """A scanner's or a lab camera's 12-bit grey TIFF (0..4095, in 16-bit samples or packed in
    12) was embedded as 16-bit full range: the page showed at 1/16 of its brightness, nearly
    black, while the OCR (which scales by the samples' bit depth) read it fine. The page now shows
    it as the OCR reads it, 4095 white, its samples widened to 16 bits (each 12-bit sample
    repeated into the low bits), from which the file's samples come back exactly."""
    twelve = np.rint(grey_scan() * 4095).astype(np.uint16)
    path = tmp_path / "scan12.tif"
    if kind == "BitsPerSample 12":
        uncompressed_tiff(path, twelve, bits=12)
    else:
        tags = {341: 4095} if "SMax" in kind else {}
        Image.fromarray(twelve).save(path, dpi=(200, 200), tiffinfo=tags)
    assert np.array_equal(np.asarray(Image.open(path)), twelve)
    pdf = images_pdf([path])
    (page,) = load_pages(path)
    shown = _pdfium_grey(pdf).astype(int)
    assert np.abs(shown - page.image[:, :, 0]).max() <= 1  # the page is what the OCR read
    assert np.array_equal(_samples_16(_only_image(pdf)) >> 4, twelve)  # the 12 bits are the high bits


def test_a_16_bit_tiff_using_its_full_range_keeps_its_samples(tmp_path: Path) -> None:
    # A sensor's 16 bits: its low bits vary (grey_scan's 8 bits times 257 alone are 8 bits widened)
    noise = np.random.default_rng(7).integers(-100, 101, grey_scan().shape)
    sixteen = np.clip(np.rint(grey_scan() * 65535) + noise, 0, 65535).astype(np.uint16)
    path = tmp_path / "scan16.tif"
    Image.fromarray(sixteen).save(path, dpi=(200, 200))
    pdf = images_pdf([path])
    assert np.array_equal(_samples_16(_only_image(pdf)), sixteen)
    shown = _pdfium_grey(pdf)
    assert np.abs(shown.astype(int) - np.rint(sixteen / 257)).max() <= 1


@pytest.mark.parametrize("colour", [False, True])
def test_16_bit_samples_that_are_8_bits_widened_are_stored_in_8(tmp_path: Path, colour: bool) -> None:
    """An 8-bit scan saved at 16 bits (GIMP, ImageMagick -depth 16: each sample b * 257) was
    stored at 16 bits, its PDF 1.14 times the file: its 8 bits show the same, and are kept."""
    eight = np.rint((colour_scan() if colour else grey_scan()) * 255).astype(np.uint16)
    path = uncompressed_tiff(tmp_path / "scan.tif", eight * 257)
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert int(image.BitsPerComponent) == 8
    stored = np.asarray(pikepdf.PdfImage(image).as_pil_image())
    assert np.array_equal(stored, eight if colour else eight.astype(np.uint8))
    (read,) = load_pages(path)
    shown = _pdfium_pixels(pdf)[:, :, 2::-1] if colour else _pdfium_grey(pdf)
    assert np.abs(shown.astype(int) - (read.image if colour else read.image[:, :, 0])).max() <= 1


@pytest.mark.parametrize("kind", ["12 bits", "16 bits", "12 bits, with a profile", "12 bits, grey"])
def test_a_colour_tiff_of_16_bit_samples_shows_as_it_reads_its_samples_kept(
    tmp_path: Path, kind: str
) -> None:
    """A colour TIFF of 16-bit samples (a scanner's 48-bit colour; a lab camera's 12 bits in
    them) was stored as Pillow decodes it, by the high byte of each sample: a 12-bit one's page
    showed nearly black, at 1/16 of its brightness, and a 16-bit one's kept 8 of its bits. The
    page now shows it as the OCR reads it, its samples kept at 16 bits, a 12-bit one's widened as
    a grey one's are (the file's samples are their high bits); with its ICC profile, and as grey
    if it is grey (a grey page scanned in colour)."""
    bits = 16 if kind == "16 bits" else 12
    page = np.repeat(grey_scan()[:, :, np.newaxis], 3, axis=2) if "grey" in kind else colour_scan()
    samples = np.rint(page * ((1 << bits) - 1)).astype(np.uint16)
    path = uncompressed_tiff(
        tmp_path / "scan.tif", samples, icc_profile=_srgb_profile() if "profile" in kind else b""
    )
    pdf = images_pdf([path])
    (read,) = load_pages(path)
    image = _only_image(pdf)
    if "grey" in kind:
        assert np.array_equal(_samples_16(image) >> 4, samples[:, :, 0])
        assert np.abs(_pdfium_grey(pdf).astype(int) - read.image[:, :, 0]).max() <= 1
    else:
        assert np.array_equal(_samples_16(image) >> (16 - bits), samples)
        shown = _pdfium_pixels(pdf)[:, :, 2::-1]  # pdfium's BGR
        assert np.abs(shown.astype(int) - read.image).max() <= 1
    assert ("profile" in kind) == (pikepdf.PdfImage(image).icc is not None)
    assert _mediabox(pdf) == pytest.approx([0, 0, 640 * 72 / 200, 480 * 72 / 200], abs=0.01)


@pytest.mark.parametrize("suffix", [".webp", ".avif"])
def test_a_lossy_webp_or_avif_is_stored_as_it_decodes_not_recompressed(tmp_path: Path, suffix: str) -> None:
    """A PDF holds neither WebP nor AVIF: a lossy one's page is its decoded pixels, stored
    losslessly (several times the file, as the README says), not a JPEG of them, a second lossy
    generation that was still 1.16 to 1.85 times the file at quality 85."""
    path = tmp_path / f"receipt{suffix}"
    Image.open(RECEIPT).save(path, quality=80)
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert pikepdf.PdfImage(image).filters == ["/FlateDecode"]
    stored = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("RGB"))
    assert np.array_equal(stored, np.asarray(Image.open(path).convert("RGB")))


def test_pdfa_names_the_image_it_refuses_among_several(tmp_path: Path) -> None:
    """--pdfa with several images: the one PDF/A-2b cannot hold (a CMYK JPEG with no ICC profile)
    is the one named, not the first (the error named the first image, whatever the culprit)."""
    grey = Image.fromarray((grey_scan() * 255).astype(np.uint8))
    first, cmyk = tmp_path / "first.png", tmp_path / "cmyk.jpg"
    grey.save(first)
    grey.convert("CMYK").save(cmyk)
    with pytest.raises(BadInputError, match="cannot be PDF/A-2b") as caught:
        images_pdf([first, cmyk], pdfa=True)
    assert caught.value.path == str(cmyk)


def test_an_icc_profile_for_other_colour_components_than_the_image_has_is_dropped(tmp_path: Path) -> None:
    """An image's ICC profile for another number of colour components than its PDF image has made
    an invalid ICCBased colour space, kept as img2pdf embeds it (a bilevel TIFF with an RGB
    profile, as ImageMagick wrote them; a grey profile on an RGB JPEG) or carried onto a frame
    re-encoded in other colours (a black-and-white palette PNG with its RGB profile made Group 4,
    N 1; a CMYK TIFF stored as RGB with its CMYK profile, N 3). The image is drawn in its device
    colours instead; a profile that fits stays. With --pdfa, all are PDF/A-2b."""
    from PIL import ImageCms

    gs = Path("/usr/share/color/icc/ghostscript")
    grey = Image.fromarray((grey_scan() * 255).astype(np.uint8))
    rgb_profile = _srgb_profile()
    cases = {  # file: the colour space its image is drawn in
        "bilevel.tif": pikepdf.Name.DeviceGray,
        "grey-profile.jpg": pikepdf.Name.DeviceRGB,
        "palette.png": pikepdf.Name.DeviceGray,
        "cmyk.tif": pikepdf.Name.DeviceRGB,
        "fitting.jpg": pikepdf.Name.ICCBased,
    }
    grey.convert("1").save(tmp_path / "bilevel.tif", compression="group4", icc_profile=rgb_profile)
    grey.convert("RGB").save(tmp_path / "grey-profile.jpg", icc_profile=(gs / "sgray.icc").read_bytes())
    scan = Image.open(TESS / "phototest.tif").convert("RGB")  # smaller as Group 4 than as PNG
    scan.convert("P").save(tmp_path / "palette.png", icc_profile=rgb_profile)
    grey.convert("CMYK").save(tmp_path / "cmyk.tif", icc_profile=(gs / "default_cmyk.icc").read_bytes())
    grey.convert("RGB").save(tmp_path / "fitting.jpg", icc_profile=rgb_profile)
    for name, expected in cases.items():
        pdf = images_pdf([tmp_path / name], pdfa=True)
        space = _only_image(pdf).ColorSpace
        if isinstance(space, pikepdf.Array):
            profile = ImageCms.ImageCmsProfile(io.BytesIO(space[1].read_bytes())).profile
            assert (space[0], space[1].N) == (expected, 3) and profile.xcolor_space == "RGB ", name
        else:
            assert space == expected, name


@pytest.mark.parametrize("kind", [b"link", b"abst", b"nmcl"])
def test_pdfa_refuses_an_image_profile_of_a_class_pdfa_2_does_not_allow(tmp_path: Path, kind: bytes) -> None:
    """An image's ICC profile must be of an input device, display, output device or colour
    space (ISO 19005-2 6.2.4.2, ISO 32000-1 8.6.5.5): one of another class (a device link, an
    abstract or a named colour profile), which --pdfa let through, is refused; a scanner's is not."""
    profile = bytearray(_srgb_profile())
    profile[12:16] = kind
    grey = Image.fromarray((grey_scan() * 255).astype(np.uint8)).convert("RGB")
    path = tmp_path / "photo.jpg"
    grey.save(path, icc_profile=bytes(profile))
    with pytest.raises(BadInputError, match=f"profile is of class '{kind.decode()}'"):
        images_pdf([path], pdfa=True)
    profile[12:16] = b"scnr"
    grey.save(path, icc_profile=bytes(profile))
    assert images_pdf([path], pdfa=True).Root.OutputIntents


@pytest.mark.parametrize("bits", [2, 4])
def test_a_grey_tiff_of_2_or_4_bits_is_stored_at_its_bits(tmp_path: Path, bits: int) -> None:
    """img2pdf stores a TIFF's grey pixels at 8 bits: a page scanned in 4 grey levels (a docbank
    page, ImageMagick's -depth 2, LZW) made a PDF 1.12 times the file, over the 10 % a PDF of an
    image may add. Its frames are now stored as PNG does them, at 2 or 4 bits, losslessly."""
    top = (1 << bits) - 1
    levels = np.rint(grey_scan() * top).astype(np.uint8)
    path = uncompressed_tiff(tmp_path / "scan.tif", levels, bits=bits)
    (page,) = load_pages(path)
    expected = page.image[:, :, 0]
    assert np.array_equal(expected, levels * (255 // top))  # as the loader reads it
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert int(image.BitsPerComponent) == bits
    assert np.array_equal(_pixels(image), expected)
    assert _mediabox(pdf) == pytest.approx([0, 0, 640 * 72 / 200, 480 * 72 / 200])


def _jp2_with_resolutions(path: Path, kinds: list[bytes]) -> Path:
    """A JP2 of a receipt whose header has a resolution box holding boxes of these kinds ("resc",
    capture; "resd", display), each of 200 dpi (7874 pixels per metre), in this order."""
    Image.open(RECEIPT).convert("RGB").crop((0, 0, 300, 200)).save(path)
    data = path.read_bytes()
    start = data.index(b"jp2h") - 4
    (length,) = struct.unpack(">I", data[start : start + 4])
    boxes = b"".join(struct.pack(">I4sHHHHbb", 18, kind, 7874, 1, 7874, 1, 0, 0) for kind in kinds)
    res = struct.pack(">I4s", 8 + len(boxes), b"res ") + boxes
    header = struct.pack(">I", length + len(res)) + data[start + 4 : start + length] + res
    path.write_bytes(data[:start] + header + data[start + length :])
    return path


@pytest.mark.parametrize(
    ("kinds", "dpi"), [([b"resd"], 96), ([b"resd", b"resc"], 200)], ids=["display-only", "display-first"]
)
def test_a_jp2_with_a_display_resolution_becomes_a_page_of_its_codestream(
    tmp_path: Path, kinds: list[bytes], dpi: int
) -> None:
    """img2pdf reads the first box of a JP2's resolution box only if it is the capture resolution,
    and loops forever on any other: `ocr image` of a JP2 whose display resolution came first, or
    alone, never ended. It is given the file without that box (the loader reads the capture
    resolution, and the page is sized by it as img2pdf sized it), its codestream as it is."""
    path = _jp2_with_resolutions(tmp_path / "scan.jp2", kinds)
    (given,) = imagepdf._img2pdf_job(path).inputs
    assert isinstance(given, bytes) and b"res " not in given  # else img2pdf would never return
    pdf = images_pdf([path])
    image = _only_image(pdf)
    assert pikepdf.PdfImage(image).filters == ["/JPXDecode"]
    codestream = path.read_bytes()
    assert image.read_raw_bytes().endswith(codestream[codestream.index(b"jp2c") + 4 :])
    assert _mediabox(pdf) == pytest.approx([0, 0, 300 * 72 / dpi, 200 * 72 / dpi])
