"""Graft a text layer onto a PDF page, and take invisible OCR text off one, with pikepdf.

The layer is a Form XObject drawn before the page's own content, in the page's initial state, so
nothing that content does can move it or stop it being read (poppler stops reading a page's content
at an operator short of operands, or at a restore too many: a layer drawn after that was lost in
pdftotext and Evince). Being invisible, it is not hidden by what is drawn over it. The form's
matrix maps the displayed page (points,
origin at the bottom-left of the CropBox as shown, /Rotate applied) onto the page's user space, so
the layer is written in the same frame as the OCR coordinates whatever the page's boxes and
rotation. A form also fixes pdfminer's reading: it does no layout analysis inside forms and gives
their text in content order, which is our reading order, even for turned or two-column pages.
Nothing else on the page is touched: images are not re-encoded and boxes, rotation and annotations
stay as they were.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from pathlib import Path

import pikepdf

from ocrcli.pdffont import GlyphlessFont, flate_stream
from ocrcli.pdfpages import INVISIBLE, decoded, decoded_pieces, open_pikepdf
from ocrcli.textlayer import FONT_RESOURCE, boxes_drawn, font_resource, pdf_number

LAYER_TAG = pikepdf.Name("/OcrcliTextLayer")  # marks our layer's content, for `--redo`
IMAGE_TAG = pikepdf.Name("/OcrcliImage")  # in the Info of an image's PDF: the image's name
SHOW_TEXT = {"Tj", "TJ", "'", '"'}
US_LETTER = (0.0, 0.0, 612.0, 792.0)  # the page pdfium shows for a MediaBox with no area


def display_frame(page: pikepdf.Page) -> tuple[list[float], float, float]:
    """(matrix from displayed-page points to user space, displayed width, displayed height), as
    pdfium, which renders the page for OCR, reads the page's boxes and /Rotate."""
    mx0, my0, mx1, my1 = _box(page.mediabox) or US_LETTER
    # Viewers show the CropBox clipped to the MediaBox; pdfium ignores one that is malformed or
    # has no area (the layer was drawn squeezed into it, and read nowhere), and a MediaBox so
    # is a US Letter page there (and in poppler).
    x0, y0, x1, y1 = _box(page.obj.get("/CropBox")) or (mx0, my0, mx1, my1)
    x0, y0, x1, y1 = max(x0, mx0), max(y0, my0), min(x1, mx1), min(y1, my1)
    width, height = x1 - x0, y1 - y0
    rotate = page_rotation(page)
    if rotate == 90:
        return [0, 1, -1, 0, x1, y0], height, width
    if rotate == 180:
        return [-1, 0, 0, -1, x1, y1], width, height
    if rotate == 270:
        return [0, -1, 1, 0, x0, y1], height, width
    return [1, 0, 0, 1, x0, y0], width, height


def page_rotation(page: pikepdf.Page) -> int:
    """/Rotate as pdfium takes it: whole quarter turns counted towards 0 (-45 is 0, not 270)."""
    try:
        return int(int(page.obj.get("/Rotate", 0)) / 90) % 4 * 90
    except (TypeError, ValueError):
        return 0


def turn_user_space(page: pikepdf.Page, degrees: int) -> None:
    """Keep the page's look but turn its user space `degrees` counter-clockwise under the display
    (through /Rotate): text that is turned `degrees` clockwise on the page is then upright in user
    space, where pdfminer, which ignores /Rotate, reads it. For pages we made (images), never for
    the user's PDFs, whose /Rotate stays as it was."""
    old_matrix, width, height = display_frame(page)
    rotate = (page_rotation(page) + degrees) % 360
    user_width, user_height = (height, width) if rotate in (90, 270) else (width, height)
    page.obj.MediaBox = [0, 0, user_width, user_height]
    if "/CropBox" in page.obj:
        del page.obj.CropBox
    page.obj.Rotate = rotate
    new_matrix, _, _ = display_frame(page)
    move = _compose(invert(old_matrix), new_matrix)  # old user -> display -> new user
    page.contents_add(b"q " + _matrix_bytes(move) + b" cm\n", prepend=True)
    page.contents_add(b"\nQ\n")


