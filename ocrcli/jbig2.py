"""A lossless JBIG2 encoder for black-and-white images embedded in PDF (/Filter /JBIG2Decode).

A page is coded as one immediate lossless generic region (ITU-T T.88 6.2 and 7.4.6): arithmetic
coding (MMR 0) with the MQ coder (T.88 Annex E), template 0 with the nominal adaptive pixels and
typical prediction (TPGDON) on, which skips rows equal to the row above. For scanned text that
is 20 to 40 % smaller than CCITT Group 4, with no symbol matching, so no pixel can be substituted
(the lossy "pattern matching" JBIG2 is known for is not used here).

The stream is in the organisation PDF asks for (ISO 32000-1 7.4.7): the page's segments (page
information, then the region) without the JBIG2 file header, end-of-page or end-of-file
segments, the page association 1, and no /JBIG2Globals.

Speed: every pixel's context is computed at once with numpy; only the MQ coder runs in Python,
over runs of pixels that share a context and a value rather than over pixels (see _MQEncoder).
"""

from __future__ import annotations

import struct

import numpy as np

# T.88 Table E.1: for each probability state, Qe (the LPS sub-interval), the next state after
# an MPS or an LPS renormalisation, and whether an LPS there swaps which value is the MPS.
_QE_TABLE: tuple[tuple[int, int, int, int], ...] = (
    (0x5601, 1, 1, 1), (0x3401, 2, 6, 0), (0x1801, 3, 9, 0), (0x0AC1, 4, 12, 0),
    (0x0521, 5, 29, 0), (0x0221, 38, 33, 0), (0x5601, 7, 6, 1), (0x5401, 8, 14, 0),
    (0x4801, 9, 14, 0), (0x3801, 10, 14, 0), (0x3001, 11, 17, 0), (0x2401, 12, 18, 0),
    (0x1C01, 13, 20, 0), (0x1601, 29, 21, 0), (0x5601, 15, 14, 1), (0x5401, 16, 14, 0),
    (0x5101, 17, 15, 0), (0x4801, 18, 16, 0), (0x3801, 19, 17, 0), (0x3401, 20, 18, 0),
    (0x3001, 21, 19, 0), (0x2801, 22, 19, 0), (0x2401, 23, 20, 0), (0x2201, 24, 21, 0),
    (0x1C01, 25, 22, 0), (0x1801, 26, 23, 0), (0x1601, 27, 24, 0), (0x1401, 28, 25, 0),
    (0x1201, 29, 26, 0), (0x1101, 30, 27, 0), (0x0AC1, 31, 28, 0), (0x09C1, 32, 29, 0),
    (0x08A1, 33, 30, 0), (0x0521, 34, 31, 0), (0x0441, 35, 32, 0), (0x02A1, 36, 33, 0),
    (0x0221, 37, 34, 0), (0x0141, 38, 35, 0), (0x0111, 39, 36, 0), (0x0085, 40, 37, 0),
    (0x0049, 41, 38, 0), (0x0025, 42, 39, 0), (0x0015, 43, 40, 0), (0x0009, 44, 41, 0),
    (0x0005, 45, 42, 0), (0x0001, 45, 43, 0), (0x5601, 46, 46, 0),
)  # fmt: skip

# Template 0 (T.88 6.2.5.3, Figure 3), as (dx, dy) of each context bit from bit 0 up. The
# numbering matters: the typical-prediction bit of every row is coded in the context numbered
# _TPGD_CONTEXT, which pixels whose neighbourhood gives that number share with it.
_TEMPLATE0 = (
    (-1, 0), (-2, 0), (-3, 0), (-4, 0),
    (3, -1),  # adaptive pixel A1, at its nominal place
    (2, -1), (1, -1), (0, -1), (-1, -1), (-2, -1),
    (-3, -1),  # A2
    (2, -2),  # A3
    (1, -2), (0, -2), (-1, -2),
    (-2, -2),  # A4
)  # fmt: skip
_ADAPTIVE_PIXELS = ((3, -1), (-3, -1), (2, -2), (-2, -2))  # A1..A4 as the segment states them
_TPGD_CONTEXT = 0x9B25  # T.88 6.2.5.7, for template 0

_PAGE_INFORMATION = 48  # segment types (T.88 7.3)
_IMMEDIATE_LOSSLESS_GENERIC_REGION = 39
_PAGE_EVENTUALLY_LOSSLESS = 0x01  # page information flags (7.4.8.5); default pixel 0, white
_REGION_FLAGS = 0x08  # generic region flags (7.4.6.2): MMR 0, template 0, TPGDON 1
_COMBINE_OR = 0x00  # region segment flags: OR onto the white page, which leaves the region as is


