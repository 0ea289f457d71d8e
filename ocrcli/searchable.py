"""Searchable PDFs: OCR a PDF's pages and graft a text layer onto them, or wrap images in a PDF
with one. Either way the PDF is written atomically and the OCR document (the sidecar) returned,
its coordinates matching the PDF pages (points = pixels * 72 / dpi, displayed frame)."""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import os
import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf
import pypdfium2 as pdfium

from ocrcli import fingerprint, linesplit, models, pdfgraft, pdfpages
from ocrcli.document import ROW_TILT, Document, Page, Word, shows_text
from ocrcli.errors import (
    GONE,
    BadInputError,
    UsageError,
    counted,
    input_size,
    one_line,
    reading_input,
)
from ocrcli.imageio import iter_pages, read_page
from ocrcli.imagepdf import images_pdf
from ocrcli.pdffont import GlyphlessFont
from ocrcli.safewrite import write_atomically
from ocrcli.textlayer import layer_content

if TYPE_CHECKING:  # the batch runner's parent process grafts pages without loading onnxruntime
    from ocrcli.pipeline import Engine
    from ocrcli.pool import EngineSpec


class ExistingText(StrEnum):
    """What to do with a page that already has text."""

    skip = "skip"  # leave it alone and report it (the default)
    redo = "redo"  # replace an earlier invisible OCR layer; pages with visible text are skipped
    force = "force"  # OCR every page; earlier OCR layers are replaced, visible text is not doubled


# An OCR word lying on the page's own text is a reading of it only if it is at least this share of
# the text's height: the scan's words under a watermark in large letters lie on it too, at a
# quarter of its height or less, where readings of the page's own text measured 0.8 and up (3,988
# words of the 15 PDFs with text in ../shared/data/pdfs, with --force).
READING_HEIGHT = 0.5
PAGE_RANGE = re.compile(r"([0-9]+)\s*(?:(-)\s*([0-9]*))?")  # ASCII digits: int() also took "1_0", "+2"
TO_THE_END = sys.maxsize  # the end of an open range ("5-")


@dataclass(frozen=True)
class PageSelection:
    """1-based page ranges, inclusive, as --pages gives them ("1-3,7"): kept as ranges, so a
    range as wide as "1-99999999999" costs nothing."""

    ranges: tuple[tuple[int, int], ...]

    def __contains__(self, number: int) -> bool:
        return any(lo <= number <= hi for lo, hi in self.ranges)

    def __str__(self) -> str:
        return ",".join(
            str(lo) if lo == hi else f"{lo}-" if hi == TO_THE_END else f"{lo}-{hi}" for lo, hi in self.ranges
        )

    def selects_any(self, page_count: int) -> bool:
        """Whether any selected page is in a document of `page_count` pages."""
        return self.ranges[0][0] <= page_count  # ranges are sorted and merged

    def count_in(self, page_count: int) -> int:
        """How many selected pages a document of `page_count` pages has."""
        return sum(max(0, min(hi, page_count) - lo + 1) for lo, hi in self.ranges)  # disjoint ranges

    def missing_from(self, page_count: int) -> str | None:
        """The part of the selection past a document's last page, if any ("7" of "1-3,7")."""
        # an open range reaches past the end only if it starts there ("7-" of a 3-page PDF)
        beyond = [
            (max(lo, page_count + 1), hi)
            for lo, hi in self.ranges
            if hi > page_count and (hi < TO_THE_END or lo > page_count)
        ]
        return str(PageSelection(tuple(beyond))) if beyond else None


@dataclass
class PdfOptions:
    pages: PageSelection | None = None  # pages to OCR; None: all
    existing_text: ExistingText = ExistingText.skip
    password: str | None = None
    invalidate_signatures: bool = False
    rotate_pages: bool = False  # show pages whose text is turned upright (see PdfGrafter)
    pdfa: bool = False  # PDFs made from images are PDF/A-2b (ocr scan; see ocrcli.pdfa)


def parse_page_ranges(spec: str) -> PageSelection:
    """ "1-3,7" -> pages 1 to 3 and 7, "5-" -> 5 to the last; raises ValueError with the reason."""
    ranges = []
    for part in spec.split(","):
        match = PAGE_RANGE.fullmatch(part.strip())
        if not match:
            raise ValueError(f"{part.strip()!r} is not a page number or a range like 2-5 or 2-")
        first, dash, last = match.groups()
        lo = int(first)
        hi = int(last) if last else TO_THE_END if dash else lo
        if lo < 1 or hi < lo:
            raise ValueError(f"{part.strip()!r} is not a range of pages from 1 up")
        ranges.append((lo, hi))
    merged: list[tuple[int, int]] = []  # "1,2,3" and "1-3" are one selection
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return PageSelection(tuple(merged))


