"""What telling a PDF page's text costs: `pdfpages.page_text`, run in a worker for every page of
every PDF before it is OCRed or skipped, against walking the page's text objects alone.

    python benchmarks/page_text_cost.py [PDF ...] [--repeat 9]

Without PDFs: the three corpus PDFs with the most text objects on their first page
(pdfjs_prefilled_f1040, pikepdf_form_210966, pikepdf_sandwich) and a made-up page of 10,000 text
objects. Prints, per page, the fastest of --repeat runs of each, in ms. Not a test: quote the
output in notes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocrcli import pdfpages

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pdfs"
CORPUS = ["pdfjs_prefilled_f1040.pdf", "pikepdf_form_210966.pdf", "pikepdf_sandwich.pdf"]


def many_text_objects(path: Path, count: int = 10_000) -> Path:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    helvetica = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(helvetica)))
    shows = (f"BT /F1 3 Tf {20 + n % 40 * 14} {820 - n // 40 * 3 % 800} Td (ab) Tj ET" for n in range(count))
    page.Contents = pdf.make_stream("\n".join(shows).encode())
    pdf.save(path)
    return path


def fastest(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        pdfs = args.pdfs or [DATA / name for name in CORPUS] + [many_text_objects(Path(scratch) / "10k.pdf")]
        print("| page | text objects | page_text ms | walk ms |\n|---|---:|---:|---:|")
        for path in pdfs:
            document = pdfium.PdfDocument(path)
            for index in range(len(document)):
                page = document[index]
                objects = list(pdfpages.page_objects(page, pdfium_c.FPDF_PAGEOBJ_TEXT))
                told = fastest(lambda page=page: pdfpages.page_text(page), args.repeat)
                walked = fastest(
                    lambda page=page: [
                        o.get_bounds() for o, _ in pdfpages.page_objects(page, pdfium_c.FPDF_PAGEOBJ_TEXT)
                    ],
                    args.repeat,
                )
                print(
                    f"| {path.name} p{index + 1} | {len(objects)} | {told * 1000:.1f} | {walked * 1000:.1f} |"
                )
                page.close()
            document.close()


if __name__ == "__main__":
    main()
