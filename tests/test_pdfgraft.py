"""Grafting a text layer onto a user's PDF page and taking earlier layers off, on pages whose
content is unusual: unbalanced, mixing invisible and visible text, sharing forms with other
pages. Checked in poppler (pdftotext), as a viewer reads them; no OCR involved."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from common import ROOT, helvetica, pdftotext
from PIL import Image

from ocrcli.document import Line, Page, Word
from ocrcli.errors import BadInputError
from ocrcli.pdffont import GlyphlessFont
from ocrcli.pdfgraft import (
    add_text_layer,
    content_streams,
    display_frame,
    layer_sha256,
    mark_image_pdf,
    marked_image,
    page_rotation,
    read_content,
    remove_text_layers,
)
from ocrcli.pdfpages import (
    MAX_FIELD_DEPTH,
    MAX_METADATA_BYTES,
    MAX_PAGES,
    decoded,
    is_signed,
    open_pdf,
    open_pikepdf,
    page_text,
    render_dpi,
)
from ocrcli.textlayer import layer_content

PHOTOTEST = ROOT.parent / "shared" / "data" / "tess" / "img" / "phototest.tif"  # 230.4 x 172.8 pt
LAYER_WORDS = ["ocrcli", "layer", "words"]


def form_xobject(
    pdf: pikepdf.Pdf, content: bytes, bbox: tuple = (0, 0, 230.4, 172.8), **resources
) -> pikepdf.Stream:
    """A form XObject drawing `content` with `resources` (Font=..., XObject=...)."""
    return pdf.make_stream(
        content,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=list(bbox),
        Resources=pikepdf.Dictionary(**resources),
    )


def scan_pdf(extra_content: bytes = b"") -> pikepdf.Pdf:
    """phototest wrapped by img2pdf (a scanned page), with Helvetica as /F1 and `extra_content`
    appended to the page's content."""
    pdf = pikepdf.open(io.BytesIO(img2pdf.convert(str(PHOTOTEST))))
    page = pdf.pages[0]
    page.obj.Resources.Font = pikepdf.Dictionary(F1=helvetica())
    if extra_content:
        page.contents_add(extra_content)
    return pdf


def add_layer(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
    """Our text layer with LAYER_WORDS near the page's top left (the page's pixels are points)."""
    _, width, height = display_frame(page)
    words, x = [], 10.0
    for text in LAYER_WORDS:
        words.append(Word(text, (x, 10, x + 40, 10, x + 40, 22, x, 22), 0.99))
        x += 50
    line = Line(" ".join(LAYER_WORDS), (10, 10, x - 10, 10, x - 10, 22, 10, 22), 0.99, words)
    font = GlyphlessFont(pdf)
    layer = Page(1, round(width), round(height), 72.0, lines=[line])
    add_text_layer(pdf, page, layer_content(layer, font, 1.0, height), font)
    font.finish()


def saved(pdf: pikepdf.Pdf, path: Path) -> Path:
    pdf.save(path)
    return path


def x_of(path: Path, word: str) -> float:
    """Where pdftotext -bbox puts `word`'s left edge."""
    for line in pdftotext(path, "-bbox").splitlines():
        if f">{word}</word>" in line:
            return float(line.split('xMin="')[1].split('"')[0])
    raise AssertionError(f"{word} not found")


@pytest.mark.parametrize(
    "content",
    [
        b" Q",  # a restore the page never saved: poppler stopped drawing the page at our own Q
        b" /OC /oc1 BDC 0 0 1 rg 0 0 5 5 re f",  # ends inside optional content that is off
        b" q 0.5 0 0 0.5 0 0 cm BT /F1 1 Tf",  # a save, a scale and a text object left open
        # a number in exponent form, which some generators write: poppler reads "e-14" as an
        # operator, and then finds cm short of operands, where it stops reading the content
        b" q 1 0 0 1 0 -2.842170943040401e-14 cm Q",
    ],
    ids=["extra-restore", "open-hidden-optional-content", "open-save-and-text", "poppler-stops"],
)
def test_the_layer_survives_what_the_page_content_does(tmp_path: Path, content: bytes) -> None:
    pdf = scan_pdf(content)
    group = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.OCG, Name=pikepdf.String("Notes")))
    pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=[group], D=pikepdf.Dictionary(OFF=[group]))
    pdf.pages[0].obj.Resources.Properties = pikepdf.Dictionary(oc1=group)
    add_layer(pdf, pdf.pages[0])
    path = saved(pdf, tmp_path / "out.pdf")
    assert pdftotext(path, "-raw").split() == LAYER_WORDS
    assert abs(x_of(path, "layer") - 60) < 1  # where it was put, not scaled by the page's cm
    in_text = False  # and the layer is not drawn inside a text object, where Do is not allowed
    for instruction in pikepdf.parse_content_stream(pdf.pages[0]):
        op = str(instruction.operator)
        in_text = op == "BT" if op in ("BT", "ET") else in_text
        assert not (op == "Do" and in_text)


def run_length(data: bytes) -> bytes:
    """`data` in RunLengthDecode's encoding: literal runs of up to 128 bytes, then the end mark."""
    runs = (data[start : start + 128] for start in range(0, len(data), 128))
    return b"".join(bytes([len(run) - 1]) + run for run in runs) + b"\x80"


