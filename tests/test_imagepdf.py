"""Images wrapped in a PDF: the pixels and the page size are kept, and black-and-white PNGs are
embedded as CCITT Group 4 when that is smaller."""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
from PIL import Image

from ocrcli.imagepdf import images_pdf

TESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "tess" / "img"
BLACK_AND_WHITE_PNG = TESS / "phototest-rotated-L.png"  # a two-colour palette PNG at 200 dpi


def _only_image(pdf: pikepdf.Pdf) -> pikepdf.Stream:
    (image,) = pdf.pages[0].Resources.XObject.values()
    return image


def _pixels(image: pikepdf.Stream) -> np.ndarray:
    return np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("L"))


def _mediabox(pdf: pikepdf.Pdf) -> list[float]:
    return [float(v) for v in pdf.pages[0].mediabox]


def test_a_black_and_white_png_becomes_group4_with_the_same_pixels_and_page() -> None:
    pdf = images_pdf([BLACK_AND_WHITE_PNG])
    image = _only_image(pdf)
    assert pikepdf.PdfImage(image).filters == ["/CCITTFaxDecode"]
    assert np.array_equal(_pixels(image), np.asarray(Image.open(BLACK_AND_WHITE_PNG).convert("L")))
    as_is = pikepdf.open(io.BytesIO(img2pdf.convert(str(BLACK_AND_WHITE_PNG))))
    assert _mediabox(pdf) == _mediabox(as_is)  # the same physical size as the PNG wrapped as it is
    assert len(image.read_raw_bytes()) < 0.75 * len(_only_image(as_is).read_raw_bytes())


def test_pngs_group4_would_not_suit_are_embedded_as_they_are(tmp_path: Path) -> None:
    bilevel = np.asarray(Image.open(BLACK_AND_WHITE_PNG).convert("L"))
    grey = bilevel.copy()
    grey[:8] = 128  # one grey band: no longer black and white
    cases = {
        "grey.png": (Image.fromarray(grey), {"dpi": (200, 200)}),
        "no-dpi.png": (Image.fromarray(bilevel), {}),  # img2pdf would size a TIFF differently
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
