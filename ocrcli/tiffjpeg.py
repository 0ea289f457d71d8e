"""The JPEG data of a JPEG-compressed TIFF frame, joined into one baseline JPEG file without
decoding it, so that the PDF embeds the scan's own bytes (img2pdf decodes such a TIFF and stores
its pixels with Flate: 2 to 3 times the file's size).

A TIFF frame keeps its JPEG data in strips of rows (or tiles), each an abbreviated JPEG stream
whose tables may sit in the JPEGTables tag. The strips are joined as restart intervals of one
scan: each strip's entropy-coded data is left as it is, followed by a restart marker, and the
frame header gives the whole height. That is exact where each strip holds whole rows of MCUs,
which libtiff requires of every strip but the last. The TIFF's ICC profile goes along as APP2
segments. Anything else (tiles, progressive or arithmetic coding, a strip with its own restart
markers or tables unlike the others', white as zero, CMYK) gets None, and the caller leaves the
file to img2pdf as before.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image
from PIL.TiffImagePlugin import (
    COMPRESSION,
    IMAGELENGTH,
    IMAGEWIDTH,
    PHOTOMETRIC_INTERPRETATION,
    PLANAR_CONFIGURATION,
    ROWSPERSTRIP,
    STRIPBYTECOUNTS,
    STRIPOFFSETS,
    TILEWIDTH,
)

JPEG_COMPRESSION = 7  # TIFF Compression tag value of "new-style" JPEG (6, "old-style", is not handled)
_PHOTOMETRIC_GREY, _PHOTOMETRIC_RGB, _PHOTOMETRIC_YCBCR = 1, 2, 6
_EOI, _SOS, _DRI = 0xD9, 0xDA, 0xDD
_BASELINE_FRAMES = (0xC0, 0xC1)  # SOF0 baseline, SOF1 extended sequential: Huffman, one scan
_OTHER_FRAMES = (0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF)  # and DAC
_TABLES = (0xC4, 0xDB)  # DHT, DQT
_ICC_NAME = b"ICC_PROFILE\0"
ICC_CHUNK = 65519  # the most profile data one APP2 segment holds (65,535 less its length and header)
# An Adobe APP14 segment whose transform flag 0 says the three components are R, G and B, not
# YCbCr: PDF viewers then leave the colours as they are (the PDF reference, DCTDecode).
_ADOBE_RGB = b"\xff\xee" + struct.pack(">H", 14) + b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0)


@dataclass
class _Strip:
    tables: list[bytes]  # DQT and DHT segments in the strip itself, marker included
    frame_marker: int  # C0 or C1
    frame: bytes  # the SOF segment's payload
    scan_header: bytes  # the SOS segment, marker included
    entropy: bytes  # the entropy-coded data up to EOI


def frame_jpeg(im: Image.Image, data: bytes) -> bytes | None:
    """The current frame of the TIFF `im` (read from the file bytes `data`) as one JPEG file with
    its compressed data unchanged; None where that cannot be done exactly (see the docstring), or
    where the file's tags or JPEG segments are malformed."""
    try:
        return _joined_strips(im, data)
    except (ValueError, TypeError, IndexError, ArithmeticError, struct.error):
        return None


def _joined_strips(im: Image.Image, data: bytes) -> bytes | None:
    tags = im.tag_v2
    photometric = tags.get(PHOTOMETRIC_INTERPRETATION)
    if (
        tags.get(COMPRESSION) != JPEG_COMPRESSION
        or photometric not in (_PHOTOMETRIC_GREY, _PHOTOMETRIC_RGB, _PHOTOMETRIC_YCBCR)
        or tags.get(PLANAR_CONFIGURATION, 1) != 1  # samples interleaved
        or TILEWIDTH in tags  # tiled
        or not tags.get(STRIPOFFSETS)
    ):
        return None
    offsets, counts = tags[STRIPOFFSETS], tags.get(STRIPBYTECOUNTS) or ()
    if len(offsets) != len(counts):
        return None
    # As stored: Pillow gives the size of a TIFF with an orientation tag as it displays
    width, height = int(tags[IMAGEWIDTH]), int(tags[IMAGELENGTH])
    rows_per_strip = min(int(tags.get(ROWSPERSTRIP, height)), height)
    if rows_per_strip <= 0:
        return None
    strips = [_strip(data[offset : offset + count]) for offset, count in zip(offsets, counts, strict=True)]
    shared_tables = _table_segments(tags.get(347) or b"")
    if not _joinable(strips, width, height, rows_per_strip):
        return None
    first = strips[0]
    precision, _, _, components = struct.unpack(">BHHB", first.frame[:6])
    frame = struct.pack(">BHHB", precision, height, width, components) + first.frame[6:]
    parts = [b"\xff\xd8"]
    if photometric == _PHOTOMETRIC_RGB:
        if components != 3:
            return None
        parts.append(_ADOBE_RGB)
    parts += _icc_segments(im.info.get("icc_profile") or b"")
    parts += shared_tables + first.tables
    parts.append(bytes([0xFF, first.frame_marker]) + struct.pack(">H", len(frame) + 2) + frame)
    if len(strips) > 1:
        parts.append(b"\xff\xdd" + struct.pack(">HH", 4, _mcus(first.frame, width, rows_per_strip)))
    parts.append(first.scan_header)
    for index, strip in enumerate(strips):
        if index:
            parts.append(bytes([0xFF, 0xD0 + (index - 1) % 8]))  # RST0..RST7 in turn
        parts.append(strip.entropy)
    parts.append(b"\xff\xd9")
    return b"".join(parts)