def test_content_and_forms_in_run_length_encoding_are_read(tmp_path: Path) -> None:
    """RunLengthDecode is a standard filter that pikepdf's read_bytes() leaves on: a page whose
    content used it was refused ("cannot rewrite this PDF ... unfilterable stream", exit 3), and so
    was --redo of an old layer in a form stored with it."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    old_text = b"BT 3 Tr /F1 10 Tf 10 120 Td (oldlayer words) Tj ET"
    old_layer = form_xobject(pdf, old_text, Font=page.Resources.Font)
    old_layer.write(run_length(old_layer.read_bytes()), filter=pikepdf.Name.RunLengthDecode)
    page.obj.Resources.XObject.Fm0 = old_layer
    content = read_content(content_streams(page)) + b" q /Fm0 Do Q"
    page.obj.Contents = pdf.make_stream(run_length(content), Filter=pikepdf.Name.RunLengthDecode)
    original = saved(pdf, tmp_path / "in.pdf")
    assert "oldlayer" in pdftotext(original)

    pdf = pikepdf.open(original)
    assert remove_text_layers(pdf, pdf.pages[0])
    add_layer(pdf, pdf.pages[0])
    out = saved(pdf, tmp_path / "out.pdf")
    assert pdftotext(out, "-raw").split() == LAYER_WORDS
    assert b"/Im0 Do" in read_content(content_streams(pdf.pages[0]))  # the scan is still drawn


def test_a_page_xobject_named_as_our_layer_stays_the_pages_own(tmp_path: Path) -> None:
    """A scan whose image the page calls /OcrcliTextLayer: the layer's form took its place, so the
    page showed no image and its Do drew the layer twice; --redo then deleted the image."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    (image_name,) = page.Resources.XObject.keys()
    page.Resources.XObject = pikepdf.Dictionary(OcrcliTextLayer=page.Resources.XObject[image_name])
    content = read_content(content_streams(page))
    page.obj.Contents = pdf.make_stream(content.replace(image_name.encode(), b"/OcrcliTextLayer"))
    original = saved(pdf, tmp_path / "in.pdf")

    def looks(path: Path) -> float:
        return float(np.asarray(pdfium.PdfDocument(path)[0].render(scale=0.5).to_pil().convert("L")).mean())

    pdf = pikepdf.open(original)
    add_layer(pdf, pdf.pages[0])
    once = saved(pdf, tmp_path / "once.pdf")
    assert pdftotext(once, "-raw").split() == LAYER_WORDS and looks(once) == looks(original)
    assert layer_sha256(pdf.pages[0]) is not None  # the layer is found as ours

    pdf = pikepdf.open(once)
    assert remove_text_layers(pdf, pdf.pages[0])
    add_layer(pdf, pdf.pages[0])  # --redo
    again = saved(pdf, tmp_path / "again.pdf")
    assert pdftotext(again, "-raw").split() == LAYER_WORDS and looks(again) == looks(original)
    assert len(pdf.pages[0].Resources.XObject) == 2  # the image and one layer


def test_in_place_with_nothing_to_add_fails_when_the_pdf_was_saved_over_meanwhile(tmp_path: Path) -> None:
    """A PDF in which nothing changes is left as it is in place; one saved over while it was read
    (an incremental save) was then vouched for by its sidecar, read as nothing, exit 0."""
    from ocrcli.fingerprint import file_sha256
    from ocrcli.searchable import PdfGrafter

    path = saved(scan_pdf(), tmp_path / "doc.pdf")
    read_as = file_sha256(path)
    grafter = PdfGrafter(pikepdf.open(path))  # no page given a layer
    with path.open("ab") as pdf:
        pdf.write(b"\n%the user's edit\n")
    with pytest.raises(BadInputError, match="changed"):
        grafter.save(path, path, source_sha256=read_as)
    grafter.save(path, path, source_sha256=file_sha256(path))  # the version read: left as it is


def test_redo_keeps_invisible_text_that_shares_a_text_object_with_visible_text(tmp_path: Path) -> None:
    """Deleting the invisible "HIDDEN PREFIX " would move "Visible after", drawn after it in the
    same text object, 96 pt to the left. A text object of invisible text alone still goes."""
    mixed = b" BT /F1 12 Tf 10 150 Td 3 Tr (HIDDEN PREFIX ) Tj 0 Tr (Visible after) Tj ET"
    alone = b" BT 3 Tr /F1 10 Tf 10 120 Td (oldlayer words) Tj ET"
    original = saved(scan_pdf(mixed + alone), tmp_path / "in.pdf")
    pdf = pikepdf.open(original)
    assert remove_text_layers(pdf, pdf.pages[0])
    out = saved(pdf, tmp_path / "out.pdf")
    assert x_of(out, "Visible") == x_of(original, "Visible")
    assert "HIDDEN" in pdftotext(out) and "oldlayer" not in pdftotext(out)


def test_redo_keeps_visible_text_of_a_text_object_left_open_before_the_next(tmp_path: Path) -> None:
    """A BT that is never closed, then another BT: the first one's text and font went."""
    content = b" BT /F1 30 Tf 10 140 Td (Hello there) Tj BT 10 100 Td (World again) Tj ET"
    original = saved(scan_pdf(content), tmp_path / "in.pdf")
    pdf = pikepdf.open(original)
    remove_text_layers(pdf, pdf.pages[0])
    out = saved(pdf, tmp_path / "out.pdf")
    assert "Hello there" in pdftotext(out) and "World again" in pdftotext(out)
    assert x_of(out, "World") == x_of(original, "World")