@dataclass
class PageReading:
    """One page's OCR result and what grafting it onto its PDF page needs."""

    page: Page
    visible_text: list[pdfpages.TextObject] = field(default_factory=list)  # the page's own text
    replace_layers: bool = False  # remove earlier OCR layers from the page first
    # The engine's RecognizerSettings.min_page_confidence, which the words left once those on the
    # page's own text are dropped must meet on their own (0: keep them all)
    min_page_confidence: float = 0.0
    blank: bool = False  # the PDF page rendered in one colour (see _damaged)


# Told the pages done and the document's page count, after each page (a progress display)
PagesDone = Callable[[int, int], None]


def ocr_pdf(
    engine: Engine,
    source: Path,
    dest: Path | None,
    options: PdfOptions | None = None,
    progress: PagesDone | None = None,
) -> Document:
    """OCR `source` and write the searchable PDF to `dest` (which may be `source` itself; None
    writes none)."""
    options = options or PdfOptions()

    def readings(opened: pdfpages.OpenPdf) -> Iterator[PageReading]:
        for index, page in enumerate(opened.pdf.pages):
            yield read_pdf_page(engine, opened.render, index, options, source, pdfpages.user_unit(page))

    return _ocr_pdf(readings, engine.models.names(), source, dest, options, progress)


def ocr_pdf_in_worker(
    spec: EngineSpec,
    source: Path,
    dest: Path | None,
    options: PdfOptions,
    page_timeout: float,
    progress: PagesDone | None = None,
) -> Document:
    """ocr_pdf, each page rendered and OCRed in a worker process (ocr scan's pool, of one), which
    is stopped if a page takes over `page_timeout` seconds: the document then fails."""
    from ocrcli.pool import PageTask, TaskFailed, WorkerPool

    def readings(opened: pdfpages.OpenPdf) -> Iterator[PageReading]:
        opened.render.close()  # the worker renders; this process grafts
        tasks = (
            (index, PageTask("pdf", str(source), index, options, pdfpages.user_unit(page)))
            for index, page in enumerate(opened.pdf.pages)
        )
        with WorkerPool(1, spec, page_timeout) as pool:
            for _, result in pool.run(tasks):  # one worker: in page order
                if isinstance(result, TaskFailed):
                    raise result  # it names the file and page; a timeout is exit 3, as in ocr scan
                yield result

    names = models.select(spec.tier, spec.models_dir).names()
    return _ocr_pdf(readings, names, source, dest, options, progress)


def _ocr_pdf(
    readings: Callable[[pdfpages.OpenPdf], Iterator[PageReading]],
    model_names: dict[str, str],
    source: Path,
    dest: Path | None,
    options: PdfOptions,
    progress: PagesDone | None = None,
) -> Document:
    """OCR `source`, its pages read by `readings`, and write the searchable PDF to `dest` (None:
    only read it; every word read is kept, also those on the page's own text with --force)."""
    start = time.perf_counter()
    input_size(source, "a PDF")  # first: it says why a path is no file (and a pipe is not hashed)
    with reading_input(source):
        # Before it is opened: a version saved from here on is seen before the rename. Hashed after,
        # a version an editor saved as it was opened was taken for the one read, and replaced.
        now, st = time.time_ns(), os.stat(source)
        sha256 = fingerprint.file_sha256(source)
    hashed = fingerprint.settled_stat(st, now)
    if dest is None:  # nothing is rewritten, so a signature does not matter
        options = replace(options, invalidate_signatures=True)
    with fingerprint.changes_told([source], [sha256], [hashed]):
        opened = open_for_ocr(source, options)  # it says why a file is no readable PDF
        try:
            count = len(opened.pdf.pages)
            refuse_unselected(source, options.pages, count)
            # Closed on a failure, before the input is looked at again: a worker reading pages
            # (ocr_pdf_in_worker) stops then, not when the generator is collected.
            with contextlib.closing(_counted(readings(opened), count, options.pages, progress)) as counted:
                if dest is None:
                    checked = DamageCheck(opened.pdf)
                    pages = [checked.add(index, reading) for index, reading in enumerate(counted)]
                    # Pages are read lazily: not two versions mixed (a settled stat unchanged is no change)
                    fingerprint.verify_unchanged(source, sha256, hashed_stat=hashed)
                else:
                    with rewrite_errors(source):
                        grafter = PdfGrafter(opened.pdf, rotate_pages=options.rotate_pages)
                        pages = [grafter.add(index, reading) for index, reading in enumerate(counted)]
                        grafter.save(dest, source, options.password, sha256)
        finally:
            opened.close()
    origin = {"path": str(source), "sha256": sha256}
    return Document(origin, pages, model_names, {"total": time.perf_counter() - start})


