"""The invisible font of the text layer: one glyphless TrueType font, embedded once per document.

Every character maps to one empty glyph that advances half an em, so any text can be "drawn" and
nothing shows. The font is a Type0 font with Identity-H encoding: a character of the Basic
Multilingual Plane is drawn with its code point as its 2-byte code (CID), as Tesseract's PDFs do,
and each character beyond the BMP (and U+0000) gets a code of the surrogate range, D800-DDFF, which
no character has, in order of first use; DE00-DFFF are codes of characters drawn with a glyph of
another width (see GlyphlessFont.encode_at), given in the CIDFont's /W. The ToUnicode map turns
each code back into its character, so every extractor returns exactly the text the recognizer read
(accents, €, ligatures, CJK and characters beyond the BMP alike). Codes up to 00FF (Latin-1, most
of a Western page) are one range in the map; with a code per character in order of first use, the
map listed each one: 361 of a 5 KB scan's PDF's 6,078 bytes, against a 10 % size budget. Every
other code used is listed on its own (about 4.5 bytes compressed each; 5 to 60 bytes on a Latin
page): Ghostscript 10.00 read a range of codes above 00FF as other characters (θ as », – as 3, ł as
C, € as Ì), in its text output and in every PDF it rewrites (pdfwrite builds a new map from what it
read, so a conversion to PDF/A or a size reduction left the wrong text for every reader). It reads
a listed code right. Characters beyond the BMP it gets wrong however they are mapped. Ascent 0.8 em
and descent 0.2 em make a character's box exactly one em tall, so the layer can size text by its
word box's height.

The same font can also be had with taller character boxes (GlyphlessFont.with_box): its Ascent
and Descent grow by the same amount, so the box stays centred where the one-em box is. Readers that
place words by those metrics (poppler: pdftotext -bbox, Evince's selection) then see a taller word
box around the same middle; the font program, widths and maps are shared, so only two small
dictionaries are added per box height used. The text layer draws a skewed line on one level in
such a font (see layerplacement.line_words).
"""

from __future__ import annotations

import io
import zlib
from functools import lru_cache

import pikepdf

FONT_NAME = "OcrcliGlyphless"
UNITS_PER_EM = 1000
ADVANCE = 500  # every glyph advances half an em
ASCENT, DESCENT = 800, -200  # one em from the descender to the ascender
ADVANCE_EM = ADVANCE / UNITS_PER_EM
DESCENT_EM = -DESCENT / UNITS_PER_EM
ASSIGNED_CODES = range(0xD800, 0xDE00)  # codes of the characters that are not their own code point
WIDENED_CODES = range(0xDE00, 0xE000)  # codes of characters drawn with a glyph of another width...
WIDTH_FACTORS = (0.125, 0.25, 0.5, 2.0, 4.0)  # ...this many times as wide as the others (see encode_at)
# Heights of character box the font comes in, in ems (see with_box). poppler ignores an Ascent of
# 3 em or more (GfxFont::readFontDescriptor takes it for a broken value), which 5 em keeps below.
BOX_EMS = (1, 2, 3, 4, 5)