def show_turned_back(page: pikepdf.Page, degrees: int) -> None:
    """Display the page turned `degrees` counter-clockwise (its /Rotate, clockwise, less that):
    text turned `degrees` clockwise on it then shows upright (--rotate-pages). Nothing drawn on
    the page changes. On an image's page, whose user space turn_user_space has turned upright,
    this undoes its turn of the display, so the text is upright in both."""
    page.obj.Rotate = (page_rotation(page) - degrees) % 360


def add_text_layer(pdf: pikepdf.Pdf, page: pikepdf.Page, content: bytes, font: GlyphlessFont) -> None:
    """Draw `content` (from textlayer.layer_content) on the page as a Form XObject, before the
    page's own content (see the module's docstring), invoked in a marked-content sequence that
    `remove_text_layers` recognises."""
    matrix, width, height = display_frame(page)
    form = flate_stream(  # the layer is most of what OCR adds to a small scan
        pdf,
        content,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=[0, 0, width, height],
        Matrix=matrix,
        Resources=pikepdf.Dictionary(
            Font=pikepdf.Dictionary({font_resource(box): font.with_box(box) for box in boxes_drawn(content)})
        ),
    )
    xobjects = _own_resources(page.obj, "/XObject")
    name = _layer_name(xobjects)
    xobjects[name] = form
    tag = LAYER_TAG.unparse()
    draw = b"q " + name.unparse() + b" Do Q"
    if "/StructTreeRoot" in pdf.Root:
        # A tagged PDF's content is in its structure tree or is an artifact (ISO 32000-1 14.8.2.2,
        # PDF/UA-1 7.1); the tree does not hold the layer. Extractors read artifacts all the same.
        draw = b"/Artifact BMC " + draw + b" EMC"
    page.contents_add(tag + b" BMC " + draw + b" EMC\n", prepend=True)


def _layer_name(xobjects: pikepdf.Dictionary) -> pikepdf.Name:
    """The name to give our layer's form among the page's XObjects: LAYER_TAG, unless the page
    already names something else so (then LAYER_TAG2, 3...). The page's own image of that name
    was replaced by the layer, and its Do drew the layer twice."""
    for number in range(1, len(xobjects) + 2):
        name = pikepdf.Name(f"{LAYER_TAG}{number if number > 1 else ''}")
        if name not in xobjects or _is_our_layer(name, xobjects[name]):
            return name
    raise AssertionError("unreachable: one of len + 1 names is free")


def _is_our_layer(name: pikepdf.Name | str, xobject: object) -> bool:
    """Is the XObject `name` an ocrcli text layer: named by _layer_name, a form whose only fonts
    are ours? An image the page itself calls /OcrcliTextLayer is not (--redo deleted it)."""
    named = re.fullmatch(f"{LAYER_TAG}([2-9]|[1-9][0-9]+)?", str(name))
    if not named or not isinstance(xobject, pikepdf.Stream) or xobject.get("/Subtype") != "/Form":
        return False
    resources = xobject.get("/Resources")
    fonts = resources.get("/Font") if isinstance(resources, pikepdf.Dictionary) else None
    return (
        isinstance(fonts, pikepdf.Dictionary)
        and len(fonts) > 0
        and all(str(font).startswith(FONT_RESOURCE) for font in fonts)
    )