def _counted(
    readings: Iterator[PageReading], count: int, pages: PageSelection | None, progress: PagesDone | None
) -> Iterator[PageReading]:
    """The readings of a document of `count` pages, `progress` told of each selected page as it
    comes and of their number before the first (--pages 5 of 300 is one page to read)."""
    if progress is None:
        yield from readings
        return
    total, done = count if pages is None else pages.count_in(count), 0
    progress(done, total)
    for reading in readings:
        if reading.page.skip_kind != "not-selected":
            done += 1
            progress(done, total)
        yield reading


def refuse_unselected(source: Path, pages: PageSelection | None, count: int) -> None:
    """UsageError (kind options) for a PDF of `count` pages of which --pages selects none."""
    if pages is not None and not pages.selects_any(count):
        raise UsageError(source, f"--pages {pages}: it has {counted(count, 'page')}")


def past_the_end(source: str | Path, pages: PageSelection | None, count: int) -> str | None:
    """The line that says which of the --pages a PDF of `count` pages lacks, if any."""
    if pages is not None and (beyond := pages.missing_from(count)):
        return f"{source}: --pages {beyond}: past its last page ({count})"
    return None


def images_to_pdf(
    engine: Engine,
    sources: list[Path],
    dest: Path,
    rotate_pages: bool = False,
    pdfa: bool = False,
    progress: PagesDone | None = None,
) -> Document:
    """Wrap the images (every frame of a multi-page TIFF) in one searchable PDF, a page per frame
    at the size its resolution gives; image data is embedded losslessly by img2pdf. PDF/A-2b with
    `pdfa`."""
    start = time.perf_counter()
    # Before they are read (img2pdf embeds them, then each is read again): a version saved meanwhile is seen
    digests = [fingerprint.input_sha256(source) for source in sources]
    with fingerprint.changes_told(sources, digests):  # an image saved over as it is read: "changed"
        grafter = PdfGrafter(images_pdf(sources, pdfa), from_images=True, rotate_pages=rotate_pages)
        pages: list[Page] = []
        total = len(grafter.pdf.pages)
        if progress is not None:
            progress(0, total)
        for index, source in enumerate(sources):
            for number, frame in enumerate(iter_pages(source), 1):
                if len(pages) >= len(grafter.pdf.pages):  # unless frames were added meanwhile
                    raise BadInputError(source, "img2pdf made fewer pages than the image has frames")
                page = engine.read_page(frame.image, len(pages) + 1, frame.dpi)
                if len(sources) > 1:  # which image it is (source.paths), which of its frames
                    page.image = index, number
                pages.append(grafter.add(len(pages), PageReading(page)))
                if progress is not None:
                    progress(len(pages), total)
        if len(pages) != len(grafter.pdf.pages):  # unless frames went meanwhile
            raise BadInputError(sources[-1], "img2pdf made more pages than the images have frames")
    for source, digest in zip(sources[1:], digests[1:], strict=True):  # the first: as it is saved
        fingerprint.verify_unchanged(source, digest)
    grafter.save(dest, sources[0], source_sha256=digests[0], made_from=sources)
    origin = {"path": str(sources[0]), "sha256": digests[0]}
    if len(sources) > 1:
        origin["paths"] = [str(s) for s in sources]
    return Document(origin, pages, engine.models.names(), {"total": time.perf_counter() - start})


def open_for_ocr(source: Path, options: PdfOptions) -> pdfpages.OpenPdf:
    """Open a PDF to OCR, refusing a signed one unless the user accepted breaking the signature."""
    opened = pdfpages.open_pdf(source, options.password)
    if pdfpages.is_signed(opened.pdf) and not options.invalidate_signatures:
        opened.close()
        raise pdfpages.SignedError(
            source,
            "digitally signed; rewriting it would break the signature "
            "(pass --invalidate-signatures to accept that)",
        )
    return opened


