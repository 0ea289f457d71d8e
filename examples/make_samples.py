"""Regenerate the sample scans in examples/scans/ (they are committed; run this only to change them).

Pages are typeset with DejaVu fonts at 200 dpi, then given what scanning does to paper: a slight
skew, blur, uneven light and noise. Needs Pillow and numpy, and the DejaVu fonts
(Debian: fonts-dejavu-core).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path(__file__).resolve().parent / "scans"
DPI = 200

LETTER = """Northwind Components Ltd.
14 Harbour Road, Leith EH6 6LX

22 November 2026

Dear Ms. Okafor,

Thank you for your order of 12 October. The replacement
bearings (part no. NW-4471-B) left our warehouse today
and should reach you within three working days.

Your invoice INV-2026-0917 totals EUR 1,284.50, payable
within 30 days. Please quote the invoice number with
your payment.

Yours sincerely,
Daniel Brandt, Customer Service"""

RECEIPT = [
    ("CORNER MARKET", ""),
    ("12 Station Street", ""),
    ("Tel: 0131 555 0192", ""),
    ("", ""),
    ("Date: 21/11/2026  14:32", ""),
    ("Receipt no: 004519", ""),
    ("", ""),
    ("Milk 1L", "1.15"),
    ("Wholemeal bread", "2.40"),
    ("Apples (1.2 kg)", "3.12"),
    ("Coffee beans 250g", "6.95"),
    ("", ""),
    ("SUBTOTAL", "13.62"),
    ("VAT 5%", "0.68"),
    ("TOTAL", "14.30"),
    ("CASH", "20.00"),
    ("CHANGE", "5.70"),
    ("", ""),
    ("Thank you for shopping!", ""),
]

COLUMNS = (  # noqa: SIM905 - prose reads better as prose
    "Optical character recognition turns pictures of text into text that a computer can search "
    "and edit. A scanner or a camera produces the picture; the recogniser finds the lines, reads "
    "each one and reports where every word lies on the page. Documents printed in two columns "
    "must be read one column after the other, not straight across the page, or sentences from "
    "both columns would be mixed together. Pages are also often scanned sideways or upside down, "
    "so the page orientation has to be found before reading starts."
).split()


def font(name: str, points: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), round(points * DPI / 72))


def scanned(page: Image.Image, skew: float, seed: int) -> Image.Image:
    """Skew, blur, uneven light and sensor noise, as a flatbed scan adds them."""
    rng = np.random.default_rng(seed)
    page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    pixels = np.asarray(page, dtype=np.float32)
    h, w = pixels.shape
    light = 1.0 - 0.06 * np.linspace(0, 1, w)[None, :] - 0.04 * np.linspace(0, 1, h)[:, None]
    pixels = pixels * light + rng.normal(0, 6, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def letter() -> Image.Image:
    page = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    draw = ImageDraw.Draw(page)
    body = font("DejaVuSerif.ttf", 11)
    y = 220
    for line in LETTER.splitlines():
        draw.text((200, y), line, font=body, fill=0)
        y += 62
    return scanned(page, skew=0.8, seed=1)


def receipt() -> Image.Image:
    page = Image.new("L", (640, 1500), 255)
    draw = ImageDraw.Draw(page)
    mono = font("DejaVuSansMono.ttf", 9)
    y = 60
    for left, right in RECEIPT:
        draw.text((40, y), left, font=mono, fill=40)
        if right:
            draw.text((600 - draw.textlength(right, font=mono), y), right, font=mono, fill=40)
        y += 40
    return scanned(page, skew=-0.5, seed=2)


def two_columns_sideways() -> Image.Image:
    """A two-column page, scanned turned a quarter to the left."""
    page = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(page)
    draw.text((200, 150), "Reading Pages Like a Person", font=font("DejaVuSerif-Bold.ttf", 16), fill=0)
    body = font("DejaVuSerif.ttf", 10)
    column_width, x_positions = 600, (200, 900)
    words = COLUMNS * 2
    x_index, x, y, line = 0, x_positions[0], 320, ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=body) > column_width:
            draw.text((x, y), line, font=body, fill=0)
            line, y = word, y + 50
            if y > 1000:
                x_index += 1
                if x_index == len(x_positions):
                    break
                x, y = x_positions[x_index], 320
        else:
            line = trial
    return scanned(page, skew=0.3, seed=3).rotate(90, expand=True)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    letter().save(OUT / "letter.jpg", dpi=(DPI, DPI), quality=80)
    receipt().save(OUT / "receipt.jpg", dpi=(DPI, DPI), quality=85)
    # A bilevel fax-style scan: 1 bit per pixel, CCITT G4.
    bilevel = two_columns_sideways().point(lambda v: 255 if v > 150 else 0).convert("1")
    bilevel.save(OUT / "two-columns-sideways.tif", dpi=(DPI, DPI), compression="group4")


if __name__ == "__main__":
    main()