@lru_cache(maxsize=1)
def glyphless_truetype() -> bytes:
    """A TrueType font with .notdef and one empty glyph, both ADVANCE wide; built with fontTools."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.font.recalcTimestamp = False  # the same bytes every time: reproducible PDFs
    builder.setupGlyphOrder([".notdef", "blank"])
    builder.setupCharacterMap({0x20: "blank"})  # unused by PDF readers (CIDToGIDMap maps codes)
    empty = TTGlyphPen(None).glyph()
    # The glyph is one zero-area stroke across the em box: it paints nothing, yet gives the glyph a
    # bounding box, without which pdfium computes empty character boxes and drops lone characters.
    pen = TTGlyphPen(None)
    pen.moveTo((0, DESCENT))
    pen.lineTo((ADVANCE, ASCENT))
    pen.closePath()
    builder.setupGlyf({".notdef": empty, "blank": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (ADVANCE, 0), "blank": (ADVANCE, 0)})
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    builder.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"}, mac=False)
    builder.setupOS2(
        sTypoAscender=ASCENT,
        sTypoDescender=DESCENT,
        usWinAscent=ASCENT,
        usWinDescent=-DESCENT,
        sxHeight=ASCENT // 2,
        sCapHeight=ASCENT,
    )
    builder.setupPost(keepGlyphNames=False)
    builder.updateHead(created=0, modified=0)
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


class GlyphlessFont:
    """One Type0 font object for a whole PDF; codes are handed out as pages are laid out and the
    ToUnicode and CIDToGIDMap streams are written by `finish()` before the PDF is saved."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.codes: dict[str, int] = {}  # every character drawn, and its code
        self.assigned: dict[str, int] = {}  # those drawn with a code of ASSIGNED_CODES
        self.widened: dict[tuple[str, float], int] = {}  # (character, width factor): its code
        self._descriptor = pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=pikepdf.Name("/" + FONT_NAME),
            Flags=5,  # fixed pitch, symbolic
            FontBBox=[0, DESCENT, ADVANCE, ASCENT],
            ItalicAngle=0,
            Ascent=ASCENT,
            Descent=DESCENT,
            CapHeight=ASCENT,
            StemV=80,
            FontFile2=flate_stream(pdf, glyphless_truetype(), Length1=len(glyphless_truetype())),
        )
        self._cid_to_gid = pdf.make_stream(b"")
        self._to_unicode = pdf.make_stream(b"")
        self._fonts: dict[int, pikepdf.Object] = {}  # box height in ems: the Type0 font
        self.font = self.with_box(1)

    def with_box(self, ems: int) -> pikepdf.Object:
        """The font (a Type0 font object) with character boxes `ems` (one of BOX_EMS) tall."""
        if ems in self._fonts:
            return self._fonts[ems]
        grown = (ems - 1) * UNITS_PER_EM // 2  # added above the ascender and below the descender
        descriptor = self._descriptor.copy()
        descriptor.Ascent, descriptor.Descent = ASCENT + grown, DESCENT - grown
        descriptor.FontBBox = [0, DESCENT - grown, ADVANCE, ASCENT + grown]
        cid_font = self.pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.CIDFontType2,
                BaseFont=pikepdf.Name("/" + FONT_NAME),
                CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
                FontDescriptor=self.pdf.make_indirect(descriptor),
                DW=ADVANCE,
                CIDToGIDMap=self._cid_to_gid,
            )
        )
        font = self._fonts[ems] = self.pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type0,
                BaseFont=pikepdf.Name("/" + FONT_NAME),
                Encoding=pikepdf.Name("/Identity-H"),
                DescendantFonts=[cid_font],
                ToUnicode=self._to_unicode,
            )
        )
        return font

    def encode(self, text: str) -> bytes:
        """The string's codes, 2 bytes per character, big-endian."""
        out = bytearray()
        for char in text:
            code = self.codes.get(char)
            if code is None:
                code = self.codes[char] = self._new_code(char)
            out += code.to_bytes(2, "big")
        return bytes(out)

    def encode_at(self, char: str, factor: float) -> bytes | None:
        """The code of `char` drawn with a glyph `factor` (one of WIDTH_FACTORS) times as wide as
        the others, a code of its own, mapped back to the character; None once the codes run out.
        A character alone in a word of an upside-down row cannot otherwise be drawn at its box's
        width (see textlayer._upside_down_row)."""
        code = self.widened.get((char, factor))
        if code is None:
            if len(self.widened) == len(WIDENED_CODES):
                return None
            code = self.widened[char, factor] = WIDENED_CODES[len(self.widened)]
        return code.to_bytes(2, "big")

    def _new_code(self, char: str) -> int:
        point = ord(char)
        if 0 < point <= 0xFFFF and point not in ASSIGNED_CODES:
            return point
        if len(self.assigned) == len(ASSIGNED_CODES):
            raise ValueError(
                f"more than {len(ASSIGNED_CODES)} distinct characters beyond the BMP in one document"
            )
        code = self.assigned[char] = ASSIGNED_CODES[len(self.assigned)]
        return code

    def finish(self) -> None:
        """Write the maps for every code handed out so far: every code to the one glyph (code 0
        stays .notdef), and the ToUnicode map."""
        last = max([*self.codes.values(), *self.widened.values()], default=0)
        write_flate(self._cid_to_gid, b"\x00\x00" + b"\x00\x01" * last)
        own_codes = set(self.codes.values()) - set(self.assigned.values())
        assigned = {code: char for char, code in self.assigned.items()}
        assigned.update({code: char for (char, _), code in self.widened.items()})
        write_flate(self._to_unicode, to_unicode_cmap(own_codes, assigned))
        if self.widened:  # each widened code's glyph width
            widths = sorted((code, round(factor * ADVANCE)) for (_, factor), code in self.widened.items())
            array = self.pdf.make_indirect(
                pikepdf.Array([x for code, width in widths for x in (code, [width])])
            )
            for font in self._fonts.values():
                font.DescendantFonts[0].W = array


def flate_stream(pdf: pikepdf.Pdf, data: bytes, **keys: object) -> pikepdf.Stream:
    """A new stream of `data` (see write_flate), with these keys in its dictionary."""
    stream = pdf.make_stream(b"", **keys)
    write_flate(stream, data)
    return stream


def write_flate(stream: pikepdf.Stream, data: bytes) -> None:
    """Make `data` the stream's, compressed here at zlib's best level: a user's PDF is saved with
    its streams as they are (see searchable._save), so qpdf compresses none of the streams we add."""
    stream.write(zlib.compress(data, 9), filter=pikepdf.Name.FlateDecode)


def to_unicode_cmap(own_codes: set[int], assigned: dict[int, str]) -> bytes:
    """A ToUnicode CMap: codes 0000-00FF that are their characters' code points as one range, each
    other such code to itself, and each assigned code to its character (UTF-16BE, a surrogate pair
    beyond the BMP). Ghostscript (10.00) reads a range right only where its characters are under
    U+0100 (see the module's docstring)."""
    ranges = ["<0000> <00FF> <0000>"] if any(code <= 0xFF for code in own_codes) else []
    chars = [f"<{code:04X}> <{code:04X}>" for code in sorted(own_codes) if code > 0xFF]
    chars += [
        f"<{code:04X}> <{char.encode('utf-16-be', 'surrogatepass').hex().upper()}>"
        for code, char in sorted(assigned.items())
    ]
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for kind, entries in (("bfrange", ranges), ("bfchar", chars)):
        for start in range(0, len(entries), 100):  # at most 100 entries per block
            chunk = entries[start : start + 100]
            lines += [f"{len(chunk)} begin{kind}", *chunk, f"end{kind}"]
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return ("\n".join(lines) + "\n").encode("ascii")