@contextlib.contextmanager
def rewrite_errors(source: Path) -> Iterator[None]:
    """qpdf's errors while editing or saving, as the user's one-line error about `source`."""
    try:
        yield
    except (pikepdf.PdfError, pikepdf.ForeignObjectError) as exc:
        raise BadInputError(source, f"cannot rewrite this PDF ({one_line(exc)})") from None


def read_pdf_page(
    engine: Engine,
    document: pdfium.PdfDocument,
    index: int,
    options: PdfOptions,
    source: str | Path,
    unit: float = 1.0,
) -> PageReading:
    """Render and OCR page `index` of the PDF at `source` (whose /UserUnit is `unit`), unless its
    existing text says to skip it."""
    number = index + 1
    rendered = pdfpages.load_page(document, index, source)
    try:
        dpi = pdfpages.render_dpi(rendered, unit)
        width_pt, height_pt = rendered.get_size()
        width, height = pdfpages.render_size(rendered, dpi)  # a skipped page's size, as if OCRed
        # A page left out is not looked into for text: only its size is reported
        text = pdfpages.page_text(rendered) if _selected(number, options) else pdfpages.PageText([], 0)
        skip = _reason_to_skip(number, text, options) or _reason_not_to_render(width_pt, height_pt, dpi)
        if skip:
            kind, reason = skip
            return PageReading(Page(number, width, height, dpi, skipped=reason, skip_kind=kind))
        image = pdfpages.render(rendered, dpi)
        blank = pdfpages.blank(image)
        if blank and pdfpages.lost_image(rendered):  # pdfium drew the page without it
            reason = "an image on the page cannot be decoded"
            return PageReading(Page(number, width, height, dpi, skipped=reason, skip_kind="damaged"))
        page = engine.read_page(image, number, dpi)
        if text.visible:  # OCRed all the same (--force, a stamped scan): what its own text says
            text = pdfpages.page_text(rendered, read=True)
        replace = options.existing_text is not ExistingText.skip
        confidence = engine.recognizer_settings.min_page_confidence
        return PageReading(page, text.visible, replace, min_page_confidence=confidence, blank=blank)
    finally:
        rendered.close()


def read_image_page(engine: Engine, source: Path, index: int) -> PageReading:
    """OCR frame `index` of an image file (its dpi is set when grafted onto its PDF page)."""
    frame = read_page(source, index)
    return PageReading(engine.read_page(frame.image, index + 1, frame.dpi))