def test_redo_on_one_page_leaves_a_form_that_another_page_draws(tmp_path: Path) -> None:
    """Two pages draw one form holding the scan and an old invisible layer: redoing page 2 (say
    with --pages 2) took the layer off page 1 too."""
    scan = scan_pdf()
    pdf = pikepdf.new()
    image = pdf.copy_foreign(next(iter(scan.pages[0].Resources.XObject.values())))
    form = form_xobject(
        pdf,
        b"q 230.4 0 0 172.8 0 0 cm /Im0 Do Q BT 3 Tr /F1 10 Tf 10 150 Td (oldlayer words) Tj ET",
        XObject=pikepdf.Dictionary(Im0=image),
        Font=pikepdf.Dictionary(F1=helvetica()),
    )
    resources = pdf.make_indirect(pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm0=form)))
    for _ in range(2):
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 230.4, 172.8], Resources=resources)
        page.Contents = pdf.make_stream(b"/Fm0 Do")
        pdf.pages.append(pikepdf.Page(page))
    assert remove_text_layers(pdf, pdf.pages[1])
    out = saved(pdf, tmp_path / "out.pdf")
    assert pdftotext(out, page=1).split() == ["oldlayer", "words"]
    assert pdftotext(out, page=2).split() == []


def test_redo_removes_text_a_form_draws_in_the_render_mode_its_caller_set(tmp_path: Path) -> None:
    """`3 Tr /Fm0 Do`: the form's text is invisible though the form sets no mode of its own.
    Counted as an earlier layer but left in place, it came out twice after --redo."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    page.obj.Resources.XObject.Fm0 = form_xobject(
        pdf, b"BT /F1 13 Tf 7 128 Td (oldlayer words) Tj ET", Font=pikepdf.Dictionary(F1=helvetica())
    )
    page.contents_add(b" q 3 Tr /Fm0 Do Q")
    assert remove_text_layers(pdf, page)
    assert pdftotext(saved(pdf, tmp_path / "out.pdf")).split() == []


def test_redo_removes_an_old_layer_two_forms_deep(tmp_path: Path) -> None:
    """An OCRed page placed on another as a form (pdfjam, qpdf --overlay, an n-up tool), whose
    old layer is itself a form: the layer is a form inside a form. pdfium counted its text, so
    --redo ran, but only forms the page draws directly were cleaned: the text came out twice."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    layer = form_xobject(
        pdf, b"BT 3 Tr /F1 13 Tf 7 128 Td (oldlayer words) Tj ET", Font=pikepdf.Dictionary(F1=helvetica())
    )
    placed = page.as_form_xobject()
    placed.Resources.XObject.Fm1 = layer
    placed.write(placed.read_bytes() + b" /Fm1 Do")
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm0=placed))
    page.obj.Contents = pdf.make_stream(b"/Fm0 Do")
    assert pdftotext(saved(pdf, tmp_path / "in.pdf")).split() == ["oldlayer", "words"]
    assert remove_text_layers(pdf, page)
    assert pdftotext(saved(pdf, tmp_path / "out.pdf")).split() == []


def form_chain(pdf: pikepdf.Pdf, depth: int) -> pikepdf.Stream:
    """A form drawing a form twice, `depth` times over, down to one drawing invisible text: 2 **
    depth paths through `depth` + 1 forms (a "billion laughs" of forms, in fuzzed files)."""
    form = form_xobject(
        pdf, b"BT 3 Tr /F1 1 Tf (x) Tj ET", (0, 0, 1, 1), Font=pikepdf.Dictionary(F1=helvetica())
    )
    for _ in range(depth):
        form = form_xobject(pdf, b"/A Do /B Do", (0, 0, 1, 1), XObject=pikepdf.Dictionary(A=form, B=form))
    return form


def test_redo_cleans_a_form_drawn_along_many_paths_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each path was walked: 18 levels of forms drawing the next twice took over a minute and 1 GB
    (pdfium itself reads that page in 6 s)."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    page.obj.Resources.XObject.Fm0 = form_chain(pdf, 12)
    page.contents_add(b" /Fm0 Do")
    parse = pikepdf.parse_content_stream
    parsed = []
    monkeypatch.setattr(pikepdf, "parse_content_stream", lambda *a: parsed.append(1) or parse(*a))
    assert remove_text_layers(pdf, page)
    assert len(parsed) < 20, len(parsed)  # the page and its 13 forms, not 2 ** 13 of them


def test_pdfium_is_asked_about_forms_only_so_deep(tmp_path: Path) -> None:
    """As pypdfium2 itself looks 15 levels deep: the walk with each form's matrix went on to any
    depth (it checked a level that was always 0), through 2 ** 16 paths of a fuzzed file."""
    pdf = scan_pdf()
    pdf.pages[0].obj.Resources.XObject.Fm0 = form_chain(pdf, 16)
    pdf.pages[0].contents_add(b" /Fm0 Do")
    rendered = pdfium.PdfDocument(saved(pdf, tmp_path / "deep.pdf"))[0]
    expected = len(list(rendered.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_TEXT])))
    assert page_text(rendered).invisible == expected < 100


def test_redo_looks_into_forms_only_as_deep_as_pdfium_draws_them() -> None:
    """A chain of 2,000 forms, each drawing the next: --redo ended in "unexpected RecursionError"
    (exit 1). The old layer in the first form still goes; text below MAX_DRAWN_FORM_DEPTH
    levels, which pdfium does not draw, stays."""
    pdf = scan_pdf()
    hidden = b"BT 3 Tr /F1 1 Tf (x) Tj ET"
    form = form_xobject(pdf, hidden, (0, 0, 1, 1), Font=pikepdf.Dictionary(F1=helvetica()))
    deepest = form
    for _ in range(2000):
        form = form_xobject(pdf, b"/A Do", (0, 0, 1, 1), XObject=pikepdf.Dictionary(A=form))
    form.write(hidden + b" /A Do")
    form.Resources.Font = pikepdf.Dictionary(F1=helvetica())
    page = pdf.pages[0]
    page.obj.Resources.XObject.Fm0 = form
    page.contents_add(b" /Fm0 Do")
    assert remove_text_layers(pdf, page)
    assert b"Tj" not in page.obj.Resources.XObject.Fm0.read_bytes()  # a copy without it
    assert deepest.read_bytes() == hidden


