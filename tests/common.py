"""What the test files share: where things are, the `ocr` command run as a user runs it, poppler's
pdftotext, file hashes, and scans made from tess's phototest (grey, colour, TIFFs Pillow cannot
write, a PDF with a damaged page)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pty
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]  # the repository
DATA = ROOT.parent / "shared" / "data"  # the shared evaluation data, beside the repository
TESS = DATA / "tess" / "img"
OCR = [sys.executable, "-m", "ocrcli"]
SCHEMA = json.loads((ROOT / "ocrcli" / "document.schema.json").read_text())  # of the JSON document


def ocr(
    *args: object,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """`ocr ARGS...` in a process of its own (run in `cwd`), its stdout and stderr as text."""
    return subprocess.run(
        [*OCR, *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )


def pdftotext(path: Path, *options: str, page: int | None = None) -> str:
    """The text poppler's pdftotext extracts (of one page, if given), with `options`."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    run = subprocess.run(
        ["pdftotext", *options, *pages, str(path), "-"], capture_output=True, text=True, check=True
    )
    return run.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(folder: Path) -> dict[str, str]:
    """Each file under `folder` (by its relative path) with its sha256."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def raised_as_another_user(folder: Path, read: Callable[[], object]) -> str:
    """What `read` raises (its str), run in a child process that has become user nobody in
    `folder`: a permission test must not be skipped when the suite runs as root, who reads
    anything. `read` names its files relative to `folder`: the folders above are root's alone."""
    folder.chmod(0o755)
    told = folder / "raised.txt"
    told.touch()
    told.chmod(0o666)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(folder)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                read()
            except Exception as exc:  # noqa: BLE001 - the test judges what was raised
                Path("raised.txt").write_text(f"{type(exc).__name__}: {exc}")
                code = 0
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, "nothing was raised"
    return told.read_text()


def helvetica() -> pikepdf.Dictionary:
    """A font dictionary for Helvetica (a standard font: nothing embedded), to draw text with."""
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )


def damaged_scan_pdf(path: Path) -> Path:
    """A two-page scan of phototest (img2pdf) whose first page's content stream cannot be inflated:
    pdfium draws nothing of it and says nothing (found by mutating PDFs)."""
    path.write_bytes(img2pdf.convert([str(TESS / "phototest.tif")] * 2))
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        garbled = b"\x78\x9c\x07" + bytes(40)  # zlib's header, then a block of the reserved type 3
        pdf.pages[0].Contents = pdf.make_stream(garbled, Filter=pikepdf.Name.FlateDecode)
        pdf.save(path)
    return path


def grey_scan() -> np.ndarray:
    """tess's phototest as a grey scan (its edges soft, as a scanner's are), 0..1."""
    scan = Image.open(TESS / "phototest.tif").convert("L")
    return np.asarray(scan.filter(ImageFilter.GaussianBlur(1.2))) / 255.0


def colour_scan() -> np.ndarray:
    """grey_scan's page in colour, dark blue type on cream paper: H x W x 3, 0..1."""
    ink, paper = np.array([20, 40, 120]) / 255, np.array([250, 240, 215]) / 255
    return paper + (ink - paper) * (1 - grey_scan())[:, :, np.newaxis]


def uncompressed_tiff(
    path: Path, samples: np.ndarray, bits: int = 16, big_endian: bool = False, icc_profile: bytes = b""
) -> Path:
    """An uncompressed TIFF of one strip at 200 dpi, written field by field, as Pillow writes none
    of them: `samples` H x W grey or H x W x 3 RGB or x 4 RGBA (unassociated alpha), 16 bits a
    sample in either byte order, or 32 (unsigned, as ImageMagick's -depth 32 writes them), or 12
    (two samples in three bytes, as libtiff packs them; a row must end on a whole byte), or grey of
    2 or 4 (each row packed into whole bytes); with the ICC
    profile, if one is given."""
    height, width = samples.shape[:2]
    channels = 1 if samples.ndim == 2 else samples.shape[2]
    order = ">" if big_endian else "<"
    if bits in (2, 4):
        per_byte = 8 // bits
        rows = np.pad(samples.astype(np.uint8), ((0, 0), (0, -width % per_byte)))
        data = np.zeros((height, rows.shape[1] // per_byte), np.uint8)
        for index in range(per_byte):  # the first sample in the high bits
            data |= rows[:, index::per_byte] << (8 - bits * (index + 1))
        data = data.tobytes()
    elif bits == 12:
        pairs = samples.reshape(height, -1, 2).astype(np.uint32)
        packed = ((pairs[..., 0] << 12) | pairs[..., 1]).astype(">u4").view(np.uint8).reshape(height, -1, 4)
        data = packed[..., 1:].tobytes()
    else:
        data = samples.astype(f"{order}u{bits // 8}").tobytes()
    short, long, rational, undefined = 3, 4, 5, 7
    fields = [  # tag, type, values (StripOffsets is filled in below)
        (256, long, [width]), (257, long, [height]), (258, short, [bits] * channels), (259, short, [1]),
        (262, short, [1 if channels == 1 else 2]), (273, long, [0]), (277, short, [channels]),
        (278, long, [height]), (279, long, [len(data)]), (282, rational, [200, 1]),
        (283, rational, [200, 1]), (296, short, [2]), *([(338, short, [2])] if channels == 4 else []),
        *([(34675, undefined, list(icc_profile))] if icc_profile else []),
    ]  # fmt: skip
    values = [
        bytes(v) if kind == undefined else struct.pack(order + ("H" if kind == short else "I") * len(v), *v)
        for _, kind, v in fields
    ]
    after_ifd = 8 + 2 + 12 * len(fields) + 4  # the values longer than 4 bytes follow the IFD
    data_at = after_ifd + sum(len(value) for value in values if len(value) > 4)
    ifd, beyond = b"", b""
    for (tag, kind, v), value in zip(fields, values, strict=True):
        count = len(v) // 2 if kind == rational else len(v)
        if tag == 273:
            value = struct.pack(order + "I", data_at)
        if len(value) > 4:
            ifd += struct.pack(order + "HHII", tag, kind, count, after_ifd + len(beyond))
            beyond += value
        else:
            ifd += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\0")
    header = (b"MM\0*" if big_endian else b"II*\0") + struct.pack(order + "IH", 8, len(fields))
    path.write_bytes(header + ifd + bytes(4) + beyond + data)
    return path


def ocr_on_a_terminal(*args: object, columns: int = 100, stdout_too: bool = False) -> tuple[int, str, str]:
    """`ocr ARGS...` with stderr on a terminal (a pty) and stdout a pipe (or that terminal too, if
    `stdout_too`): its exit code, stdout, and what the terminal was sent, terminal codes left out."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*OCR, *map(str, args)],
        stdout=terminal if stdout_too else subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "COLUMNS": str(columns), "TERM": "xterm"},
    )
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # the pty closes when the process exits
        while chunk := os.read(controller, 65536):
            shown += chunk
    stdout = process.stdout.read().decode() if process.stdout else ""
    code = process.wait(timeout=600)
    os.close(controller)
    return code, stdout, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))
