"""Reading PDF input: open it (pikepdf to edit, pdfium to render), tell which pages already have
text, and render a page as an RGB image at a resolution that suits its content."""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import math
import os
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocrcli.errors import BadInputError, OcrError, input_size, one_line, reading_input
from ocrcli.imageio import header_kind

DEFAULT_DPI = 300.0  # pages without images (vector art, text as curves)
MIN_DPI, MAX_DPI = 100.0, 400.0  # scans are rendered at their own resolution within these bounds
# A page is rendered at no more pixels (about 120 MB in RGB): a larger one at a lower resolution,
# which its JSON's dpi gives. Not a setting: an undocumented variable that set it ended in a
# traceback on a value that was no whole number.
MAX_RENDER_PIXELS = 40_000_000
INVISIBLE = 3  # text render mode
# A page whose images cover this share of it is a scan; text drawn over them is a stamp, and so
# is text under them of fewer characters than this (see page_text).
SCAN_SHARE = 0.9
STAMP_CHARACTERS = 200
COVERAGE_CELLS = 200  # the crop box is measured for images in this many cells across and down
# The most a PDF's XMP metadata (the catalog's /Metadata) may decode to: pdfium decodes it when it
# opens the document, and qpdf writes it uncompressed (for PDF/A). A 1 MB PDF whose XMP inflated
# to 1 GB (Flate's most) took pdfium 30 s and 8.3 GB to open, in the process that grafts every
# document of an ocr scan, which a 4 GB limit killed outright (SIGABRT). XMP packets are
# kilobytes, a few MB with thumbnails and a long edit history.
MAX_METADATA_BYTES = 64 << 20
_PIECE = 1 << 24  # bytes of a stream decoded at a time (see decoded_pieces)
MAX_PAGES = 100_000  # see _pages_over: about 250 MB in qpdf, and 20 hours of OCR on one core
MAX_FORM_DEPTH = 15  # levels of forms drawn by forms looked into, as pypdfium2 does by default
# Levels of a form field's /Parent chain looked up for the field type a widget inherits: pdfium
# (Chrome) looks 32 up (kGetFieldMaxRecursion), and real forms nest a few.
MAX_FIELD_DEPTH = 32

# Damage qpdf repairs as it reads (a page tree holding something other than a page) it reports
# through pikepdf's logger, and with no handler anywhere Python printed each report bare on stderr,
# naming no file, beside the one-line message that does. What the repair leaves wrong is reported
# as that message (a page that cannot be rendered, say).
logging.getLogger("pikepdf").addHandler(logging.NullHandler())


class EncryptedError(BadInputError):
    """The PDF needs a password we do not have (or the one given is wrong)."""

    kind = "encrypted"


class SignedError(BadInputError):
    """The PDF carries a digital signature that rewriting it would break."""

    kind = "signed"


Corners = tuple[tuple[float, float], ...]  # a text object's four, from the start of its baseline


@dataclass(frozen=True)
class TextObject:
    corners: Corners  # in the page's user space (turned with its text)
    text: str | None = None  # its characters as pdfium extracts them; None: not read (see page_text)
    origins: tuple[tuple[float, float], ...] = ()  # where each character of `text` starts, in user space


@dataclass
class PageText:
    visible: list[TextObject]  # the visible text objects
    invisible: int  # text objects in render mode 3 (an OCR layer)
    stamp: bool = False  # the visible text is a stamp on a scanned image (see page_text)


@dataclass
class OpenPdf:
    pdf: pikepdf.Pdf  # to edit and save
    render: pdfium.PdfDocument  # to render and inspect text

    def close(self) -> None:
        self.render.close()
        self.pdf.close()


def open_pikepdf(path: str | os.PathLike, password: str | None = None) -> pikepdf.Pdf:
    """pikepdf.open, also for a path that is not valid UTF-8 (a name made on another system, such
    as b"bad\\xffname.pdf"): pikepdf takes only UTF-8 paths, so such a file is read into memory.
    A password the PDF does not need (none, or a wrong owner password where the document opens
    without one) is ignored, as viewers ignore it."""
    for attempt in _password_forms(password):
        with contextlib.suppress(pikepdf.PasswordError):
            return _pikepdf_open(path, attempt)
    return _pikepdf_open(path, None)  # raises PasswordError if the PDF needs a password


