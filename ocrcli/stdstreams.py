"""Standard input as an input file and standard output as the PDF output, named "-" as Tesseract
and OCRmyPDF name them: `scanimage --format=png | ocr image - --text`,
`ocr pdf - -o - < in.pdf > out.pdf`.

The loaders seek, hash and reopen their files, and a pipe can be read once, so standard input is
first copied to a file; a PDF for standard output is written and verified as a file too, and
sent only once it is whole. Both live in one private temporary folder, which goes when the
process ends (ocrcli.__main__ removes it however the command ends, Ctrl-C too). Messages name
both files "-"."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ocrcli import errors
from ocrcli.errors import TEXT_ERRORS

STDIO = "-"
_folder: Path | None = None  # the private folder, once made


def as_files(given: list[str]) -> list[Path]:
    """The inputs as paths, "-" standing for standard input (a file named "-" is "./-"). Raises
    UsageError for "-" given twice or a standard input that is a terminal or closed,
    BadInputError if it cannot be read and OutputError if it cannot be copied."""
    if STDIO not in given:
        return [Path(name) for name in given]
    if given.count(STDIO) > 1:
        raise errors.UsageError(STDIO, "standard input is given twice")
    copy = _copy_of_stdin()
    return [copy if name == STDIO else Path(name) for name in given]


def _copy_of_stdin() -> Path:
    if sys.stdin is None:
        raise errors.UsageError(STDIO, "standard input is closed: pipe a file into it, or name the file")
    if sys.stdin.isatty():  # waiting for an image typed at the keyboard would just hang
        raise errors.UsageError(STDIO, "standard input is a terminal: pipe a file into it, or name the file")
    try:
        copy = _private_file("stdin")  # output files are named after it (`-o DIR`: DIR/stdin.json)
        with open(copy, "wb") as out:
            while chunk := _read_stdin():
                out.write(chunk)
    except OSError as exc:  # $TMPDIR full, or not writable
        where = tempfile.gettempdir()
        raise errors.OutputError(where, f"copying standard input ({errors.one_line(exc)})") from exc
    # Outputs get no more access than their inputs have (safewrite.output_mode): the copy has
    # the access of the file standard input is (`< private.pdf`, 0600), else none to pass on.
    with contextlib.suppress(OSError, ValueError):
        st = os.fstat(sys.stdin.fileno())
        if stat.S_ISREG(st.st_mode):
            copy.chmod(stat.S_IMODE(st.st_mode))
    return copy


def made_from(names: Sequence[str | os.PathLike]) -> list[Path]:
    """Inputs as files whose access their outputs get no more of: "-" is the copy of standard
    input (not a file of that name in the working folder)."""
    copy = None if _folder is None else _folder / "stdin"
    return [copy if name == STDIO and copy is not None else Path(name) for name in names]


def _read_stdin() -> bytes:
    try:
        return sys.stdin.buffer.read1(1 << 20)
    except OSError as exc:  # `< folder`
        raise errors.BadInputError(
            STDIO, f"cannot read standard input ({errors.one_line(exc)})", "unreadable"
        ) from exc


def pdf_for_stdout() -> Path:
    """Where to write a PDF that goes to standard output once it is written (send_to_stdout).
    Raises OutputError if standard output is closed (exit 5, as for JSON or text sent there) and
    UsageError if it is a terminal (a PDF would garble it)."""
    if sys.stdout is None:
        raise errors.OutputError("stdout", "it is closed")
    if sys.stdout.isatty():
        raise errors.UsageError(STDIO, "standard output is a terminal: redirect it to a file (> out.pdf)")
    return _private_file("stdout.pdf", f"the PDF for stdout (written first in {tempfile.gettempdir()})")


def is_stdout_pdf(path: Path) -> bool:
    """Whether `path` is the PDF pdf_for_stdout gave."""
    return _folder is not None and path == _folder / "stdout.pdf"


def send_to_stdout(pdf: Path) -> None:
    """The PDF's bytes to standard output (BrokenPipeError if its reader went away). An interrupt
    while they are sent comes too late and is held (its handler returns, see cli._write_pdf); a
    buffered write it interrupts returns short, having written what the pipe took, so the rest is
    written again: copyfileobj, which ignores the count, sent a cut PDF and the run exited 0."""
    sys.stdout.flush()
    out = sys.stdout.buffer
    with open(pdf, "rb") as written:
        while chunk := written.read(1 << 20):
            left = memoryview(chunk)
            while left:
                left = left[out.write(left) :]
    out.flush()


def _private_file(name: str, named: str = STDIO) -> Path:
    """A file of the private folder, which messages call `named`."""
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="ocr-stdio-"))  # 0700: what is in it is private
    path = _folder / name
    errors.name_in_messages(str(path), named)
    return path


def remove_files() -> None:
    """Remove the copy of standard input and the PDF for standard output, if there are any."""
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)


class _DroppingWrites(io.FileIO):
    """A file whose writes that fail are dropped, as if written."""

    def write(self, data: bytes) -> int:  # type: ignore[override]
        try:
            return super().write(data)
        except OSError:
            return len(data)


def messages_never_fail() -> None:
    """Have sys.stderr drop what it cannot write, so that messages never end the run: its reader
    gone (`2> >(head -1)`), its disk full (`2>> /var/log/ocr.log` on a full /var, `2> /dev/full`)
    or its terminal hung up (EIO). A write that failed raised OSError out of the first message:
    `ocr scan` did nothing and exited 1, and `ocr image bad.png good.png --json -` lost the JSON of
    both. A file name that is not valid UTF-8 is written as its escape (errors.TEXT_ERRORS)."""
    if sys.stderr is None:  # closed (`2>&-`)
        return
    try:
        fd = sys.stderr.fileno()
    except (OSError, ValueError):  # not a file (replaced by a caller)
        return
    dropping = io.BufferedWriter(_DroppingWrites(fd, "w", closefd=False))
    sys.stderr = io.TextIOWrapper(dropping, sys.stderr.encoding, TEXT_ERRORS, line_buffering=True)
