"""The invisible font of the text layer: one glyphless TrueType font, embedded once per document.

Every character maps to one empty glyph that advances half an em, so any text can be "drawn" and
nothing shows. The font is a Type0 font with Identity-H encoding: each distinct character the
document uses gets a 2-byte code (CID) in order of first use, and the ToUnicode map turns each code
back into its character, so every extractor returns exactly the text the recognizer read (accents,
€, ligatures, CJK and characters beyond the BMP alike). Ascent 0.8 em and descent 0.2 em make a
character's box exactly one em tall, so the layer can size text by its word box's height.
"""

from __future__ import annotations

import io
from functools import lru_cache

import pikepdf

FONT_NAME = "OcrcliGlyphless"
UNITS_PER_EM = 1000
ADVANCE = 500  # every glyph advances half an em
ASCENT, DESCENT = 800, -200  # one em from the descender to the ascender
ADVANCE_EM = ADVANCE / UNITS_PER_EM
DESCENT_EM = -DESCENT / UNITS_PER_EM


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
    builder.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=ASCENT,
        sTypoDescender=DESCENT,
        usWinAscent=ASCENT,
        usWinDescent=-DESCENT,
        sxHeight=ASCENT // 2,
        sCapHeight=ASCENT,
    )
    builder.setupPost()
    builder.updateHead(created=0, modified=0)
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


class GlyphlessFont:
    """One Type0 font object for a whole PDF; codes are handed out as pages are laid out and the
    ToUnicode and CIDToGIDMap streams are written by `finish()` before the PDF is saved."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.codes: dict[str, int] = {}
        descriptor = pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=pikepdf.Name("/" + FONT_NAME),
            Flags=5,  # fixed pitch, symbolic
            FontBBox=[0, DESCENT, ADVANCE, ASCENT],
            ItalicAngle=0,
            Ascent=ASCENT,
            Descent=DESCENT,
            CapHeight=ASCENT,
            StemV=80,
            FontFile2=pdf.make_stream(glyphless_truetype()),
        )
        self._cid_to_gid = pdf.make_stream(b"")
        self._to_unicode = pdf.make_stream(b"")
        cid_font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name("/" + FONT_NAME),
            CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=pdf.make_indirect(descriptor),
            DW=ADVANCE,
            CIDToGIDMap=self._cid_to_gid,
        )
        self.font = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type0,
                BaseFont=pikepdf.Name("/" + FONT_NAME),
                Encoding=pikepdf.Name("/Identity-H"),
                DescendantFonts=[pdf.make_indirect(cid_font)],
                ToUnicode=self._to_unicode,
            )
        )

    def encode(self, text: str) -> bytes:
        """The string's codes, 2 bytes per character, big-endian."""
        out = bytearray()
        for char in text:
            code = self.codes.get(char)
            if code is None:
                code = self.codes[char] = len(self.codes) + 1  # code 0 stays .notdef
                if code > 0xFFFF:
                    raise ValueError("more than 65535 distinct characters in one document")
            out += code.to_bytes(2, "big")
        return bytes(out)

    def finish(self) -> None:
        """Write the maps for every code handed out so far."""
        self._cid_to_gid.write(b"\x00\x00" + b"\x00\x01" * len(self.codes))
        self._to_unicode.write(to_unicode_cmap(self.codes))


def to_unicode_cmap(codes: dict[str, int]) -> bytes:
    """A ToUnicode CMap mapping each 2-byte code to its character (UTF-16BE, surrogates included)."""
    entries = sorted((code, char) for char, code in codes.items())
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
    for start in range(0, len(entries), 100):  # at most 100 entries per block
        chunk = entries[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{code:04X}> <{char.encode('utf-16-be').hex().upper()}>" for code, char in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return ("\n".join(lines) + "\n").encode("ascii")
