"""The JBIG2 encoder is lossless: each bitmap, put in a PDF as a /JBIG2Decode image, decodes to
exactly its pixels in decoders nobody here wrote: pdfium (Chrome), poppler (pdfimages),
Artifex's jbig2dec (Ghostscript's decoder, run on the bare stream) and pdf.js (Firefox's own
decoder, run with node on the bare stream). A missing decoder is an error, never a skip."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tracemalloc
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from common import TESS
from PIL import Image

from ocrcli import jbig2
from ocrcli.imagepdf import jbig2_pdf

REAL = {
    "phototest-rotated-180": TESS / "phototest-rotated-180.png",  # palette PNG, 640 x 480
    "phototest": TESS / "phototest.tif",  # uncompressed 1-bit TIFF
    "eurotext": TESS / "eurotext.tif",  # 1024 x 800
    "page-300dpi": TESS / "8087_054.3B.tif",  # a whole letter page, 2560 x 3300, Group 4
}
JBIG2DEC_HINT = "jbig2dec is needed to check the encoder: apt-get install jbig2dec"


def _file_black(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L")) < 128


def _noise(height: int, width: int, density: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width)) < density


def _with_blank_and_repeated_rows() -> np.ndarray:
    """Text with white bands, a black band and rows repeated in pairs: typical prediction toggles
    on and off many times, and a first row that is not white."""
    black = _file_black(REAL["phototest"])[40:240, 13:600].copy()  # 587 wide: not a multiple of 8
    black[0] = True
    black[20:60] = False
    black[90:95] = True
    black[100:200:2] = black[101:201:2]
    return black


def _stripes() -> np.ndarray:
    black = np.zeros((40, 33), dtype=bool)
    black[::3] = True
    black[:, ::5] ^= True
    return black


# T.88 codes each row's typical-prediction bit in template 0's context 0x9B25 (6.2.5.7), which
# pixels with this neighbourhood (Figure 3; "x" is the pixel, "." is not in the template) share:
# an encoder that numbered the context differently, or the template's bits, would code them
# with other statistics than a decoder.
_TPGD_NEIGHBOURHOOD = (  # columns x-4 .. x+3
    "..10011.",  # row y-2: x-2 .. x+2 are A4 (bit 15), bits 14, 13, 12 and A3 (bit 11)
    ".0110010",  # row y-1: x-3 .. x+3 are A2 (bit 10), bits 9 .. 5 and A1 (bit 4)
    "0101x...",  # row y: x-4 .. x-1 are bits 3 .. 0
)


def _tpgd_context_pixels() -> np.ndarray:
    """Tiles of 3 x 8 pixels, each the neighbourhood above around its pixel x, which is random."""
    tile = np.array([[c == "1" for c in row] for row in _TPGD_NEIGHBOURHOOD])
    black = np.tile(tile, (30, 20))
    black[2::3, 4::8] = _noise(30, 20, 0.5, 6)
    return black


SYNTHETIC: dict[str, Callable[[], np.ndarray]] = {
    "1x1-white": lambda: np.zeros((1, 1), dtype=bool),
    "1x1-black": lambda: np.ones((1, 1), dtype=bool),
    "all-white-37x23": lambda: np.zeros((23, 37), dtype=bool),
    "all-black-37x23": lambda: np.ones((23, 37), dtype=bool),
    "one-row-77": lambda: _noise(1, 77, 0.3, 1),
    "one-column-45": lambda: _noise(45, 1, 0.3, 2),
    "noise-61x29-half": lambda: _noise(29, 61, 0.5, 3),  # the MQ coder's LPS paths, MPS switches
    "noise-203x101-sparse": lambda: _noise(101, 203, 0.02, 4),
    "noise-9x700-dense": lambda: _noise(700, 9, 0.9, 5),
    "stripes-33x40": _stripes,
    "tpgd-context-160x90": _tpgd_context_pixels,
    "text-crop-333x217": lambda: _file_black(REAL["phototest-rotated-180"])[101:318, 150:483],
    "text-blank-and-repeated-rows": _with_blank_and_repeated_rows,
}
CASES = sorted([*REAL, *SYNTHETIC])


@cache
def _bitmap(case: str) -> np.ndarray:
    return _file_black(REAL[case]) if case in REAL else SYNTHETIC[case]()


@cache
def _stream(case: str) -> bytes:
    return jbig2.encode(_bitmap(case))


@cache
def _pdf(case: str) -> bytes:
    """A one-page PDF that draws the case's JBIG2 stream as an image XObject."""
    return jbig2_pdf(_stream(case), _bitmap(case).shape)