# The most tokens (numbers, names, strings, operators) of a page's content that grafting reads:
# about 11 s through qpdf's tokenizer in flat memory, 4 million operators of a vector drawing.
# Grafting runs outside the page timeout, in the one process of ocr scan that grafts every
# document: the 50 million "BT ET" of a 446 KB PDF took it 114 s there. With --redo and --force,
# the page's content and its forms' count together.
MAX_CONTENT_TOKENS = 10_000_000
MAX_BYTES_A_TOKEN = 16  # and so 160 MB of content at most (4 is usual; more: long strings, comments)
# The most tokens parsed whole into memory to take an OCR layer off a page and the forms it draws
# (--redo, --force): about 230-340 bytes a token (a vector page of 7 million took 1.6 GB, 3.4 s).
MAX_PARSED_TOKENS = 5_000_000
# Forms drawn by forms looked into for OCR text, the page's own forms the first level: pdfium
# draws no deeper (kMaxFormLevel), so text deeper shows in no page it renders. Unbounded, a chain
# of 2,000 forms each drawing the next ended --redo in "unexpected RecursionError" (exit 1).
MAX_DRAWN_FORM_DEPTH = 40
_SEPARATORS = b" \t\n\r\f\0()<>[]{}/%"  # PDF's whitespace and delimiters


class TooComplex(Exception):
    """Page content with more tokens than grafting reads: the page is left as it is."""


class Budget:
    """What grafting may still read (tokens), and parse whole, of one page's content."""

    def __init__(self) -> None:
        self.read = MAX_CONTENT_TOKENS
        self.parsed = MAX_PARSED_TOKENS


def content_streams(page: pikepdf.Page) -> list[pikepdf.Stream]:
    contents = page.obj.get("/Contents")
    return [
        s
        for s in (contents if isinstance(contents, pikepdf.Array) else [contents])
        if isinstance(s, pikepdf.Stream)
    ]


def read_content(streams: list[pikepdf.Stream], budget: Budget | None = None) -> bytes:
    """The streams' data, decoded and joined; TooComplex, before they are read whole, if they may
    hold more tokens than `budget` has left to read (a fresh one by default), which they take."""
    budget = budget or Budget()
    budget.read -= count_tokens(streams, budget.read)
    return b"\n".join(decoded(s) for s in streams)


def count_tokens(streams: list[pikepdf.Stream], limit: int = MAX_CONTENT_TOKENS) -> int:
    """At most how many tokens the streams hold, counted at C speed (every token but the first
    follows a whitespace character or a delimiter, or is one) on their data decoded piece by piece,
    in flat memory: TooComplex as soon as that is over `limit`, or their size over
    MAX_BYTES_A_TOKEN times `limit`. 1 MB of Flate can hold 1 GB of spaces, which read whole took
    2.2 GB (qpdf's copy and Python's)."""
    tokens = size = 0
    for stream in streams:
        tokens += 1
        for piece in decoded_pieces(stream):
            size += len(piece)
            tokens += len(piece) - len(piece.translate(None, _SEPARATORS))
            if tokens > limit or size > MAX_BYTES_A_TOKEN * limit:
                most = (
                    f"{MAX_CONTENT_TOKENS:,} tokens or {MAX_BYTES_A_TOKEN * MAX_CONTENT_TOKENS // 10**6} MB"
                )
                raise TooComplex(f"page content too complex to rewrite (over {most})")
    return tokens


def remove_text_layers(pdf: pikepdf.Pdf, page: pikepdf.Page) -> bool:
    """Take off an earlier OCR layer: ours (its marked-content sequence) and any invisible text
    drawn by the page or the forms it draws (OCRmyPDF's and Tesseract's layers). True if any went.
    A form drawn elsewhere too (another page) is left as it is there: this page gets a copy.
    Raises TooComplex, leaving the page as it was, when the content it reads (the page's and its
    forms') would be over MAX_CONTENT_TOKENS, or what it parses over MAX_PARSED_TOKENS."""
    budget = Budget()
    content, modes_at_do = _content_without_ocr_text(page, content_streams(page), 0, budget)
    copies: dict[tuple[tuple[int, int], int], pikepdf.Stream | None] = {}
    cleaned = {}
    for name, form in _forms(page.obj):
        if _is_our_layer(name, form):  # it goes whole
            continue
        copy = _form_without_ocr_text(pdf, form, modes_at_do.get(name, 0), copies, budget)
        if copy is not None:
            cleaned[name] = copy
    # All parsed within the budget: the page changes only now.
    xobjects = _own_resources(page.obj, "/XObject")
    ours = [name for name, xobject in xobjects.items() if _is_our_layer(name, xobject)]
    for name in ours:
        del xobjects[name]
    removed = bool(ours)
    if content is not None:
        page.obj.Contents = flate_stream(pdf, content)
    for name, copy in cleaned.items():
        xobjects[name] = copy
    return removed or content is not None or bool(cleaned)