def test_text_and_images_in_a_moved_and_scaled_form_are_measured_on_the_page(tmp_path: Path) -> None:
    """A page with words under a scan, placed on another at 1.5 times its size and moved (pdfjam,
    n-up tools): pdfium gives the bounds and resolution of what a form draws in the form's space.
    --force then missed the page's own words and read them again, a second time; and a page
    placed at half size was rendered at half its scan's resolution there."""
    words = b" BT /F1 14 Tf 10 20 Td (Visible words) Tj ET"
    scan = pikepdf.open(saved(scan_pdf(words), tmp_path / "scan.pdf"))
    pdf = pikepdf.new()
    placed = pdf.copy_foreign(scan.pages[0].as_form_xobject())
    page = pdf.add_blank_page(page_size=(500, 400))
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm0=placed))
    page.obj.Contents = pdf.make_stream(b"q 1.5 0 0 1.5 80 150 cm /Fm0 Do Q")
    rendered = pdfium.PdfDocument(saved(pdf, tmp_path / "placed.pdf"))[0]
    shown, *rest = page_text(rendered, read=True).visible
    assert shown.text == "Visible words"  # what a text object in a form says is read too
    (left, bottom), (right, _), _, _ = shown.corners  # from the start of its baseline, counter-clockwise
    assert not rest and abs(left - (80 + 1.5 * 10)) < 2 and abs(bottom - (150 + 1.5 * 20)) < 5
    assert right - left > 1.5 * 75  # "Visible words" is 82 pt wide in the form
    assert abs(render_dpi(rendered) - 200 / 1.5) < 1  # phototest: 640 px on 230.4 pt


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("/CropBox", [50, 50, 50, 100]),  # no area: the layer was squeezed to nothing
        ("/CropBox", [0, 0, 100]),  # malformed: ValueError, exit 1
        ("/CropBox", pikepdf.Name.Foo),  # malformed: TypeError, exit 1
        ("/CropBox", [20, 10, 200, 150]),
        ("/MediaBox", [0, 0, 0, 0]),  # no area: US Letter in pdfium and poppler
        ("/Rotate", -45),  # 270 for us, 0 for pdfium: the layer lay across the page
        ("/Rotate", 135),
        ("/Rotate", -90),
        ("/Rotate", 450),
    ],
)
def test_the_layers_frame_is_the_page_pdfium_renders(tmp_path: Path, key: str, value: object) -> None:
    """The OCR reads pdfium's rendering, so the layer must be laid on the page as pdfium shows it,
    also where a page's boxes or /Rotate are odd or malformed."""
    pdf = scan_pdf()
    pdf.pages[0].obj[key] = value
    path = saved(pdf, tmp_path / "odd.pdf")
    with pikepdf.open(path) as reopened:
        page = reopened.pages[0]
        _, width, height = display_frame(page)
        rotation = page_rotation(page)
    rendered = pdfium.PdfDocument(path)[0]
    assert rotation == rendered.get_rotation()
    assert (width, height) == pytest.approx(rendered.get_size(), abs=0.01)


def test_a_password_the_pdf_does_not_need_is_ignored_quietly(tmp_path: Path) -> None:
    """pikepdf warned on stderr when a password was given but not needed, and a wrong owner
    password refused a PDF that any viewer opens without one."""
    plain = saved(scan_pdf(), tmp_path / "plain.pdf")
    owner_only = tmp_path / "owner-only.pdf"
    scan_pdf().save(owner_only, encryption=pikepdf.Encryption(user="", owner="owner", R=6))
    for path in (plain, owner_only):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opened = open_pdf(path, "wrong")
        opened.close()
        assert not caught, [str(w.message) for w in caught]


def test_a_non_ascii_password_of_older_encryption_opens_the_pdf(tmp_path: Path) -> None:
    """AES-128 and RC4 keep a password in PDFDocEncoding (as Acrobat and qpdf write it), which
    pikepdf does not try: "pässwort" was a wrong password, though viewers open the file with it."""
    plain = saved(scan_pdf(), tmp_path / "plain.pdf")
    locked = tmp_path / "locked.pdf"
    encrypt = ["--encrypt", "pässwort", "Öwner", "128", "--use-aes=y", "--"]
    subprocess.run(["qpdf", plain, *encrypt, locked], check=True)
    for password in ("pässwort", "Öwner"):
        open_pdf(locked, password).close()
    with pytest.raises(BadInputError, match="wrong password"):
        open_pdf(locked, "passwort")


def test_a_signature_whose_field_type_is_inherited_is_found() -> None:
    """/FT is inheritable: a signed field under a parent that says /Sig names no type of its own,
    and such a signed PDF was rewritten without --invalidate-signatures."""
    pdf = scan_pdf()
    parent = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Sig, T="signatures"))
    signed = pdf.make_indirect(
        pikepdf.Dictionary(T="sig1", V=pikepdf.Dictionary(Type=pikepdf.Name.Sig), Parent=parent)
    )
    parent.Kids = [signed]
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[parent], SigFlags=3)
    assert is_signed(pdf)
    del signed.V
    assert not is_signed(pdf)  # an empty signature field signs nothing


