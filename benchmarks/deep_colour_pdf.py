"""What keeping a 16-bit colour TIFF's samples costs in its PDF page: figures to quote, never a test.

    python benchmarks/deep_colour_pdf.py [--data ../shared/data]

tess's phototest, blurred as a scanner's edges are, in dark blue on cream paper, scaled to an A4
page at 300 dpi (2480 x 3508), is saved by OpenCV as an LZW TIFF of 16-bit samples four ways: 12
bits in 16 and full 16 bits, smooth and with noise of one 8-bit level (a scanner's). For each it
prints the TIFF's size, the size of the PDF images_pdf makes of it, the size of the page as an
8-bit PNG (what the PDF held before), and the seconds images_pdf took (one noisy sample).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocrcli.imagepdf import images_pdf  # noqa: E402

A4_300_DPI = (2480, 3508)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    data = parser.parse_args().data
    scan = (
        Image.open(data / "tess" / "img" / "phototest.tif").convert("L").filter(ImageFilter.GaussianBlur(1.2))
    )
    ink, paper = np.array([20, 40, 120]) / 255, np.array([250, 240, 215]) / 255
    page = paper + (ink - paper) * (1 - np.asarray(scan) / 255)[:, :, np.newaxis]
    page = np.clip(cv2.resize(page, A4_300_DPI, interpolation=cv2.INTER_CUBIC), 0, 1)
    noise = np.random.default_rng(0).normal(0, 1, page.shape)
    print("| samples | TIFF (LZW) | PDF | 8-bit PNG | images_pdf |")
    print("| --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for bits in (12, 16):
            top = (1 << bits) - 1
            for noisy in (False, True):
                samples = page * top + (noise * top / 255 if noisy else 0)
                samples = np.clip(np.rint(samples), 0, top).astype(np.uint16)
                path = Path(folder) / f"page{bits}{noisy}.tif"
                resolution = [
                    cv2.IMWRITE_TIFF_RESUNIT,
                    2,
                    cv2.IMWRITE_TIFF_XDPI,
                    300,
                    cv2.IMWRITE_TIFF_YDPI,
                    300,
                ]
                cv2.imwrite(str(path), samples[:, :, ::-1], resolution)
                start = time.perf_counter()
                out = io.BytesIO()
                images_pdf([path]).save(out)
                seconds = time.perf_counter() - start
                png = io.BytesIO()
                Image.fromarray((samples >> (bits - 8)).astype(np.uint8)).save(png, format="PNG")
                label = f"{bits} bits{' in 16' if bits < 16 else ''}{', noisy' if noisy else ''}"
                sizes = (path.stat().st_size, len(out.getvalue()), len(png.getvalue()))
                print(
                    f"| {label} | "
                    + " | ".join(f"{size / 1e6:.1f} MB" for size in sizes)
                    + f" | {seconds:.1f} s |"
                )


if __name__ == "__main__":
    main()