def _password_forms(password: str | None) -> list[str | bytes]:
    """The bytes a PDF's password may be: UTF-8 (AES-256), or PDFDocEncoding, as Acrobat writes
    the passwords of older encryption (RC4, AES-128), which pikepdf does not try: "pässwort" was a
    wrong password where viewers opened the file with it."""
    if not password:
        return []
    try:
        legacy = password.encode("pdfdoc")  # a codec pikepdf registers
    except UnicodeEncodeError:
        return [password]
    return [password] if legacy == password.encode() else [password, legacy]


def _pikepdf_open(path: str | os.PathLike, password: str | bytes | None) -> pikepdf.Pdf:
    """pikepdf.open, once the page tree is known to list at most MAX_PAGES pages (see
    _pages_over); else a BadInputError, kind too-large."""
    try:
        os.fspath(path).encode("utf-8")
        source: str | os.PathLike | bytes = path
    except UnicodeEncodeError:
        with open(path, "rb") as f:
            source = f.read()

    def opened(**options: bool) -> pikepdf.Pdf:
        with warnings.catch_warnings():  # pikepdf warns when the password was not needed
            warnings.filterwarnings("ignore", "A password was provided", UserWarning)
            file = io.BytesIO(source) if isinstance(source, bytes) else source
            return pikepdf.open(file, password=password or "", **options)

    with opened(inherit_page_attributes=False) as pdf:  # lazily: it reads no page yet
        too_many = _pages_over(pdf, MAX_PAGES)
    if too_many:
        raise BadInputError(
            path, f"over {MAX_PAGES:,} pages: split it first (qpdf --split-pages)", "too-large"
        )
    return opened()


def _pages_over(pdf: pikepdf.Pdf, limit: int) -> bool:
    """Does the page tree list over `limit` pages? qpdf holds about 2.5 KB of memory a page, also
    a page listed many times (which it copies): a 14 KB PDF listing one page a million times took
    2.5 GB to open, in the process that grafts every document of an ocr scan. Counted from the
    tree's /Kids, not its /Count, which may lie; a loop is not followed, and a tree too damaged to
    count is left for the real open to report."""
    pages, seen = 0, set()
    try:
        stack = [pdf.Root.Pages]
        while stack:
            node = stack.pop()
            kids = node.get("/Kids") if isinstance(node, pikepdf.Dictionary) else None
            if not isinstance(kids, pikepdf.Array):
                pages += 1
                if pages > limit:
                    return True
            elif not node.is_indirect or node.objgen not in seen:
                if node.is_indirect:
                    seen.add(node.objgen)
                stack.extend(kids)
    except Exception:  # noqa: BLE001 - damage: opening it says what is wrong
        return False
    return False


def needs_password(path: str | os.PathLike) -> bool:
    """Does the PDF open only with a password? Its text is then no one's without it: the JSON
    that holds it in the clear must not be readable by those who may read the PDF (a 0644 file
    whose encryption is what keeps it private), as it was."""
    try:
        _pikepdf_open(path, None).close()
    except pikepdf.PasswordError:
        return True
    except Exception:  # noqa: BLE001 - not a PDF we can open at all: nothing of it was read
        return False
    return False


def open_pdf(path: str | os.PathLike, password: str | None = None) -> OpenPdf:
    """Open a PDF for OCR, or raise a BadInputError that says why it cannot be."""
    if input_size(path, "a PDF") == 0:
        raise BadInputError(path, "file is empty (0 bytes)")  # as imageio says it
    try:
        with reading_input(path):  # unreadable: "unexpected PermissionError", exit 1
            pdf = open_pikepdf(path, password)
    except pikepdf.PasswordError:
        if _opens_without_password(path):  # viewers open it: no password would help
            # OCR reads the PDF through qpdf too, so not even `ocr pdf --text` can read it
            reason = "encrypted in a way qpdf cannot decrypt, though viewers open it: ocrcli cannot read it"
            raise BadInputError(path, reason, "unsupported") from None
        reason = "wrong password" if password else "encrypted: give its password with --password"
        raise EncryptedError(path, reason) from None
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        if (kind := header_kind(path)) not in (None, "PDF"):
            raise BadInputError(
                path, f"is a {kind} image, not a PDF: OCR it with `ocr image`", "unsupported"
            ) from None
        if kind is None and not _has_pdf_header(path):  # text, or a format we do not read
            raise BadInputError(path, "not a PDF (it has no %PDF- header)", "unsupported") from None
        raise BadInputError(path, f"not a readable PDF ({one_line(exc)})") from None
    try:
        if len(pdf.pages) == 0:
            raise BadInputError(path, "the PDF has no pages")
        if _metadata_over(pdf, MAX_METADATA_BYTES):  # before pdfium decodes it
            most = f"{MAX_METADATA_BYTES >> 20} MB"
            raise BadInputError(path, f"its XMP metadata decodes to over {most}", "too-large")
        document = open_for_rendering(path, password)
    except OcrError:
        pdf.close()
        raise
    except Exception as exc:  # qpdf raises its errors lazily, when the page tree is read
        pdf.close()
        raise BadInputError(path, f"not a readable PDF ({one_line(exc)})") from None
    return OpenPdf(pdf, document)