def test_certified_and_unlisted_signatures_are_found() -> None:
    """A certification signature (/Perms /DocMDP), and a signed widget that the form's /Fields
    does not list (viewers still check it), each make a PDF signed; a usage-rights one does not."""

    def signature() -> pikepdf.Dictionary:  # a new one per document: pikepdf ties objects to theirs
        return pikepdf.Dictionary(Type=pikepdf.Name.Sig, Filter=pikepdf.Name("/Adobe.PPKLite"))

    for key in ("/DocMDP", "/UR3"):
        pdf = scan_pdf()
        pdf.Root.Perms = pikepdf.Dictionary({key: pdf.make_indirect(signature())})
        assert is_signed(pdf) == (key == "/DocMDP")  # usage rights sign no one's content

    pdf = scan_pdf()
    page = pdf.pages[0].obj
    widget = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, Rect=[0, 0, 0, 0])
    )
    page.Annots = pdf.make_indirect([widget])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[])
    widget.FT = pikepdf.Name.Sig
    assert not is_signed(pdf)  # an empty signature field signs nothing
    widget.V = pdf.make_indirect(signature())
    assert is_signed(pdf)  # merged field and widget, not in /Fields
    del widget.FT, widget.V
    widget.Parent = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Sig, V=signature(), T="sig"))
    assert is_signed(pdf)  # the widget's field is its parent
    widget.Parent.FT = pikepdf.Name.Tx
    assert not is_signed(pdf)  # a filled text field is no signature
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=7)  # malformed: not an array
    widget.Parent.Kids = 7
    assert not is_signed(pdf)