def _content_without_ocr_text(
    holder: pikepdf.Page | pikepdf.Stream, streams: list[pikepdf.Stream], mode: int, budget: Budget
) -> tuple[bytes | None, dict[pikepdf.Name, int]]:
    """The content of a page or form (in `streams`) without its OCR text (None: it has none), and
    the render mode at each form's invocation. Content that never sets a render mode nor marks
    content, drawn in a visible mode, has none: it is not parsed (a vector drawing of 7 million
    tokens parsed whole took 1.6 GB). Reading and parsing take their tokens from `budget`,
    raising TooComplex when there are not enough left."""
    read_before = budget.read
    data = read_content(streams, budget)
    if mode != INVISIBLE and not any(op in data for op in (b"Tr", b"BMC", b"BDC")):
        return None, {}
    budget.parsed -= read_before - budget.read
    if budget.parsed < 0:
        raise TooComplex(
            f"page content too complex to take its OCR layer off (over {MAX_PARSED_TOKENS:,} tokens)"
        )
    instructions = pikepdf.parse_content_stream(holder)
    kept, modes_at_do = _without_ocr_text(instructions, mode)
    return (pikepdf.unparse_content_stream(kept) if len(kept) != len(instructions) else None), modes_at_do


def _form_without_ocr_text(
    pdf: pikepdf.Pdf,
    form: pikepdf.Stream,
    mode: int,
    copies: dict[tuple[tuple[int, int], int], pikepdf.Stream | None],
    budget: Budget,
    drawing: frozenset = frozenset(),
) -> pikepdf.Stream | None:
    """A copy of `form` (drawn in render mode `mode`) without its OCR text, also that of the forms
    it draws, at any depth (a page placed as a form by pdfjam or qpdf --overlay, holding its own
    layer's form); None if it has none. The form itself is left as it is for others that draw it.
    `copies`: the answers so far, by form and mode, so a form drawn along many paths is cleaned
    once (forms drawing the next one twice, 18 deep, have 2^18 paths: over a minute, 1 GB).
    `budget`: see _content_without_ocr_text.
    `drawing`: the forms drawing this one, so a form that draws itself ends the descent, as does
    one deeper than MAX_DRAWN_FORM_DEPTH."""
    key = (form.objgen, mode)
    if key in copies or form.objgen in drawing or len(drawing) >= MAX_DRAWN_FORM_DEPTH:
        return copies.get(key)
    content, modes_at_do = _content_without_ocr_text(form, [form], mode, budget)
    inner = {}
    for name, child in _forms(form):
        copy = _form_without_ocr_text(
            pdf, child, modes_at_do.get(name, 0), copies, budget, drawing | {form.objgen}
        )
        if copy is not None:
            inner[name] = copy
    copy = None
    if content is not None or inner:
        copy = _form_copy(pdf, form, decoded(form) if content is None else content)
        for name, child in inner.items():
            _own_resources(copy, "/XObject")[name] = child
    copies[key] = copy
    return copy