def _metadata_over(pdf: pikepdf.Pdf, limit: int) -> bool:
    """Does the document's XMP metadata decode to more than `limit` bytes? XMP that cannot be
    decoded (damaged, or of a filter qpdf does not know) is not, here: searchable._save refuses to
    rewrite such damage, but what only reads the PDF (ocr scan --no-pdf) reads it."""
    metadata = pdf.Root.get("/Metadata")
    if not isinstance(metadata, pikepdf.Stream):
        return False
    size = 0
    with contextlib.suppress(pikepdf.PdfError):  # its DataDecodingError, and "unfilterable stream"
        for piece in decoded_pieces(metadata):
            size += len(piece)
            if size > limit:
                return True
    return False


def decoded(stream: pikepdf.Stream) -> bytes:
    """The stream's data with every filter but the lossy image ones undone: read_bytes() alone
    leaves RunLengthDecode, a standard filter, on, and refused a page whose content used it ("cannot
    rewrite this PDF ... unfilterable stream", exit 3)."""
    return stream.read_bytes(decode_level=pikepdf.StreamDecodeLevel.specialized)


def decoded_pieces(stream: pikepdf.Stream) -> Iterator[bytes]:
    """The stream's decoded data in pieces of _PIECE bytes or so, in flat memory if its filters
    are Flate alone, once or more, without a predictor (as content streams and XMP have): inflated
    piece by piece; else decoded by qpdf whole. Flate twice made a 2 KB XMP stream of 1 GB, which
    qpdf decoded whole to measure it (killed under a 1 GB address-space limit); so did an empty
    /DecodeParms beside Flate."""
    if _flate_alone(stream):
        pieces: Iterator[bytes] = iter([stream.read_raw_bytes()])
        for _ in _one_or_more(stream.get("/Filter")):
            pieces = _inflated(pieces)
        with contextlib.suppress(zlib.error):  # damaged: qpdf says what it can read of it, below
            yield from pieces
            return
    data = decoded(stream)
    for start in range(0, len(data), _PIECE):
        yield data[start : start + _PIECE]


def _flate_alone(stream: pikepdf.Stream) -> bool:
    """Are the stream's filters all FlateDecode, with no predictor (the one thing /DecodeParms
    adds to Flate)?"""
    filters = _one_or_more(stream.get("/Filter"))
    predicted = any(
        isinstance(parms, pikepdf.Dictionary) and parms.get("/Predictor", 1) != 1
        for parms in _one_or_more(stream.get("/DecodeParms"))
    )
    return bool(filters) and all(f == pikepdf.Name.FlateDecode for f in filters) and not predicted


def _one_or_more(value: object) -> list[object]:
    """A stream's /Filter or /DecodeParms as a list: an array's items, a single one, none."""
    return list(value) if isinstance(value, pikepdf.Array) else [] if value is None else [value]