def test_an_owner_only_linearized_pdf_stays_so_with_a_wrong_password(tmp_path: Path) -> None:
    original = tmp_path / "in.pdf"
    scan_pdf().save(original, linearize=True, encryption=pikepdf.Encryption(user="", owner="owner", R=6))
    out = tmp_path / "out.pdf"
    run = subprocess.run(
        [sys.executable, "-m", "ocrcli", "pdf", str(original), "-o", str(out), "--password", "wrong"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    with pikepdf.open(out) as pdf:
        assert pdf.is_linearized and pdf.is_encrypted and pdf.encryption.R == 6
    assert "quick brown" in pdftotext(out)


def test_redoing_a_page_again_and_again_does_not_nest_its_content_deeper(tmp_path: Path) -> None:
    """Each --redo wrapped the page's content in one more q ... Q; old readers allow about 28."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    add_layer(pdf, page)
    depths = []
    for _ in range(3):
        assert remove_text_layers(pdf, page)
        add_layer(pdf, page)
        depth = deepest = 0
        for instruction in pikepdf.parse_content_stream(page):
            depth += {"q": 1, "Q": -1}.get(str(instruction.operator), 0)
            deepest = max(deepest, depth)
        depths.append(deepest)
    assert depths == [depths[0]] * 3, depths
    assert pdftotext(saved(pdf, tmp_path / "out.pdf"), "-raw").split() == LAYER_WORDS


def _widgets_under_a_field_chain(depth: int, widgets: int) -> pikepdf.Pdf:
    """A PDF whose first page has `widgets` widgets, all kids of the last of a chain of `depth`
    fields each the parent of the next, the first one a signed /Sig field."""
    pdf = scan_pdf()
    field = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Sig, V=pikepdf.Dictionary(), T="top"))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field])
    for _ in range(depth - 1):
        field = pdf.make_indirect(pikepdf.Dictionary(Parent=field, T="f"))
    kids = [
        pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, Rect=[0, 0, 0, 0], Parent=field
            )
        )
        for _ in range(widgets)
    ]
    pdf.pages[0].obj.Annots = pdf.make_indirect(kids)
    return pdf


def test_widgets_sharing_ancestors_look_them_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each widget walked its whole /Parent chain: 1,000 widgets under 100,000 fields (a 1.4 MB
    PDF) took over two minutes in the process that grafts every document of an ocr scan."""
    pdf = _widgets_under_a_field_chain(30, 300)
    del pdf.Root.AcroForm.Fields[0].V  # an empty signature field: every widget is looked at
    lookups = []
    get = pikepdf.Object.get
    monkeypatch.setattr(pikepdf.Object, "get", lambda *a: lookups.append(1) or get(*a))
    assert not is_signed(pdf)
    assert len(lookups) < 10 * (30 + 300), len(lookups)  # not 300 x 30 x 2


def test_a_field_type_is_inherited_from_as_far_up_as_pdfium_looks() -> None:
    """pdfium takes an inherited /FT from at most 32 levels up: a signature further up is no
    signature to Chrome, and looking for it there walked chains of any length (see above)."""
    assert is_signed(_widgets_under_a_field_chain(MAX_FIELD_DEPTH, 1))
    pdf = _widgets_under_a_field_chain(MAX_FIELD_DEPTH + 1, 1)
    del pdf.Root.AcroForm  # the field tree, walked from the top, sees it
    assert not is_signed(pdf)


def test_a_pdf_whose_xmp_inflates_beyond_the_limit_is_refused_before_pdfium_opens_it(tmp_path: Path) -> None:
    """pdfium decodes the document's XMP when it opens it, and qpdf writes it uncompressed: a
    1 MB PDF whose XMP inflated to 1 GB took 8.3 GB to open (SIGABRT under a 4 GB limit), in the
    process that grafts every document of an ocr scan."""
    pdf = scan_pdf()
    deflate = zlib.compressobj(9)
    spaces = b" " * (1 << 20)
    data = b"".join(deflate.compress(spaces) for _ in range((MAX_METADATA_BYTES >> 20) + 1)) + deflate.flush()
    # qpdf writes the document's XMP decoded: saved under a name as long, then renamed in place
    xmp = pdf.make_stream(b"", Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    xmp.write(data, filter=pikepdf.Name.FlateDecode)
    pdf.Root.Metadatx = xmp
    bomb = saved(pdf, tmp_path / "bomb.pdf")
    bomb.write_bytes(bomb.read_bytes().replace(b"/Metadatx", b"/Metadata"))
    with pytest.raises(BadInputError, match="XMP metadata decodes to over 64 MB") as refused:
        open_pdf(bomb)
    assert refused.value.kind == "too-large"


def test_xmp_that_qpdf_cannot_decode_does_not_make_the_pdf_unreadable(tmp_path: Path) -> None:
    """XMP of a filter qpdf does not decode was measured by decoding it: the PDF failed as "not a
    readable PDF (... read_bytes called on unfilterable stream)", where it opened before and
    ocr scan --no-pdf read it. Saving it is still refused (see searchable._save)."""
    pdf = scan_pdf()
    pdf.Root.Metadata = pdf.make_stream(b"<x:xmpmeta/>", Filter=pikepdf.Name("/UnknownDecode"))
    path = tmp_path / "odd-xmp.pdf"
    pdf.save(path, fix_metadata_version=False)
    opened = open_pdf(path)
    assert len(opened.pdf.pages) == 1
    opened.close()


def test_xmp_flated_twice_or_beside_empty_parameters_is_measured_in_pieces_too(tmp_path: Path) -> None:
    """Only XMP of Flate alone was inflated in pieces to be measured: Flate twice (a 2 KB stream
    of 1 GB) or Flate beside an empty /DecodeParms was decoded by qpdf whole, and under a 1 GB
    address-space limit the check meant to spare the memory killed the process (SIGABRT)."""
    once = zlib.compressobj(9)
    spaces = b" " * (1 << 20)
    flate = b"".join(once.compress(spaces) for _ in range(1024)) + once.flush()  # 1 GB in 1 MB
    flate_ = pikepdf.Name.FlateDecode
    paths = []
    for name, data, filters, parms in [
        ("twice", zlib.compress(flate, 9), pikepdf.Array([flate_, flate_]), None),
        ("parameters", flate, flate_, pikepdf.Dictionary()),
    ]:
        pdf = scan_pdf()
        xmp = pdf.make_stream(data, Filter=filters)
        if parms is not None:
            xmp.DecodeParms = parms
        pdf.Root.Metadatx = xmp  # see the test above; saved as it is, not as qpdf would simplify it
        paths.append(tmp_path / f"{name}.pdf")
        pdf.save(paths[-1], compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
        paths[-1].write_bytes(paths[-1].read_bytes().replace(b"/Metadatx", b"/Metadata"))
    opening = (
        "import resource, sys\n"
        "from ocrcli.errors import BadInputError\n"
        "from ocrcli.pdfpages import open_pdf\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        open_pdf(path)\n"
        "    except BadInputError as exc:\n"
        "        print(exc.kind, exc.reason)\n"
    )
    run = subprocess.run([sys.executable, "-c", opening, *map(str, paths)], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "too-large its XMP metadata decodes to over 64 MB\n" * 2), (
        run.stderr
    )


def test_a_pdf_listing_over_max_pages_is_refused_before_qpdf_reads_its_pages(tmp_path: Path) -> None:
    """qpdf holds about 2.5 KB a page, also for a page listed many times (it copies it): a 14 KB
    PDF listing one page a million times took 2.5 GB to open, in the process that grafts every
    document of an ocr scan. Counted from /Kids, so a /Count of 1 does not hide them."""
    pdf = scan_pdf()
    page = pdf.Root.Pages.Kids[0]
    pdf.Root.Pages.Kids = pikepdf.Array([page] * (MAX_PAGES + 1))
    pdf.Root.Pages.Count = 1
    many = tmp_path / "many.pdf"
    pdf.save(many, object_stream_mode=pikepdf.ObjectStreamMode.generate)  # a few KB
    for opening in (open_pdf, open_pikepdf):
        with pytest.raises(BadInputError, match=f"over {MAX_PAGES:,} pages") as refused:
            opening(many)
        assert refused.value.kind == "too-large"
    pdf.Root.Pages.Kids = pikepdf.Array([page] * 3)  # a page listed three times, as some tools do
    pdf.Root.Pages.Count = 3
    pdf.save(tmp_path / "three.pdf")
    with open_pikepdf(tmp_path / "three.pdf") as three:
        assert len(three.pages) == 3


def _layer_page(pdf: pikepdf.Pdf) -> Page:
    """The OCR of page 1 as LAYER_WORDS near its top left (its pixels are points)."""
    _, width, height = display_frame(pdf.pages[0])
    quad = (10, 10, 60, 10, 60, 22, 10, 22)
    return Page(
        1, round(width), round(height), 72.0, lines=[Line("ocrcli", quad, 0.99, [Word("ocrcli", quad, 0.99)])]
    )


def _graft_unless_too_complex(content: bytes, replace_layers: bool) -> tuple[Page, bytes, bytes]:
    """Graft a one-word OCR onto phototest whose page content ends in `content`, as ocr pdf
    and ocr scan do (--redo, --force: `replace_layers`): (the page returned, the page's content
    before, after)."""
    from ocrcli.searchable import PageReading, PdfGrafter

    pdf = scan_pdf(content)
    page = pdf.pages[0]
    before = b"\n".join(map(decoded, content_streams(page)))
    grafter = PdfGrafter(pdf)
    result = grafter.add(0, PageReading(_layer_page(pdf), replace_layers=replace_layers))
    return result, before, b"\n".join(map(decoded, content_streams(page)))


def test_redo_refuses_a_page_it_would_parse_into_gigabytes() -> None:
    """--redo and --force parse a page's whole content into a list to take invisible text off,
    about 340 bytes an operator: a 446 KB PDF whose page says "BT ET" 50 million times took 7.5 GB,
    then MemoryError. Here 3 million of them and a render mode 3 (so the content may hold an OCR
    layer): 2 GB and 20 s before; now the page is left as it is and skipped, saying why."""
    result, before, after = _graft_unless_too_complex(b"3 Tr\n" + b"BT ET\n" * 3_000_000, True)
    assert result.skipped is not None and "too complex" in result.skipped, result.skipped
    assert result.skip_kind == "too-complex"
    assert not result.lines and after == before


def test_a_page_too_complex_to_scan_in_good_time_is_skipped() -> None:
    """Content of over MAX_CONTENT_TOKENS is skipped: 50 million "BT ET" took 2 minutes of the
    grafting process's CPU, outside any page timeout, when the layer's enclosing streamed it
    through qpdf's tokenizer (6 million: 13 s)."""
    result, before, after = _graft_unless_too_complex(b"BT ET\n" * 6_000_000, False)
    assert result.skipped is not None and "too complex" in result.skipped, result.skipped
    assert not result.lines and after == before


def test_redo_grafts_a_heavy_vector_page_that_cannot_hold_invisible_text(tmp_path: Path) -> None:
    """A vector drawing of 600,000 paths (6.6 million tokens, 2.4 million operators) that sets no
    render mode nor marks content cannot hold an OCR layer: --redo grafts it without parsing it
    whole (over MAX_PARSED_TOKENS; a vector page of 7 million tokens took 1.6 GB so)."""
    result, _, after = _graft_unless_too_complex(b"0 0 0 RG 1 2 m 3 4 l S\n" * 600_000, True)
    assert result.skipped is None and result.lines
    assert b"/OcrcliTextLayer Do" in after


@pytest.mark.parametrize("where", ["page", "form"])
def test_content_that_inflates_to_half_a_gigabyte_is_refused_in_flat_memory(where: str) -> None:
    """Half a megabyte of Flate that inflates to 512 MB of spaces, as the page's content or as a
    form's that --redo reads: each was read whole (held twice, by qpdf and by Python: 1 GB of
    spaces took ocr scan's grafting process to 2.18 GB). Now inflated piece by piece and refused
    as soon as it is over the limit."""
    import tracemalloc
    import zlib

    from ocrcli.searchable import PageReading, PdfGrafter

    deflate = zlib.compressobj(9)
    spaces = b" " * (1 << 20)
    raw = b"".join(deflate.compress(spaces) for _ in range(512)) + deflate.flush()
    pdf = scan_pdf()
    bomb = form_xobject(pdf, b"") if where == "form" else pdf.make_stream(b"")
    bomb.write(raw, filter=pikepdf.Name.FlateDecode)
    page = pdf.pages[0]
    if where == "form":
        page.obj.Resources.XObject.Bomb = bomb
        page.contents_add(b"q /Bomb Do Q")
    else:
        page.contents_add(bomb)
    tracemalloc.start()
    try:
        result = PdfGrafter(pdf).add(0, PageReading(_layer_page(pdf), replace_layers=True))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.skipped is not None and "too complex" in result.skipped, result.skipped
    assert peak < 100_000_000, f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_images_are_written_as_they_were_whatever_their_filters(tmp_path: Path, encrypted: bool) -> None:
    """Saved with qpdf compressing streams (pikepdf's default), every stream not filtered by the
    name /FlateDecode alone was decoded and compressed again, at decode level none too: images in
    [/FlateDecode] (ImageMagick's; a PNG predictor was dropped), [/ASCII85Decode /FlateDecode]
    (reportlab's), LZW, or uncompressed came out as other bytes. The streams we add are
    compressed all the same."""
    from ocrcli.searchable import PageReading, PdfGrafter

    grey = Image.open(PHOTOTEST).convert("L")
    width, height = grey.size
    samples = grey.tobytes()
    rows = b"".join(b"\0" + samples[y * width : (y + 1) * width] for y in range(height))  # PNG rows
    flate, ascii85 = pikepdf.Name.FlateDecode, pikepdf.Name.ASCII85Decode
    predictor = pikepdf.Dictionary(Predictor=15, Colors=1, BitsPerComponent=8, Columns=width)
    images = {
        "/Raw": (samples, None, None),
        "/Predicted": (zlib.compress(rows), pikepdf.Array([flate]), pikepdf.Array([predictor])),
        "/Ascii85": (
            base64.a85encode(zlib.compress(samples), adobe=True)[2:],
            pikepdf.Array([ascii85, flate]),
            None,
        ),
    }
    pdf = pikepdf.new()
    xobjects = pikepdf.Dictionary()
    for name, (data, filters, parms) in images.items():
        image = pdf.make_stream(data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image)
        image.Width, image.Height, image.BitsPerComponent = width, height, 8
        image.ColorSpace = pikepdf.Name.DeviceGray
        if filters is not None:
            image.Filter = filters
        if parms is not None:
            image.DecodeParms = parms
        xobjects[name] = image
    drawn = b" ".join(b"q 230.4 0 0 172.8 0 0 cm " + name.encode() + b" Do Q" for name in images)
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 230.4, 172.8],
        Resources=pikepdf.Dictionary(XObject=xobjects),
        Contents=pdf.make_stream(drawn),
    )
    pdf.pages.append(pikepdf.Page(page))
    source, dest = tmp_path / "in.pdf", tmp_path / "out.pdf"
    # as they are: qpdf decodes nothing when it compresses nothing (a decode level and encryption clash)
    pdf.save(
        source, compress_streams=False, encryption=pikepdf.Encryption(owner="o", R=6) if encrypted else False
    )

    with pikepdf.open(source) as original:
        grafter = PdfGrafter(original)
        grafter.add(0, PageReading(_layer_page(original)))
        grafter.save(dest, source)
    with pikepdf.open(source) as original, pikepdf.open(dest) as output:
        before, after = (p.pages[0].obj.Resources.XObject for p in (original, output))
        for name in images:
            assert after[name].read_raw_bytes() == before[name].read_raw_bytes(), name
            assert after[name].stream_dict == before[name].stream_dict, name
        font = after["/OcrcliTextLayer"].Resources.Font["/OcrcliFont"]
        cid_font = font.DescendantFonts[0]
        ours = [font.ToUnicode, cid_font.CIDToGIDMap, cid_font.FontDescriptor.FontFile2]
        assert [stream.get("/Filter") for stream in ours] == [flate] * 3
    assert pdftotext(dest, "-raw").split() == ["ocrcli"]


def tagged_scan_pdf() -> pikepdf.Pdf:
    """scan_pdf as a tagged PDF: its image is a Figure of the structure tree (marked content 0)."""
    pdf = scan_pdf()
    page = pdf.pages[0]
    figure_content = b"/Figure <</MCID 0>> BDC " + read_content(content_streams(page)) + b" EMC"
    page.obj.Contents = pdf.make_stream(figure_content)
    page.obj.StructParents = 0
    root = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot))
    figure = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Figure, P=root, Pg=page.obj, K=0)
    )
    root.K = [figure]
    root.ParentTree = pdf.make_indirect(pikepdf.Dictionary(Nums=[0, [figure]]))
    root.ParentTreeNextKey = 1
    pdf.Root.StructTreeRoot = root
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
    return pdf