class PdfGrafter:
    """Grafts OCR'd pages, in any order, onto the pages of an open PDF; then saves it."""

    def __init__(self, pdf: pikepdf.Pdf, from_images: bool = False, rotate_pages: bool = False):
        self.pdf = pdf
        self.from_images = from_images  # the PDF was made from images by img2pdf (images_pdf)
        self.rotate_pages = rotate_pages  # show pages whose text is turned upright (--rotate-pages)
        self.font = GlyphlessFont(pdf)
        self.changed_pages = 0  # pages given a text layer, rid of one or turned: 0 leaves the PDF as it was
        # Listed once: pikepdf's pages[i] lists them all each time, 0.7 ms a page of 20,000, so
        # a 100,000-page PDF took 376 s with --pages 1 (an hour to OCR it whole, for nothing).
        self.pages = list(pdf.pages)

    def add(self, index: int, reading: PageReading) -> Page:
        """Graft the reading of page `index` and return its page, in the PDF page's coordinates."""
        page = reading.page
        pdf_page = self.pages[index]
        if page.skipped:  # the layer on it, if ours, tells which earlier sidecar entry it keeps
            page.layer_sha256 = pdfgraft.layer_sha256(pdf_page)
            return page
        if not reading.replace_layers and (damaged := _damaged(reading, pdf_page)):
            return damaged  # left as it is; with --redo or --force, rewriting it fails instead
        removed = False  # an earlier OCR layer taken off (--redo, --force)
        try:  # before any change: a page too complex to rewrite is left as it is
            if page.lines or reading.replace_layers:
                pdfgraft.count_tokens(pdfgraft.content_streams(pdf_page))
            if reading.replace_layers:
                removed = pdfgraft.remove_text_layers(self.pdf, pdf_page)
        except pdfgraft.TooComplex as exc:
            return Page(
                page.page, page.width, page.height, page.dpi, skipped=str(exc), skip_kind="too-complex"
            )
        # Turned only where text was read: the classifier gives a page with none (scribbles, a
        # drawing) an orientation too, and --rotate-pages turned such a page upside down. Found
        # before --force drops the words on the page's own text, which is read as well.
        turn = self.rotate_pages and page.orientation != 0 and bool(page.lines)
        if self.from_images:
            _, width_pt, _ = pdfgraft.display_frame(pdf_page)
            page.dpi = page.width * 72 / width_pt  # the page's true resolution, as img2pdf sized it
            if page.orientation:
                pdfgraft.turn_user_space(pdf_page, page.orientation)
        if reading.visible_text:  # --force, a stamped scan: the page's own text is not doubled
            _drop_words_on_text(page, reading.visible_text, pdf_page, page.dpi)
            # The page's own text, read, vouched for the page (see shows_text): what is left must
            # do so alone. A slide's textured background read as lone letters ("2", "S", 0.4-0.9)
            # under its title, where the picture alone gives nothing.
            if not shows_text(page.lines, reading.min_page_confidence):
                page.lines = []
        # A page with nothing to add (--redo and --force too, with no old layer to take off) is
        # left as it was; one turned upright (--rotate-pages) is not, also when its words all lay
        # on its own text and were dropped
        if page.lines or removed or turn:
            self.changed_pages += 1
        if turn:
            pdfgraft.show_turned_back(pdf_page, page.orientation)
            page = page.upright()
        _graft(self.pdf, pdf_page, page, self.font)  # nothing on a page with no words
        if self.from_images:  # our own page: one content stream instead of the image's and the layer's
            pdf_page.contents_coalesce()
        page.layer_sha256 = pdfgraft.layer_sha256(pdf_page) if page.lines else None
        return page

    def save(
        self,
        dest: Path,
        source: Path,
        password: str | None = None,
        source_sha256: str | None = None,
        made_from: Sequence[Path] | None = None,
    ) -> None:
        """Write the PDF to `dest`, if the source still has the `source_sha256` it was read with;
        it is made from `made_from` (default: the source), whose permissions bound its own.
        One with no page changed is not rewritten: in place it stays byte for byte as it was, and
        another destination gets an exact copy of the source. Checked for every destination: a
        source saved over while it was OCRed (its pages are read lazily) gave -o a corrupt PDF,
        mixing the two versions, reported as done."""
        inputs = [source] if made_from is None else made_from
        if source_sha256 is not None and not source.exists():  # its folder too: it was made again
            raise BadInputError(source, GONE, "changed")
        if self.changed_pages == 0 and not self.from_images:
            _refuse_damaged(self.pdf)  # as a rewrite would
            unchanged = _same_as(source, source_sha256)
            if not (dest.exists() and dest.samefile(source)):
                write_atomically(dest, functools.partial(shutil.copyfile, source), unchanged, inputs)
            elif unchanged is not None:
                # Left as it is in place, but saved over while it was read: its sidecar would
                # vouch for the newer file, read as nothing (exit 0), as ocr scan's does not
                unchanged(source)
            return
        self.font.finish()
        unchanged = _same_as(source, source_sha256)
        _save(self.pdf, dest, source, self.from_images, password, source_check=unchanged, made_from=inputs)

    def close(self) -> None:
        self.pdf.close()