def _inflated(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Flate data given in pieces, inflated in pieces of _PIECE bytes or so."""
    inflate = zlib.decompressobj()
    for data in pieces:
        while data and not inflate.eof:
            yield inflate.decompress(data, _PIECE)
            data = inflate.unconsumed_tail


def _has_pdf_header(path: str | os.PathLike) -> bool:
    """Does the file say it is a PDF: "%PDF-" within its first 1024 bytes, where readers look?"""
    with contextlib.suppress(OSError), open(path, "rb") as f:
        return b"%PDF-" in f.read(1024)
    return True  # unreadable now: no telling, so not said to be another format


def _opens_without_password(path: str | os.PathLike) -> bool:
    """Does pdfium open the PDF with no password? One that qpdf asks a password of may not need
    any: pdf.js's encrypted-attachment.pdf (AES-256 with only its attachment encrypted, its xref
    broken) opens in pdfium and poppler without one."""
    try:
        pdfium.PdfDocument(str(path)).close()
    except pdfium.PdfiumError:
        return False
    return True


def open_for_rendering(path: str | os.PathLike, password: str | None = None) -> pdfium.PdfDocument:
    """The PDF in pdfium, to render pages and read their text objects."""
    try:
        try:
            return pdfium.PdfDocument(str(path), password=password)
        except pdfium.PdfiumError:
            if not password:
                raise
            return pdfium.PdfDocument(str(path))  # a password it does not need (see open_pikepdf)
    except pdfium.PdfiumError as exc:
        raise BadInputError(path, f"not a renderable PDF ({one_line(exc)})") from None


def load_page(document: pdfium.PdfDocument, index: int, path: str | os.PathLike) -> pdfium.PdfPage:
    """Page `index` in pdfium, or a BadInputError if pdfium cannot find it: qpdf, which counts the
    pages to graft, and pdfium read a broken page tree differently (a /Count too small, a page
    whose /Type is not /Page), and no page can be OCRed with certainty of where its text goes."""
    try:
        return document[index]
    except pdfium.PdfiumError as exc:
        reason = f"page {index + 1} cannot be rendered: broken page tree ({one_line(exc)})"
        raise BadInputError(path, reason) from None


def is_signed(pdf: pikepdf.Pdf) -> bool:
    """Does the document carry a digital signature: a certification signature (/Perms /DocMDP), or
    a signed /Sig field, found in the form's field tree or among the pages' widgets (a signature
    whose field is missing from /Fields is still checked by viewers)?

    A usage-rights signature (/Perms /UR3, which Adobe puts on government forms so that old
    Readers let users fill them in) is no one's signature of the content and does not count."""
    perms = pdf.Root.get("/Perms")
    if isinstance(perms, pikepdf.Dictionary) and isinstance(perms.get("/DocMDP"), pikepdf.Dictionary):
        return True
    form = pdf.Root.get("/AcroForm")
    fields = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
    return _signed_in_field_tree(_items(fields)) or _signed_widgets(_widgets(pdf))


def _items(value: object) -> list[object]:
    """An array's items; nothing for anything else (a malformed /Fields or /Kids such as 7)."""
    return list(value) if isinstance(value, pikepdf.Array) else []


def _signed_in_field_tree(fields: Iterable[object]) -> bool:
    # (field, its parent's field type): /FT is inherited, so a signed field may name no type of its own
    todo, seen = [(field, None) for field in fields], set()
    while todo:
        field, inherited = todo.pop()
        if not isinstance(field, pikepdf.Dictionary) or (field.is_indirect and field.objgen in seen):
            continue
        if field.is_indirect:
            seen.add(field.objgen)
        kind = field.get("/FT", inherited)
        if kind == "/Sig" and "/V" in field:
            return True
        todo += [(kid, kind) for kid in _items(field.get("/Kids"))]
    return False


