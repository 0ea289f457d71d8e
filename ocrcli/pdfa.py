"""PDF/A-2b for the PDFs made from images (--pdfa): the archival form of PDF (ISO 19005-2, level
B, the look preserved), which carries all it needs to be shown alike decades on.

A PDF made here from images already keeps to almost all its rules: every font embedded (the
layer's glyphless one, with its ToUnicode map, no glyph drawn as .notdef), no transparency (an
image's is flattened onto white), no LZW, no encryption, actions or annotations. What it lacks:
- an output intent, whose ICC profile says how the images' device colours (DeviceRGB,
  DeviceGray) are to be shown: sRGB, as littleCMS (through Pillow) makes it, 588 bytes;
- XMP metadata that names the file PDF/A-2b and agrees with the Info's dates and producer.
Cross-reference and object streams, which PDF/A-1 (PDF 1.4) lacks, PDF/A-2 allows, and so do
16-bit images and ICC profiles of version 4. An image whose colours PDF/A-2b cannot tie to the
sRGB intent (CMYK, or an ICC profile newer than version 4 or of a class PDF/A-2 does not allow,
such as a device link) is refused, kind unsupported: it is not converted for PDF/A, so the page
stays as scanned. A PDF given to `ocr pdf` or `ocr scan`
keeps its own form; a PDF/A input stays PDF/A (see README)."""

from __future__ import annotations

import datetime
from functools import lru_cache
from pathlib import Path

import pikepdf

from ocrcli import __version__
from ocrcli.errors import BadInputError
from ocrcli.pdfpages import decoded

PART, CONFORMANCE = "2", "B"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
MAX_ICC_MAJOR_VERSION = 4  # ISO 19005-2, 6.2.4.2: ICC.1:2004 (version 4) or earlier
# ISO 32000-1 8.6.5.5, which 6.2.4.2 refers to: an image's profile is one of an input device
# (scanner, camera), a display, an output device or a colour space; not an abstract profile, a
# device link or a named colour one. By the device class in its header (bytes 12-15).
_IMAGE_PROFILE_CLASSES = {b"scnr", b"mntr", b"prtr", b"spac"}
_DEVICE_COLOURS = {"/DeviceGray", "/DeviceRGB"}  # what an sRGB output intent covers
_CALIBRATED = {"/CalGray", "/CalRGB", "/Lab"}  # device-independent: need no intent
_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>{part}</pdfaid:part>
   <pdfaid:conformance>{conformance}</pdfaid:conformance>
   <xmp:CreateDate>{date}</xmp:CreateDate>
   <xmp:ModifyDate>{date}</xmp:ModifyDate>
   <xmp:MetadataDate>{date}</xmp:MetadataDate>
   <pdf:Producer>{producer}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def refuse_unless_pdfa_able(pdf: pikepdf.Pdf, source: Path) -> None:
    """BadInputError (kind unsupported) naming the image `source`, whose PDF `pdf` is, and what
    keeps its images out of PDF/A-2b; nothing if make_pdfa can make a PDF of them PDF/A-2b."""
    for page in pdf.pages:
        for image in page.get_images().values():
            if image.get("/ImageMask") is True:  # a stencil: painted in the content's colour
                continue
            if reason := _colours_refused(image.get("/ColorSpace")):
                raise BadInputError(source, f"cannot be PDF/A-2b: {reason}", "unsupported")


def make_pdfa(pdf: pikepdf.Pdf) -> None:
    """Make `pdf`, made from images that refuse_unless_pdfa_able let through, PDF/A-2b."""
    pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(_output_intent(pdf))])
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    producer = f"ocrcli {__version__}"
    # The Info and the XMP must agree (as PDF/A requires): both are written here, from one clock.
    pdf.docinfo["/CreationDate"] = pdf.docinfo["/ModDate"] = now.strftime("D:%Y%m%d%H%M%S+00'00'")
    pdf.docinfo["/Producer"] = producer
    xmp = _XMP.format(part=PART, conformance=CONFORMANCE, date=now.isoformat(), producer=producer)
    # Unfiltered, as PDF/A asks of the metadata stream (qpdf does not compress one when saving)
    pdf.Root.Metadata = pdf.make_stream(xmp.encode(), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)


def _colours_refused(space: object) -> str | None:
    """Why an image in colour space `space` cannot be shown through the sRGB intent (None: it can)."""
    if isinstance(space, pikepdf.Name):
        if str(space) in _DEVICE_COLOURS:
            return None
        return f"an image in {str(space)[1:]} with no ICC profile of its own (only RGB and grey need none)"
    if isinstance(space, pikepdf.Array) and len(space) >= 2:
        family = str(space[0])
        if family in _CALIBRATED:
            return None
        if family == "/Indexed":  # a palette: its base space counts
            return _colours_refused(space[1])
        if family == "/ICCBased":  # the image's own profile: valid whatever the intent, if PDF/A-2's
            return _profile_refused(bytes(decoded(space[1])[:16]))
    if space is None:  # JPEG 2000 data's own colour space
        return "an image whose colour space the PDF does not state"
    return f"an image in colour space {space}"


def _profile_refused(header: bytes) -> str | None:
    """Why PDF/A-2 does not allow an image's ICC profile, by its first 16 bytes (None: it does)."""
    if len(header) < 16:
        return "an image's ICC profile is cut short"
    if header[8] > MAX_ICC_MAJOR_VERSION:
        return f"an image's ICC profile is version {header[8]}, newer than PDF/A-2 allows"
    if header[12:16] not in _IMAGE_PROFILE_CLASSES:
        kind = header[12:16].decode("latin-1")
        return f"an image's ICC profile is of class '{kind}', not of a device or colour space"
    return None


def _output_intent(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    profile = pdf.make_stream(_srgb_profile(), N=3)
    return pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent,
        S=pikepdf.Name.GTS_PDFA1,  # the PDF/A intent, whatever the part
        OutputConditionIdentifier=pikepdf.String(OUTPUT_CONDITION),
        Info=pikepdf.String(OUTPUT_CONDITION),
        RegistryName=pikepdf.String("http://www.color.org"),
        DestOutputProfile=profile,
    )


@lru_cache(maxsize=1)
def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