def text_outside_structure(holder: pikepdf.Page | pikepdf.Stream, marks: tuple[str, ...] = ()) -> int:
    """How many text-showing operators of a page (and the forms it draws) are neither in marked
    content with an MCID nor in an /Artifact sequence: in a tagged PDF there should be none (ISO
    32000-1, 14.8.2.2; PDF/UA-1, 7.1)."""
    resources = holder.get("/Resources", pikepdf.Dictionary())
    count, open_marks = 0, list(marks)
    for instruction in pikepdf.parse_content_stream(holder):
        op, operands = str(instruction.operator), instruction.operands
        if op in ("BMC", "BDC"):
            has_mcid = op == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]
            open_marks.append("artifact" if operands[0] == "/Artifact" else "mcid" if has_mcid else "")
        elif op == "EMC":
            open_marks.pop()
        elif op in ("Tj", "TJ", "'", '"'):
            count += not {"artifact", "mcid"} & set(open_marks)
        elif op == "Do" and resources.XObject[operands[0]].Subtype == "/Form":
            count += text_outside_structure(resources.XObject[operands[0]], tuple(open_marks))
    return count


def test_the_layer_of_a_tagged_pdf_is_an_artifact(tmp_path: Path) -> None:
    """A tagged PDF's content is in its structure tree or marked as an artifact; the layer was
    neither (pikepdf's form_210966, which claims PDF/UA-1, OCRed with --force: 11 text-showing
    operators; no validator installable here checks this). It is now an artifact, which text
    extractors read all the same; --redo replaces it whole, artifact mark and all. An untagged PDF
    has no structure for the layer to be outside of: its layer stays unmarked."""
    pdf = tagged_scan_pdf()
    page = pdf.pages[0]
    add_layer(pdf, page)
    assert text_outside_structure(page) == 0
    assert remove_text_layers(pdf, page)
    add_layer(pdf, page)
    assert text_outside_structure(page) == 0
    assert read_content(content_streams(page)).count(b"/Artifact") == 1
    assert pdftotext(saved(pdf, tmp_path / "out.pdf"), "-raw").split() == LAYER_WORDS
    untagged = scan_pdf()
    add_layer(untagged, untagged.pages[0])
    assert b"/Artifact" not in read_content(content_streams(untagged.pages[0]))


def test_the_images_name_in_the_info_is_a_text_string_that_viewers_read(tmp_path: Path) -> None:
    """The image's name in an image PDF's Info (mark_image_pdf) was its UTF-8 bytes, which PDF
    reads as PDFDocEncoding: pdfinfo and viewers' document properties showed café.png as
    cafÃ©.png. A name with bytes the file system's encoding does not decode keeps its bytes, and
    a mark written the old way still reads back."""
    names = ["café.png", "日本語.png", "plain.png", os.fsdecode(b"caf\xe9.png")]
    for number, name in enumerate(names):
        pdf = scan_pdf()
        mark_image_pdf(pdf, Path(name))
        path = saved(pdf, tmp_path / f"{number}.pdf")
        assert marked_image(path) == name
        info = subprocess.run(["pdfinfo", "-custom", "-enc", "UTF-8", path], capture_output=True).stdout
        if number < 3:
            assert f"OcrcliImage:     {name}\n".encode() in info
    pdf = scan_pdf()
    pdf.docinfo["/OcrcliImage"] = pikepdf.String("café.png".encode())
    assert marked_image(saved(pdf, tmp_path / "old.pdf")) == "café.png"