def _without_ocr_text(instructions: list, mode: int = 0) -> tuple[list, dict[pikepdf.Name, int]]:
    """The instructions minus our marked layers and text shown in render mode 3 (starting in
    render mode `mode`), and the render mode at each form's invocation (a form inherits it)."""
    kept: list = []
    saved: list[int] = []
    marks: list[bool] = []  # open marked-content sequences: is each one our layer?
    text_object: list[tuple[object, bool | None]] | None = None  # inside BT: (instruction, hidden?)
    modes_at_do: dict[pikepdf.Name, int] = {}
    for instruction in instructions:
        op = str(getattr(instruction, "operator", ""))
        operands = getattr(instruction, "operands", [])
        inside_layer = any(marks)
        if op in ("BMC", "BDC"):
            marks.append(bool(operands) and operands[0] == LAYER_TAG)
        elif op == "EMC" and marks:
            inside_layer = marks.pop() or inside_layer
        if inside_layer or any(marks):
            continue
        if op == "q":
            saved.append(mode)
        elif op == "Q" and saved:
            mode = saved.pop()
        elif op == "Tr" and operands:
            mode = int(operands[0])
        elif op == "Do" and operands:
            modes_at_do.setdefault(operands[0], mode)
        shows = (mode == INVISIBLE) if op in SHOW_TEXT else None
        if op == "BT":
            if text_object is not None:  # a text object left open: keep what it showed
                kept += _visible_part(text_object)
            text_object = []
        if text_object is None:
            if not shows:  # invisible text outside BT/ET is malformed, and goes as well
                kept.append(instruction)
            continue
        text_object.append((instruction, shows))
        if op == "ET":
            kept += _visible_part(text_object)
            text_object = None
    if text_object is not None:  # a text object the content never closed
        kept += _visible_part(text_object)
    return kept, modes_at_do


def _visible_part(text_object: list[tuple[object, bool | None]]) -> list:
    """A text object's instructions without its invisible text, unless it also shows visible
    text: removing invisible text there would move the visible text after it (its advance, and
    the line feed of ' and ")."""
    hidden = [is_hidden for _, is_hidden in text_object if is_hidden is not None]
    if all(hidden) or not any(hidden):
        return [instruction for instruction, is_hidden in text_object if not is_hidden]
    return [instruction for instruction, _ in text_object]


def _forms(holder: pikepdf.Object) -> list[tuple[pikepdf.Name, pikepdf.Stream]]:
    """Form XObjects in the resources of a page or form (OCRmyPDF puts its layer in one), by name."""
    resources = holder.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return []
    return [
        (pikepdf.Name(name), x)
        for name, x in xobjects.items()
        if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == "/Form"
    ]


def _form_copy(pdf: pikepdf.Pdf, form: pikepdf.Stream, content: bytes) -> pikepdf.Stream:
    """A new form like `form` (its box, matrix and resources) drawing `content` instead."""
    copy = flate_stream(pdf, content)
    for key, value in form.stream_dict.items():
        if key not in ("/Length", "/Filter", "/DecodeParms"):
            copy[key] = value
    return copy


def _own_resources(holder: pikepdf.Object, kind: str) -> pikepdf.Dictionary:
    """The `kind` resource dictionary (/XObject, ...) of a page's dictionary or a form, made a
    direct copy of its own first, so adding to it never changes others that share the resources."""
    copy = _dictionary_copy(holder.get("/Resources"))
    copy[kind] = _dictionary_copy(copy.get(kind))
    holder.Resources = copy
    return copy[kind]


def _dictionary_copy(value: object) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(value) if isinstance(value, pikepdf.Dictionary) else pikepdf.Dictionary()


def _compose(first: list[float], then: list[float]) -> list[float]:
    """The matrix applying `first`, then `then` (PDF's [a b c d e f] convention)."""
    a, b, c, d, e, f = first
    p, q, r, s, t, u = then
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u]


def apply(m: list[float], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def invert(m: list[float]) -> list[float]:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det]


def _matrix_bytes(m: list[float]) -> bytes:
    """The matrix as PDF numbers, to the 6 decimals pikepdf keeps of a page box's (168.363636 pt:
    463 px at 198 dpi). To 6 significant digits (168.364), turn_user_space moved an image's page
    back by more than its size: the image sat a thousandth of a pixel past the box, and pdfium
    resampled it, blurred, at its own resolution."""
    return " ".join(pdf_number(v, 6) for v in m).encode()


def _normalised(box: pikepdf.Array) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in box)
    return min(a, c), min(b, d), max(a, c), max(b, d)