def _pdfium_black(case: str, tmp_path: Path) -> np.ndarray:
    """The image object's own decoded bitmap (not a rendering of the page)."""
    document = pdfium.PdfDocument(_pdf(case))
    try:
        (image,) = document[0].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE])
        assert image.get_filters() == ["JBIG2Decode"]
        grey = image.get_bitmap(render=False).to_numpy()
    finally:
        document.close()
    return _grey_black(grey)


def _poppler_black(case: str, tmp_path: Path) -> np.ndarray:
    path = tmp_path / "in.pdf"
    path.write_bytes(_pdf(case))
    listing = subprocess.run(["pdfimages", "-list", path], capture_output=True, text=True, check=True).stdout
    assert " jbig2 " in listing.splitlines()[2]  # the image poppler reads is the JBIG2 one
    subprocess.run(["pdfimages", "-png", path, tmp_path / "im"], check=True, capture_output=True)
    with Image.open(tmp_path / "im-000.png") as im:
        return _grey_black(np.asarray(im.convert("L")))


def _jbig2dec_black(case: str, tmp_path: Path) -> np.ndarray:
    """jbig2dec on the bare stream as PDF embeds it (-e: the embedded organisation, no file
    header); PBM stores black as 1."""
    if shutil.which("jbig2dec") is None:
        pytest.fail(JBIG2DEC_HINT)
    stream = tmp_path / "page.jb2"
    stream.write_bytes(_stream(case))
    result = subprocess.run(
        ["jbig2dec", "-e", "-t", "pbm", "-o", tmp_path / "page.pbm", stream], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower() and "warning" not in result.stderr.lower(), result.stderr
    with Image.open(tmp_path / "page.pbm") as im:
        return _grey_black(np.asarray(im.convert("L")))


def _pdfjs_black(case: str, tmp_path: Path) -> np.ndarray:
    """pdf.js's Jbig2Image on the bare stream (tests/js/jbig2_decode.mjs): a byte per pixel, 1 black."""
    stream = tmp_path / "page.jb2"
    stream.write_bytes(_stream(case))
    result = subprocess.run(
        ["node", Path(__file__).parent / "js" / "jbig2_decode.mjs", stream, tmp_path / "page.bin"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    size = json.loads(result.stdout)
    pixels = np.fromfile(tmp_path / "page.bin", dtype=np.uint8)
    return pixels.reshape(size["height"], size["width"]) == 1


def _grey_black(grey: np.ndarray) -> np.ndarray:
    assert set(np.unique(grey).tolist()) <= {0, 255}
    return grey == 0


DECODERS = {
    "pdfium": _pdfium_black,
    "poppler": _poppler_black,
    "jbig2dec": _jbig2dec_black,
    "pdfjs": _pdfjs_black,
}


@pytest.mark.parametrize("decoder", sorted(DECODERS))
@pytest.mark.parametrize("case", CASES)
def test_decodes_to_the_same_pixels(case: str, decoder: str, tmp_path: Path) -> None:
    expected = _bitmap(case)
    decoded = DECODERS[decoder](case, tmp_path)
    assert decoded.shape == expected.shape
    wrong = np.argwhere(decoded != expected)
    assert wrong.size == 0, f"{len(wrong)} pixels differ, the first at (row, column) {tuple(wrong[0])}"


def test_real_bitmaps_are_not_trivial() -> None:
    """The real images are text: both colours, and rows that typical prediction skips."""
    for case in REAL:
        black = _bitmap(case)
        assert 0.01 < black.mean() < 0.5, case
        assert (black[1:] == black[:-1]).all(axis=1).any(), case


def test_runs_code_as_the_symbols_one_by_one() -> None:
    """Coding a run of MPS symbols in one step (A -= n*Qe, C += n*Qe) gives the same bytes as
    coding each symbol with its own CODEMPS."""
    keys = jbig2._symbols(_bitmap("phototest").astype(np.uint8))
    by_runs, one_by_one = jbig2._MQEncoder(), jbig2._MQEncoder()
    starts, lengths = jbig2._runs(keys)
    firsts = keys[starts]
    by_runs.encode_runs((firsts >> 1).tolist(), (firsts & 1).tolist(), lengths.tolist())
    one_by_one.encode_runs((keys >> 1).tolist(), (keys & 1).tolist(), [1] * keys.size)
    assert lengths.max() > 500  # long runs were coded in one step
    assert by_runs.finish() == one_by_one.finish()


def test_stream_is_what_pdf_embeds() -> None:
    """ISO 32000-1 7.4.7: no file header, the page information segment first, page association
    1, no end-of-page or end-of-file segment; the region is an immediate lossless generic
    region with template 0, typical prediction and the nominal adaptive pixels."""
    stream = _stream("text-crop-333x217")
    segments = []
    offset = 0
    while offset < len(stream):
        number, flags, referred, page, length = (
            int.from_bytes(stream[offset : offset + 4], "big"),
            stream[offset + 4],
            stream[offset + 5],
            stream[offset + 6],
            int.from_bytes(stream[offset + 7 : offset + 11], "big"),
        )
        segments.append((number, flags, referred, page, stream[offset + 11 : offset + 11 + length]))
        offset += 11 + length
    assert offset == len(stream)
    assert [(flags, referred, page) for _, flags, referred, page, _ in segments] == [(48, 0, 1), (39, 0, 1)]
    page_info, region = segments[0][4], segments[1][4]
    assert page_info[:8] == (333).to_bytes(4, "big") + (217).to_bytes(4, "big")
    assert region[:8] == page_info[:8] and region[17] == 0x08
    assert region[18:26] == bytes([3, 0xFF, 0xFD, 0xFF, 2, 0xFE, 0xFE, 0xFE])
    assert region.endswith(b"\xff\xac")


@pytest.mark.parametrize("case", ["phototest-rotated-180", "page-300dpi"])
def test_smaller_than_group4(case: str) -> None:
    """By at least a fifth on scanned text (about a third, in fact)."""
    white = Image.fromarray(~_bitmap(case)).convert("1")
    out = io.BytesIO()
    white.save(out, format="TIFF", compression="group4")
    with Image.open(out) as tiff:
        group4 = sum(tiff.tag_v2[279]) if isinstance(tiff.tag_v2[279], tuple) else tiff.tag_v2[279]
    assert len(_stream(case)) < 0.8 * group4


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (3, 4, 2)])
def test_refuses_what_is_not_a_bitmap(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="2-D bitmap"):
        jbig2.encode(np.zeros(shape, dtype=bool))


@pytest.mark.parametrize("rows", [1, 2, 5, 64])
def test_bands_code_as_the_whole_bitmap(rows: int, monkeypatch) -> None:
    """The symbols are made a band of rows at a time (memory): the stream is the one the whole
    bitmap at once gives, with typical prediction and the contexts carried across the bands."""
    for case in [*SYNTHETIC, "phototest"]:
        monkeypatch.setattr(jbig2, "BAND_ROWS", rows)
        banded = jbig2.encode(_bitmap(case))
        monkeypatch.setattr(jbig2, "BAND_ROWS", 1 << 30)
        assert banded == jbig2.encode(_bitmap(case)), case


def test_memory_does_not_grow_with_the_page() -> None:
    """Made at once for the whole page, the symbols and their runs took about 16 bytes a pixel
    (tracemalloc; 180 MB of RSS in `ocr scan`'s parent, which makes images' PDFs, for a 300 dpi
    letter page, 0.7 GB at 600 dpi). A band at a time, only the page's own copy (a byte a pixel)
    grows with it: three stacked take little more than one."""

    def peak(black: np.ndarray) -> int:
        tracemalloc.start()
        try:
            jbig2.encode(black)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    page = _bitmap("page-300dpi")[:768]  # three bands, a letter page's top quarter
    growth = (peak(np.vstack([page] * 3)) - peak(page)) / (2 * page.size)
    assert growth < 2, f"{growth:.1f} bytes for each pixel more"