class DamageCheck:
    """The pages of a PDF that is only read (--json or --text alone, `ocr scan --no-pdf`), as
    PdfGrafter.add gives them but for the grafting: each as read, or skipped as damaged if it
    rendered blank and its content cannot be decoded (see _damaged)."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.pages = list(pdf.pages)  # listed once (see PdfGrafter)

    def add(self, index: int, reading: PageReading) -> Page:
        return _damaged(reading, self.pages[index]) or reading.page

    def close(self) -> None:
        self.pdf.close()


def _same_as(source: Path, sha256: str | None) -> Callable[[Path], None] | None:
    """A check that a file (a copy of `source`, or `source` itself when it is to be replaced) has
    the content `source` was read with (None: no check)."""
    if sha256 is None:
        return None
    return functools.partial(fingerprint.verify_unchanged, sha256=sha256, source=source)


def _drop_words_on_text(
    result: Page, texts: list[pdfpages.TextObject], page: pikepdf.Page, dpi: float
) -> None:
    """Drop OCR words that are readings of the page's own text, so extractors do not read it
    twice; the sidecar then lists the words the layer adds (text in images). A word is one when at
    least half of its middle line, along its length, runs over text objects that it could read:
    running along their line (or a vertical line's column), and not under half as high as they are
    across it (see READING_HEIGHT). Over their corners, not their bounds, which for a diagonal
    watermark cover most of the page; and over all of them: pdfium bounds a text object by its
    glyphs' ink, so a word the PDF draws in pieces (a character per Tj, as some makers write, or
    "1" and ": caption" apart) has gaps between them, where its centre alone often fell, and the
    word was drawn twice."""
    matrix, _, height_pt = pdfgraft.display_frame(page)
    to_display = pdfgraft.invert(matrix)
    scale = dpi / 72

    def displayed(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
        moved = (pdfgraft.apply(to_display, x, y) for x, y in points)
        return [(x * scale, (height_pt - y) * scale) for x, y in moved]

    shapes = []  # each text object in the page's pixels as displayed
    for text in texts:
        corners = displayed(text.corners)
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        bounds = (min(xs), min(ys), max(xs), max(ys))
        shapes.append(_Shown(bounds, corners, text.text, displayed(text.origins)))

    def on_text(word: Word) -> bool:
        top_left, top_right, bottom_right, bottom_left = zip(word.quad[0::2], word.quad[1::2], strict=True)
        start, end = _halfway(top_left, bottom_left), _halfway(top_right, bottom_right)
        height = (math.dist(top_left, bottom_left) + math.dist(top_right, bottom_right)) / 2
        # a word no longer than high (a lone glyph) has no direction to go by: its quad may lie at 45°
        direction = (end[0] - start[0], end[1] - start[1]) if math.dist(start, end) > height else None
        reach = (min(start[0], end[0]), min(start[1], end[1]), max(start[0], end[0]), max(start[1], end[1]))
        near = (shown for shown in shapes if _overlap(shown.bounds, reach))  # 80 times as fast
        tall = (shown for shown in near if _across(shown.corners, direction) * READING_HEIGHT <= height)
        spans = sorted(
            (
                (span, _said_under(start, end, height, shown.said, shown.origins))
                for shown in tall
                if (span := _clipped(start, end, shown.corners))
            ),
            key=lambda pair: pair[0],
        )
        covered = reached = 0.0
        for (lo, hi), _ in spans:
            lo = max(lo, reached)
            if hi > lo:
                covered, reached = covered + hi - lo, hi
        # a word with no length (start == end): its point
        on_it = bool(spans) if start == end else covered >= 0.5
        return on_it and _says(word.text, [said for _, said in spans])

    result.lines = [
        part
        for line in result.lines
        for part in linesplit.kept_parts(line, [not on_text(w) for w in line.words])
    ]
    # A block whose lines all went leaves no gap in the numbering: a line's block indexes `blocks`.
    numbers = {block: number for number, block in enumerate(sorted({line.block for line in result.lines}))}
    for line in result.lines:
        line.block = numbers[line.block]


@dataclass
class _Shown:
    """A text object of the page as _drop_words_on_text measures it, in the page's pixels as displayed."""

    bounds: tuple[float, float, float, float]
    corners: list[tuple[float, float]]  # from the start of its baseline, counter-clockwise
    said: str | None  # what it says (None: not read)
    origins: list[tuple[float, float]]  # where each of its characters starts


def _said_under(
    start: tuple[float, float],
    end: tuple[float, float],
    height: float,
    said: str | None,
    origins: list[tuple[float, float]],
) -> str | None:
    """What a text object saying `said`, its characters starting at `origins`, says under a word
    whose middle line runs from `start` to `end` (`height` high): the characters starting along
    it, or up to half its height before or after it. A stamp's whole line ("RECEIVED 12 March 2024
    into the archive") said nearly every short word of the scan's line under it ("to" in "into",
    "This" in "with"), and they were dropped as readings of it."""
    length = math.dist(start, end)
    if said is None or len(origins) != len(said) or length <= 0:
        return said
    slack = height / 2 / length
    along = ((x - start[0]) * (end[0] - start[0]) + (y - start[1]) * (end[1] - start[1]) for x, y in origins)
    return "".join(c for c, at in zip(said, along, strict=True) if -slack <= at / length**2 <= 1 + slack)