def _widgets(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    try:
        for page in pdf.pages:
            for annot in _items(page.obj.get("/Annots")):
                if isinstance(annot, pikepdf.Dictionary) and annot.get("/Subtype") == "/Widget":
                    yield annot
    except pikepdf.PdfError:  # a broken page tree: what was reached is all there is to check
        return


def _signed_widgets(widgets: Iterable[pikepdf.Dictionary]) -> bool:
    """Is any of the widgets that of a signed /Sig field: its own or its nearest ancestor's /FT, a
    value on the way? What each field says, with its ancestors, is remembered, so that widgets
    sharing ancestors look them up once: 1,000 widgets under a chain of 100,000 fields (a 1.4 MB
    PDF) each walked the whole chain, over two minutes in the process that grafts every document
    of an ocr scan."""
    known: dict[tuple[int, int], tuple[object, bool]] = {}
    return any(_field_type_and_value(widget, known) == ("/Sig", True) for widget in widgets)


def _field_type_and_value(
    node: object, known: dict[tuple[int, int], tuple[object, bool]]
) -> tuple[object, bool]:
    """(the nearest /FT, whether a /V is on the way) from `node` up its /Parent chain, at most
    MAX_FIELD_DEPTH fields up from the first one in `known`; `known` then has every indirect field
    on the way."""
    chain: list[pikepdf.Dictionary] = []
    while isinstance(node, pikepdf.Dictionary) and len(chain) < MAX_FIELD_DEPTH:  # a loop ends here too
        if node.is_indirect and node.objgen in known:
            break
        chain.append(node)
        node = node.get("/Parent")
    above = isinstance(node, pikepdf.Dictionary) and node.is_indirect and known.get(node.objgen)
    kind, valued = above or (None, False)
    for field in reversed(chain):
        kind, valued = field.get("/FT", kind), valued or "/V" in field
        if field.is_indirect:
            known[field.objgen] = kind, valued
    return kind, valued


def page_objects(
    page: pdfium.PdfPage,
    kinds: int | tuple[int, ...],
    form: pdfium.PdfObject | None = None,
    to_page: pdfium.PdfMatrix | None = None,
) -> Iterator[tuple[pdfium.PdfObject, pdfium.PdfMatrix]]:
    """The page's objects of `kinds` in the order they are drawn, in forms too, each with the
    matrix from the space it is in to the page's: pdfium gives an object in a form its bounds and
    resolution in the form's space (a page placed on another at half size by pdfjam or an n-up
    tool)."""
    kinds = (kinds,) if isinstance(kinds, int) else kinds
    to_page = to_page or pdfium.PdfMatrix()
    level = form.level + 1 if form is not None else 0
    for obj in page.get_objects(max_depth=1, form=form, level=level):
        if obj.type in kinds:
            yield obj, to_page
        if obj.type == pdfium_c.FPDF_PAGEOBJ_FORM and level < MAX_FORM_DEPTH - 1:
            yield from page_objects(page, kinds, obj, obj.get_matrix().multiply(to_page))


def page_text(page: pdfium.PdfPage, read: bool = False) -> PageText:
    """The page's text objects (in forms too): corners of the visible ones that show something on
    the page, in the page's user space, how many are invisible, and whether the visible ones are
    a stamp on a scan.
    Text that covers no area of the page is not the page's text: a scan with a stray space on it
    (pdfium bounds a space's glyph as a point), text of size 0 or wholly off the page was skipped
    as a page with text.
    A page is a scan with a stamp on it (a Bates number, a court's or a fax machine's header line, a
    signing service's envelope ID, a watermark, typed values on a scanned form) when its images
    cover at least SCAN_SHARE of it, and its visible text is drawn over them, but for fewer than
    STAMP_CHARACTERS characters drawn before them (under the scan: that much is an old OCR tool's
    layer). Such a page needs OCR all the same: skipped as having text, its scan stayed
    unsearchable. A page covered less (a figure and its caption) is a page with text.
    With `read`, what each visible text object says is read as well (for a page OCRed all the
    same, see searchable._drop_words_on_text); telling whether a page has text does not need it."""
    crop_box = page.get_cropbox()
    shown, invisible, under, covered = [], 0, [], _Coverage(crop_box)  # under: indexes into shown
    drawn = (pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE)
    on_the_page = pdfium.PdfMatrix()  # objects in no form: already in the page's space
    for obj, to_page in page_objects(page, drawn, to_page=on_the_page):
        text = obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT
        if text and pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == INVISIBLE:
            invisible += 1
            continue
        bounds = obj.get_bounds()
        bounds = bounds if to_page is on_the_page else to_page.on_rect(*bounds)
        if not text:
            covered.add(bounds)
        elif _on_page(bounds, crop_box) > 0:
            # its corners, not its bounds: those of a diagonal watermark cover most of the page
            corners = obj.get_quad_points()
            if to_page is not on_the_page:
                corners = tuple(to_page.on_point(x, y) for x, y in corners)
            if covered.share < SCAN_SHARE:
                under.append(len(shown))
            shown.append((obj, corners))
    texts = _texts(page, [obj for obj, _ in shown]) if read else [(None, ())] * len(shown)
    visible = [TextObject(corners, *text) for (_, corners), text in zip(shown, texts, strict=True)]
    characters = _characters(page, [shown[index][0] for index in under])
    stamp = bool(visible) and covered.share >= SCAN_SHARE and characters < STAMP_CHARACTERS
    return PageText(visible, invisible, stamp)


class _Coverage:
    """The share of a crop box that images cover, to within half a cell of COVERAGE_CELLS, each
    part of it once: an image drawn twice in its place (a shadow, a layer over it) was counted
    twice, and a figure on 70 % of a page made it a scan."""

    def __init__(self, crop_box: tuple[float, float, float, float]):
        self.crop_box = crop_box
        self.cells = np.zeros((COVERAGE_CELLS, COVERAGE_CELLS), dtype=bool)
        self.share = 0.0

    def add(self, bounds: tuple[float, float, float, float]) -> None:
        """Cover the cells of `bounds` (left, bottom, right, top)."""
        left, bottom, right, top = self.crop_box
        if right <= left or top <= bottom:
            return  # a page that shows nothing
        x0, x1 = (_cell(x, left, right) for x in bounds[::2])
        y0, y1 = (_cell(y, bottom, top) for y in bounds[1::2])
        cells = self.cells[y0:y1, x0:x1]
        self.share += (cells.size - np.count_nonzero(cells)) / self.cells.size
        cells[...] = True


def _cell(value: float, low: float, high: float) -> int:
    """The cell boundary nearest to `value` on a side from `low` to `high` (clipped to it)."""
    return round(min(max((value - low) / (high - low), 0.0), 1.0) * COVERAGE_CELLS)


def _characters(page: pdfium.PdfPage, text_objects: list[pdfium.PdfObject]) -> int:
    """How many characters the text objects of `page` show."""
    if not text_objects:
        return 0
    text_page = page.get_textpage()
    try:  # each object's text length in bytes of UTF-16, with a 2-byte terminator
        return sum(
            max(0, pdfium_c.FPDFTextObj_GetText(obj.raw, text_page.raw, None, 0) - 2) // 2
            for obj in text_objects
        )
    finally:
        text_page.close()


def _texts(
    page: pdfium.PdfPage, text_objects: list[pdfium.PdfObject]
) -> list[tuple[str, tuple[tuple[float, float], ...]]]:
    """What each text object of `page` shows, as pdfium extracts it, and where each of its
    characters starts (its origin, in the page's user space), in one pass over the page's
    characters: asking each object for its text (FPDFTextObj_GetText) goes through all of them
    every time, 1.9 s for a page of 10,000 objects (benchmarks/page_text_cost.py)."""
    if not text_objects:
        return []
    where = {_address(obj.raw): index for index, obj in enumerate(text_objects)}
    characters: list[list[str]] = [[] for _ in text_objects]
    origins: list[list[tuple[float, float]]] = [[] for _ in text_objects]
    x, y = ctypes.c_double(), ctypes.c_double()
    text_page = page.get_textpage()
    try:
        for n in range(pdfium_c.FPDFText_CountChars(text_page.raw)):
            index = where.get(_address(pdfium_c.FPDFText_GetTextObject(text_page.raw, n)))
            if index is not None:  # not one pdfium adds (a space, a line break)
                code = pdfium_c.FPDFText_GetUnicode(text_page.raw, n)
                characters[index].append(chr(code) if code <= sys.maxunicode else "\ufffd")
                pdfium_c.FPDFText_GetCharOrigin(text_page.raw, n, ctypes.byref(x), ctypes.byref(y))
                origins[index].append((x.value, y.value))
    finally:
        text_page.close()
    return [("".join(chars), tuple(at)) for chars, at in zip(characters, origins, strict=True)]


def _address(pointer: object) -> int | None:
    """Where a pdfium object is, to tell one object by: its pointer's value (None for NULL)."""
    return ctypes.cast(pointer, ctypes.c_void_p).value


def _on_page(bounds: tuple[float, float, float, float], crop_box: tuple[float, float, float, float]) -> float:
    """The area of `bounds` (left, bottom, right, top) within the page's crop box."""
    x0, y0, x1, y1 = bounds
    left, bottom, right, top = crop_box
    return max(0.0, min(x1, right) - max(x0, left)) * max(0.0, min(y1, top) - max(y0, bottom))


def user_unit(page: pikepdf.Page) -> float:
    """The page's /UserUnit, the size of its unit in 1/72 inch (1 unless a positive number):
    pdfium, which renders it, does not read it."""
    try:
        unit = float(page.obj.get("/UserUnit", 1))
    except (TypeError, ValueError):
        return 1.0
    return unit if math.isfinite(unit) and unit > 0 else 1.0


def render_dpi(page: pdfium.PdfPage, unit: float = 1.0) -> float:
    """The resolution to OCR a page at, in pixels per 72 of its units (UserUnit `unit`/72 inch):
    its images' own (as placed on the page), within [MIN_DPI, MAX_DPI], lowered so the rendering
    stays within MAX_RENDER_PIXELS. The most, and the resolution of a page without images, are per
    inch as printed: per 72 units, a 200 dpi scan on a page of UserUnit 10 (a large drawing) was
    read at 40 dpi, 42 % of its words right."""
    dpis = []
    for obj, to_page in page_objects(page, pdfium_c.FPDF_PAGEOBJ_IMAGE):
        metadata = pdfium_c.FPDF_IMAGEOBJ_METADATA()
        if pdfium_c.FPDFImageObj_GetImageMetadata(obj.raw, page.raw, ctypes.byref(metadata)):
            scale = math.sqrt(abs(to_page.a * to_page.d - to_page.b * to_page.c)) or 1.0
            dpis.append(max(metadata.horizontal_dpi, metadata.vertical_dpi) / scale)
    dpi = min(max(max(dpis), MIN_DPI), MAX_DPI * unit) if dpis else DEFAULT_DPI * unit
    width, height = page.get_size()
    pixels = width * height * (dpi / 72) ** 2
    if pixels > MAX_RENDER_PIXELS:
        dpi *= math.sqrt(MAX_RENDER_PIXELS / pixels)
    return dpi


def render_size(page: pdfium.PdfPage, dpi: float) -> tuple[int, int]:
    """The width and height in pixels `render` gives the page at `dpi`."""
    width, height = page.get_size()
    scale = _scale(dpi)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _scale(dpi: float) -> float:
    # pdfium renders ceil(points x scale) pixels, stretching the page into them, and 792 x (300 /
    # 72) is 3300.0000000000005: a US Letter page at 300 dpi got a 3301st row. Worse, pdfium gives
    # the page's size and its images' resolution in single precision: a 640 px scan placed on
    # 230.4 pt at 200 dpi is 230.39999 pt at 200.0000153 dpi, 640.00003 px, and got a 641st
    # column. A scale a millionth smaller keeps whole products whole; it takes a pixel off only
    # a product that much above a whole number (3 thousandths of a pixel at 3,000 px).
    return dpi / 72 * (1 - 1e-6)


def render(page: pdfium.PdfPage, dpi: float) -> np.ndarray:
    """The page as displayed (CropBox, /Rotate), without annotations, as an RGB array."""
    bitmap = page.render(scale=_scale(dpi), draw_annots=False, may_draw_forms=False, rev_byteorder=True)
    image = bitmap.to_numpy()
    return np.ascontiguousarray(image[:, :, :3]) if image.ndim == 3 else np.dstack([image] * 3)


def blank(image: np.ndarray) -> bool:
    """Whether a rendered page is all one colour (a sparse sample first: most pages are not)."""
    return not (np.any(image[::16, ::16] != image[0, 0]) or np.any(image != image[0, 0]))


def lost_image(page: pdfium.PdfPage) -> bool:
    """Whether an image on the page cannot be decoded: pdfium leaves such an image out and says
    nothing, so a scan whose image was damaged (its /Height garbled, in a mutated PDF of the
    corpus) read as a blank page with no text, and its PDF was written out unchanged. Asked of
    blank pages only; an image larger than a rendering may be is not decoded again to find out."""
    for obj, _ in page_objects(page, pdfium_c.FPDF_PAGEOBJ_IMAGE):
        metadata = pdfium_c.FPDF_IMAGEOBJ_METADATA()
        if not pdfium_c.FPDFImageObj_GetImageMetadata(obj.raw, page.raw, ctypes.byref(metadata)):
            return True
        if metadata.width * metadata.height > MAX_RENDER_PIXELS:
            continue
        try:
            obj.get_bitmap()  # decoded as rendering does it, at the image's own size
        except pdfium.PdfiumError:
            return True
    return False