def _box(value: object) -> tuple[float, float, float, float] | None:
    """A page box that is an array of four numbers enclosing some area, normalised; else None."""
    if not isinstance(value, pikepdf.Array) or len(value) != 4:
        return None
    try:
        x0, y0, x1, y1 = _normalised(value)
    except (TypeError, ValueError):
        return None
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def mark_image_pdf(pdf: pikepdf.Pdf, image: Path) -> None:
    """Record in the PDF that `ocr scan` makes of an image which image it is (the file's name), so
    that a later scan knows it for that image's output also without its sidecar (--no-sidecar),
    and when it carries no text layer (a blank page). The name is a text string as PDF reads one
    (UTF-16BE after its byte order mark, unless ASCII): its UTF-8 bytes were read as PDFDocEncoding,
    café.png shown as cafÃ©.png. A name the file system's encoding does not decode keeps its bytes."""
    name = image.name
    try:
        value = name.encode("ascii") if name.isascii() else codecs.BOM_UTF16_BE + name.encode("utf-16-be")
    except UnicodeEncodeError:  # undecoded bytes, held as lone surrogates
        value = os.fsencode(name)
    pdf.docinfo[IMAGE_TAG] = pikepdf.String(value)


def marked_image(path: Path) -> str | None:
    """The name of the image the PDF at `path` was made from, as mark_image_pdf recorded it (None:
    no such mark, or the PDF cannot be read)."""
    try:
        with open_pikepdf(path) as pdf:
            info = pdf.trailer.get("/Info")
            value = info.get(IMAGE_TAG) if isinstance(info, pikepdf.Dictionary) else None
            return _file_name(bytes(value)) if isinstance(value, pikepdf.String) else None
    except Exception:  # noqa: BLE001 - unreadable or encrypted: not provably ours
        return None


def _file_name(value: bytes) -> str:
    """A name mark_image_pdf recorded: a UTF-16BE text string, or bytes (older versions wrote
    every name as its bytes)."""
    if value.startswith(codecs.BOM_UTF16_BE):
        try:
            return value[2:].decode("utf-16-be")
        except UnicodeDecodeError:
            pass
    return os.fsdecode(value)


def layer_sha256(page: pikepdf.Page) -> str | None:
    """The sha256 of the content of the ocrcli text layer on `page`, if it has one still drawn
    where it was (the page displayed as then: the same boxes and /Rotate), else None. A sidecar
    records it with each page (the page's `layer_sha256`), so that a later run finding the page
    with that layer on (skipped as having one) still has its words, wherever the page now is in
    a PDF edited since: other pages added, removed or OCRed, its Info changed."""
    form = _our_layer(page)
    if form is None:
        return None
    matrix, width, height = display_frame(page)
    try:
        drawn_at = [float(v) for v in form.get("/Matrix", ())] + [float(v) for v in form.get("/BBox", ())]
        content = decoded(form)
    except (pikepdf.PdfError, TypeError, ValueError):  # a damaged or edited layer: not ours to vouch for
        return None
    now = [*matrix, 0, 0, width, height]
    if len(drawn_at) != len(now) or any(abs(a - b) > 0.01 for a, b in zip(drawn_at, now, strict=True)):
        return None
    return hashlib.sha256(content).hexdigest()


def has_our_layer(path: Path, password: str | None = None) -> bool:
    """Does the PDF at `path` carry an ocrcli text layer on any page (False if it cannot be read)?
    `password`: the input's, which its output is encrypted with too."""
    try:
        with open_pikepdf(path, password) as pdf:
            return any(_our_layer(page) is not None for page in pdf.pages)
    except Exception:  # noqa: BLE001 - unreadable or encrypted: not provably ours
        return False


def _our_layer(page: pikepdf.Page) -> pikepdf.Stream | None:
    """The form of ocrcli's text layer on the page (see add_text_layer), if it has one."""
    xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
    if not isinstance(xobjects, pikepdf.Dictionary):
        return None
    return next((xobject for name, xobject in xobjects.items() if _is_our_layer(name, xobject)), None)