def _segments(stream: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(position, marker, segment with its marker) of each marker segment of a JPEG stream after
    its SOI, up to and including its SOS or EOI, fill bytes skipped; ValueError where a marker
    should be and is not, or has no length (TEM, RSTn)."""
    if stream[:2] != b"\xff\xd8":
        raise ValueError("no SOI")
    position = 2
    while position + 2 <= len(stream):
        if stream[position] != 0xFF:
            raise ValueError("not a marker")
        marker = stream[position + 1]
        if marker == 0xFF:  # a fill byte before a marker
            position += 1
            continue
        if marker == _EOI:
            yield position, marker, stream[position : position + 2]
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7 or position + 4 > len(stream):
            raise ValueError("a standalone marker among the headers, or a cut-off segment")
        (length,) = struct.unpack(">H", stream[position + 2 : position + 4])
        yield position, marker, stream[position : position + 2 + length]
        if marker == _SOS:
            return
        position += 2 + length
    raise ValueError("no scan and no EOI")


def _strip(stream: bytes) -> _Strip:
    """A strip's abbreviated JPEG stream taken apart; ValueError if it is not one scan of a
    baseline or extended Huffman frame without restart markers."""
    tables: list[bytes] = []
    frame_marker, frame = 0, b""
    for position, marker, segment in _segments(stream):
        if marker in _TABLES:
            tables.append(segment)
        elif marker in _BASELINE_FRAMES:
            frame_marker, frame = marker, segment[4:]
            if len(frame) < 6 or len(frame) != 6 + 3 * frame[5] or frame[0] != 8:
                raise ValueError("a short frame header, or not 8 bits per sample")
            if not all(1 <= f >> 4 <= 4 and 1 <= f & 0x0F <= 4 for f in _sampling_factors(frame)):
                raise ValueError("a sampling factor out of 1..4")
        elif marker == _SOS:
            end = stream.rfind(b"\xff\xd9")
            entropy = stream[position + len(segment) : end]
            if not frame or end < 0 or any(bytes([0xFF, 0xD0 + k]) in entropy for k in range(8)):
                raise ValueError("no frame, no EOI, or restart markers")
            return _Strip(tables, frame_marker, frame, segment, entropy)
        elif marker == _DRI or marker in _OTHER_FRAMES:
            raise ValueError("restart interval, or a progressive or arithmetic frame")
    raise ValueError("no scan")


def _icc_segments(profile: bytes) -> list[bytes]:
    """An ICC profile (the TIFF's tag) as the APP2 ICC_PROFILE segments that carry it in a JPEG,
    in chunks of at most ICC_CHUNK bytes, numbered from 1."""
    chunks = [profile[i : i + ICC_CHUNK] for i in range(0, len(profile), ICC_CHUNK)]
    if len(chunks) > 255:
        raise ValueError("an ICC profile too large for a JPEG")
    return [
        b"\xff\xe2"
        + struct.pack(">H", 2 + len(_ICC_NAME) + 2 + len(chunk))
        + _ICC_NAME
        + bytes([number, len(chunks)])
        + chunk
        for number, chunk in enumerate(chunks, start=1)
    ]


def _table_segments(tables: bytes) -> list[bytes]:
    """The DQT and DHT segments of a JPEGTables tag (an SOI, tables, an EOI); ValueError if it
    holds anything else."""
    if not tables:
        return []
    segments = []
    for _, marker, segment in _segments(tables):
        if marker == _EOI:
            return segments
        if marker not in _TABLES:
            raise ValueError("JPEGTables holds more than tables")
        segments.append(segment)
    raise ValueError("JPEGTables without an EOI")


def _joinable(strips: list[_Strip], width: int, height: int, rows_per_strip: int) -> bool:
    """Whether the strips are one frame cut into whole rows of MCUs: the same components, tables
    and scan, each strip's height its share of the rows, all of them full width."""
    if not strips:
        return False
    first = strips[0]
    for index, strip in enumerate(strips):
        _, rows, columns, _ = struct.unpack(">BHHB", strip.frame[:6])
        expected_rows = min(rows_per_strip, height - index * rows_per_strip)
        if (
            (rows, columns) != (expected_rows, width)
            or strip.frame[5:] != first.frame[5:]
            or strip.tables != first.tables
            or strip.scan_header != first.scan_header
        ):
            return False
    mcu_height = _mcu_size(first.frame)[1]
    fits = len(strips) == 1 or rows_per_strip % mcu_height == 0
    return (
        fits
        and len(strips) == -(-height // rows_per_strip)
        and _mcus(first.frame, width, rows_per_strip) <= 0xFFFF
    )


def _mcu_size(frame: bytes) -> tuple[int, int]:
    """An MCU's width and height in pixels: one 8 x 8 block for one component, else 8 times the
    largest sampling factors."""
    if frame[5] == 1:
        return 8, 8
    factors = _sampling_factors(frame)
    return 8 * max(f >> 4 for f in factors), 8 * max(f & 0x0F for f in factors)


def _sampling_factors(frame: bytes) -> bytes:
    """Each component's sampling factors (horizontal << 4 | vertical) from an SOF payload."""
    return frame[7 : 6 + 3 * frame[5] : 3]


def _mcus(frame: bytes, width: int, rows: int) -> int:
    """MCUs in `rows` rows of the frame: the restart interval that ends each strip."""
    mcu_width, mcu_height = _mcu_size(frame)
    return -(-width // mcu_width) * -(-rows // mcu_height)