def encode(black: np.ndarray) -> bytes:
    """The JBIG2 stream for a PDF image XObject of a 2-D array whose true (or non-zero) pixels
    are black. In PDF the image is /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter
    /JBIG2Decode, without /Decode: the filter itself turns JBIG2's 1 for black into PDF's 0."""
    bits = np.ascontiguousarray(black, dtype=bool).astype(np.uint8)
    if bits.ndim != 2 or 0 in bits.shape:
        raise ValueError(f"expected a non-empty 2-D bitmap, got shape {bits.shape}")
    height, width = bits.shape
    page = _segment(0, _PAGE_INFORMATION, _page_information(width, height))
    region = _segment(1, _IMMEDIATE_LOSSLESS_GENERIC_REGION, _generic_region(bits))
    return page + region


def _segment(number: int, kind: int, data: bytes) -> bytes:
    """A segment header (T.88 7.2) and its data: no referred-to segments, page 1 (PDF's rule)."""
    flags = kind  # not deferred, a 1-byte page association
    referred = 0  # no referred-to segments, no retention bits
    return struct.pack(">IBBBI", number, flags, referred, 1, len(data)) + data


def _page_information(width: int, height: int) -> bytes:
    """T.88 7.4.8: the page's size, resolution unknown (0: PDF sizes the image), not striped."""
    return struct.pack(">IIIIBH", width, height, 0, 0, _PAGE_EVENTUALLY_LOSSLESS, 0)


def _generic_region(bits: np.ndarray) -> bytes:
    """T.88 7.4.6: region information for the whole page, the generic region flags, the four
    adaptive pixels, then the arithmetically coded bitmap."""
    height, width = bits.shape
    info = struct.pack(">IIIIB", width, height, 0, 0, _COMBINE_OR)
    adaptive = struct.pack(">8b", *(v for pixel in _ADAPTIVE_PIXELS for v in pixel))
    return info + bytes([_REGION_FLAGS]) + adaptive + _coded_bitmap(bits)


BAND_ROWS = 256  # rows whose symbols are made at once (see _coded_bitmap)


def _coded_bitmap(bits: np.ndarray) -> bytes:
    """The MQ-coded data of T.88 6.2.5.7's procedure: per row, the typical-prediction bit, then
    the row's pixels unless it was predicted. The symbols are made a band of BAND_ROWS rows at a
    time: made at once for the whole bitmap, with their runs as Python lists, they took about 21
    bytes a pixel (180 MB in `ocr scan`'s parent for a 300 dpi letter page, 0.7 GB at 600 dpi). A
    run split where a band ends codes as the same bytes (see _MQEncoder.encode_runs)."""
    encoder = _MQEncoder()
    for top in range(0, bits.shape[0], BAND_ROWS):
        keys = _symbols(bits[top : top + BAND_ROWS], above=bits[max(0, top - 2) : top])
        starts, lengths = _runs(keys)
        firsts = keys[starts]
        encoder.encode_runs((firsts >> 1).tolist(), (firsts & 1).tolist(), lengths.tolist())
    return encoder.finish()


def _symbols(bits: np.ndarray, above: np.ndarray | None = None) -> np.ndarray:
    """Every symbol the coder codes, in order, as its context shifted left by one with the
    symbol's value in bit 0; `bits` may be a band of the bitmap, `above` the (up to two) rows of
    the bitmap just above it."""
    height, width = bits.shape
    above = bits[:0] if above is None else above
    # Whether each row equals the row above; the first of `above` is compared with white, right
    # only if it is the bitmap's first row, so only the typicality of the last one is used.
    typical = _typical_rows(np.vstack([above, bits]))
    before = bool(typical[len(above) - 1]) if len(above) else False  # above the first row, LTP is 0
    typical = typical[len(above) :]
    # The row's typical-prediction bit is whether its typicality differs from the row above's
    # (LTP toggles, T.88 6.2.5.7 step 3b).
    sltp = typical ^ np.concatenate(([before], typical[:-1]))
    keys = np.empty((height, width + 1), dtype=np.uint32)
    keys[:, 0] = (_TPGD_CONTEXT << 1) | sltp
    _pixel_keys(bits, above, out=keys[:, 1:])
    if not typical.any():
        return keys.reshape(-1)
    coded = np.ones((height, width + 1), dtype=bool)
    coded[typical, 1:] = False  # a predicted row's pixels are not coded
    return keys[coded]


def _typical_rows(bits: np.ndarray) -> np.ndarray:
    """Whether each row equals the row above (above the first row, all white: 6.2.5.7)."""
    above = np.vstack([np.zeros((1, bits.shape[1]), dtype=bits.dtype), bits[:-1]])
    return (bits == above).all(axis=1)