def _says(word: str, texts: list[str | None]) -> bool:
    """Could the page's own text objects under a word, saying `texts` along it (see _said_under, in
    order; None: not read), be what OCR read as `word`? Yes if what they say holds two thirds of
    the word's letters and digits in order, case and compatibility forms aside (ﬁ is fi): a
    misread letter or two still leaves that much. At half of them in a row, a stamp over a scan's
    line said "point" ("2024 into") and "is" ("IVE"), and they were dropped. A font whose
    characters map to the wrong Unicode (a Type3 font without ToUnicode, bytes read the wrong way
    round: "䴀甀" for "Mu") says none of them, and the words read on it are kept: --force dropped
    them all, and the page stayed unsearchable. A word of fewer than two letters or digits goes
    by position alone: a symbol the page draws as text (a form's "▶") is read as "1" or "A", and
    its own text does say it."""
    wanted = _letters(word)
    if len(wanted) < 2 or any(text is None for text in texts):
        return True
    said = _letters("".join(texts))  # type: ignore[arg-type]  # None ruled out above
    blocks = difflib.SequenceMatcher(None, wanted, said, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) * 3 >= len(wanted) * 2


def _letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def _halfway(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return (a[0] + b[0]) / 2, (a[1] + b[1]) / 2


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Do the boxes (x0, y0, x1, y1) meet?"""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _across(shape: list[tuple[float, float]], direction: tuple[float, float] | None) -> float:
    """How far a text object (its corners from the start of its baseline) reaches across a word
    running in `direction` along one of its sides, its line or (vertical writing) its column,
    within ROW_TILT degrees; infinitely far for a word running across it, and its shorter side
    for a word with no direction (None)."""
    (x0, y0), (x1, y1), _, (x3, y3) = shape
    sides = [(x1 - x0, y1 - y0), (x3 - x0, y3 - y0)]
    if direction is None:
        return min(math.hypot(*side) for side in sides)
    for along, other in (sides, sides[::-1]):
        cross = direction[0] * along[1] - direction[1] * along[0]
        dot = direction[0] * along[0] + direction[1] * along[1]
        if math.degrees(math.atan2(abs(cross), abs(dot))) <= ROW_TILT:
            return math.hypot(*other)
    return math.inf


def _clipped(
    start: tuple[float, float], end: tuple[float, float], shape: list[tuple[float, float]]
) -> tuple[float, float] | None:
    """The part of the segment from `start` to `end` inside the convex `shape`, as fractions of the
    way along it (Cyrus-Beck clipping); None if none is."""
    (x, y), dx, dy = start, end[0] - start[0], end[1] - start[1]
    edges = list(zip(shape, [*shape[1:], shape[0]], strict=True))
    turn = 1.0 if sum(ax * by - bx * ay for (ax, ay), (bx, by) in edges) >= 0 else -1.0
    lo, hi = 0.0, 1.0
    for (ax, ay), (bx, by) in edges:  # inside: on the same side of every edge
        side = turn * ((bx - ax) * (y - ay) - (by - ay) * (x - ax))  # of the start
        rate = turn * ((bx - ax) * dy - (by - ay) * dx)  # its change along the segment
        if rate > 0:
            lo = max(lo, -side / rate)
        elif rate < 0:
            hi = min(hi, -side / rate)
        elif side < 0:
            return None
    return (lo, hi) if lo <= hi else None


def _damaged(reading: PageReading, pdf_page: pikepdf.Page) -> Page | None:
    """The page skipped as damaged, if it rendered blank and its content cannot be decoded: pdfium
    draws nothing of content it cannot inflate and says nothing, so such a page read as one with
    no text, exit 0, its PDF copied as it was (found by mutating PDFs: a content stream's Flate
    data garbled). Only blank pages are looked into (the grafting process reads no other page's
    content for this); content too large to count is not called damaged."""
    page = reading.page
    if page.skipped or not reading.blank:
        return None
    try:
        pdfgraft.count_tokens(pdfgraft.content_streams(pdf_page))
    except pdfgraft.TooComplex:
        return None
    except pikepdf.PdfError:
        reason = "its content cannot be decoded"
        return Page(page.page, page.width, page.height, page.dpi, skipped=reason, skip_kind="damaged")
    return None


def _reason_to_skip(number: int, text: pdfpages.PageText, options: PdfOptions) -> tuple[str, str] | None:
    """Why not to OCR page `number`, as (its kind, one of SKIP_KINDS; the reason in words)."""
    if not _selected(number, options):
        return "not-selected", "not in --pages"
    if options.existing_text is ExistingText.force:
        return None
    if text.visible and not text.stamp:
        return "has-text", "page has text (--force to OCR it anyway)"
    if text.invisible and options.existing_text is ExistingText.skip:
        return "has-ocr-layer", "page has an OCR text layer (--redo to OCR it again)"
    return None


def _selected(number: int, options: PdfOptions) -> bool:
    """Is page `number` among those --pages asks for (all without it)?"""
    return options.pages is None or number in options.pages


def _reason_not_to_render(width_pt: float, height_pt: float, dpi: float) -> tuple[str, str] | None:
    """A page less than a pixel wide or high shows nothing (pdfium makes a CropBox that lies
    outside the MediaBox 0 x 0), and rendering it failed: 'unexpected ValueError', exit 1."""
    if min(width_pt, height_pt) * dpi / 72 < 1:
        return "shows-nothing", f"the page shows nothing ({width_pt:g} x {height_pt:g} pt as displayed)"
    return None


def _graft(pdf: pikepdf.Pdf, pdf_page: pikepdf.Page, page: Page, font: GlyphlessFont) -> None:
    if not page.lines:
        return
    _, width_pt, height_pt = pdfgraft.display_frame(pdf_page)
    points_per_px = width_pt / page.width
    pdfgraft.add_text_layer(pdf, pdf_page, layer_content(page, font, points_per_px, height_pt), font)


def _refuse_damaged(pdf: pikepdf.Pdf) -> None:
    """Raise a pikepdf.DataDecodingError (a PdfError: see rewrite_errors) for a PDF whose XMP
    stream cannot be decoded, before any file is made. pikepdf's XMP update (off: see _save)
    refused such a PDF; so do we: the damage marks a broken file (a fuzzed one, whose page renders
    blank), and XMP we cannot read is XMP we cannot say we kept."""
    if isinstance(metadata := pdf.Root.get("/Metadata"), pikepdf.Stream):
        pdfpages.decoded(metadata)


def _save(
    pdf: pikepdf.Pdf,
    dest: Path,
    source: Path,
    compact: bool = False,
    password: str | None = None,
    source_check: Callable[[Path], None] | None = None,
    made_from: Sequence[Path] = (),
) -> None:
    """Write atomically. A user's PDF keeps its structure (object streams or not, linearized or
    not) and its encryption (same passwords and permissions); a PDF we made from images packs its
    objects into object streams (compact). `source_check(source)` runs last before the rename: a
    PDF replaced in place must still be the version that was OCRed (a user's editor may have saved
    a newer one meanwhile, which the OCR of the old one replaced). The files it is `made_from`
    bound its permissions (see safewrite.output_mode)."""
    _refuse_damaged(pdf)
    expected_pages = len(pdf.pages)
    objects = pikepdf.ObjectStreamMode.generate if compact else pikepdf.ObjectStreamMode.preserve
    linearize = pdf.is_linearized and not compact  # a PDF made for fast web view stays so

    def write(tmp: Path) -> None:
        # Streams are copied as they are: images are never decoded and re-encoded. That takes
        # compress_streams off: with it on (pikepdf's default), qpdf decoded and recompressed every
        # stream not filtered by the name /FlateDecode alone, at any decode level: LZW, ASCII85,
        # [/FlateDecode] in an array (ImageMagick's and reportlab's images, a PNG predictor
        # dropped with it) and uncompressed ones. So a user's PDF gets no compression from qpdf;
        # the streams we add are compressed as they are made (pdffont.flate_stream). A PDF we made
        # from images is ours to compress. An encrypted PDF keeps the input's encryption (qpdf then
        # refuses a decode level, and decodes nothing unless it compresses). Saved through a file
        # object: pikepdf takes only UTF-8 paths (see open_pikepdf).
        keep: dict = (
            {"encryption": True}
            if pdf.is_encrypted
            else {"stream_decode_level": pikepdf.StreamDecodeLevel.none}
        )
        # fix_metadata_version off: pikepdf re-serialised every XMP packet to update a PDF version
        # in it (which we do not change), dropping its padding and "repairing" malformed XMP.
        with open(tmp, "wb") as out:
            pdf.save(
                out,
                object_stream_mode=objects,
                linearize=linearize,
                fix_metadata_version=False,
                compress_streams=compact,
                **keep,
            )

    def verify(tmp: Path) -> None:
        with pdfpages.open_pikepdf(tmp, password) as check:
            if len(check.pages) != expected_pages:
                raise BadInputError(source, "the written PDF did not verify (page count changed)")
            check.Root.Pages  # noqa: B018 - the page tree must resolve
        if source_check is not None:
            source_check(source)

    write_atomically(dest, write, verify, made_from)