def _pixel_keys(bits: np.ndarray, above: np.ndarray, out: np.ndarray) -> None:
    """Each pixel's template 0 context (its neighbours' values in the bit order of _TEMPLATE0,
    pixels outside the bitmap reading 0: T.88 6.2.5.2), shifted left by one, with the pixel's
    value in bit 0, written to `out` (uint32, the bitmap's shape). `above`: see _symbols."""
    height, width = bits.shape
    padded = np.zeros((height + 2, width + 7), dtype=np.uint32)  # 2 rows above, 4 left, 3 right
    padded[2 - len(above) : 2, 4 : 4 + width] = above
    padded[2:, 4 : 4 + width] = bits
    shifted = np.empty((height, width), dtype=np.uint32)
    out[...] = bits
    for bit, (dx, dy) in enumerate(_TEMPLATE0, start=1):
        np.left_shift(padded[2 + dy : 2 + dy + height, 4 + dx : 4 + dx + width], bit, out=shifted)
        out |= shifted


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of consecutive equal symbols (same context, same value) starts, and its
    length: the coder codes a run of MPS symbols in few steps."""
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    lengths = np.diff(np.append(starts, keys.size))
    return starts, lengths


class _MQEncoder:
    """The MQ arithmetic encoder of T.88 E.2 (the same as T.800 C.2), with its registers A
    (interval size, kept >= 0x8000 between symbols), C (code register), CT (shifts until the
    next byte is output) and B (the last byte output, which a carry may still increment)."""

    def __init__(self) -> None:
        self.a, self.c, self.ct = 0x8000, 0, 12  # INITENC (E.2.8)
        self.out = bytearray([0])  # the byte before the data: a carry never reaches it
        self.index = [0] * 65536  # each context's probability state, all starting at 0 ...
        self.mps = [0] * 65536  # ... with MPS 0

    def encode_runs(self, contexts: list[int], values: list[int], lengths: list[int]) -> None:
        """Code `lengths[k]` times the value `values[k]` in context `contexts[k]`, for each k.

        A run of MPS symbols is coded in one step as long as A stays >= 0x8000: CODEMPS (E.2.5)
        then only does A -= Qe and C += Qe, with no renormalisation, so the state and Qe do
        not change and n symbols make A -= n*Qe, C += n*Qe. The symbol that takes A below
        0x8000 is coded on its own. C is a Python int, so the sum is exact and a carry past
        bit 27 is left for BYTEOUT to propagate, as it would be symbol by symbol.

        This loop runs once or more per run (1.7 million runs on a 300 dpi letter page, most of
        one symbol): RENORME (E.2.6) is inlined, and a symbol that needs none is tested for first."""
        index, mps, qe_table = self.index, self.mps, _QE_TABLE
        a, c, ct = self.a, self.c, self.ct
        for cx, value, n in zip(contexts, values, lengths, strict=True):
            while n:
                qe, next_mps, next_lps, switch = qe_table[index[cx]]
                if value == mps[cx]:
                    a -= qe
                    if a >= 0x8000:  # no renormalisation, nor for the next `free` MPS symbols
                        if n == 1:  # most runs
                            c += qe
                            break
                        free = (a - 0x8000) // qe
                        if free >= n - 1:
                            a -= (n - 1) * qe
                            c += n * qe
                            break
                        a -= free * qe
                        c += (free + 1) * qe
                        n -= free + 1
                        continue  # the next one takes A below 0x8000
                    if a < qe:  # CODEMPS with conditional exchange: the MPS takes the larger part
                        a = qe
                    else:
                        c += qe
                    index[cx] = next_mps
                else:
                    a -= qe
                    if a < qe:  # CODELPS with conditional exchange
                        c += qe
                    else:
                        a = qe
                    if switch:
                        mps[cx] = 1 - mps[cx]
                    index[cx] = next_lps
                n -= 1
                # RENORME: double A and C until A >= 0x8000, outputting a byte whenever CT
                # reaches 0; the shifts between two outputs are done at once.
                shifts = 16 - a.bit_length()
                a <<= shifts
                while shifts >= ct:
                    c <<= ct
                    shifts -= ct
                    c, ct = self._byte_out(c)
                ct -= shifts
                c <<= shifts
        self.a, self.c, self.ct = a, c, ct

    def _byte_out(self, c: int) -> tuple[int, int]:
        """BYTEOUT (E.2.7): move C's top byte out; after a 0xFF only 7 bits go in the next byte
        (bit stuffing), so that a carry cannot make a marker. Returns the new C and CT."""
        out = self.out
        if out[-1] == 0xFF:
            return self._emit(c, 20, 7)
        if c < 0x8000000:
            return self._emit(c, 19, 8)
        out[-1] += 1  # the carry goes into the byte already output
        c &= 0x7FFFFFF
        if out[-1] == 0xFF:
            return self._emit(c, 20, 7)
        return self._emit(c, 19, 8)

    def _emit(self, c: int, shift: int, bits: int) -> tuple[int, int]:
        self.out.append((c >> shift) & 0xFF)
        return c & ((1 << shift) - 1), bits

    def finish(self) -> bytes:
        """FLUSH (E.2.9): set the free low bits of C to 1 (SETBITS), output the last two bytes,
        then the 0xFF 0xAC marker that ends arithmetically coded data in JBIG2 (a final 0xFF is
        the marker's own)."""
        temp = self.c + self.a
        c = self.c | 0xFFFF
        if c >= temp:
            c -= 0x8000
        c, ct = self._byte_out(c << self.ct)
        self._byte_out(c << ct)
        data = self.out[1:]  # without the byte before the data
        if data and data[-1] == 0xFF:
            data.pop()
        return bytes(data + b"\xff\xac")
