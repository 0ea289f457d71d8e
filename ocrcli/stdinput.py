"""Standard input as an input file: `ocr image -` and `ocr pdf -` read it, as Tesseract and
OCRmyPDF do (`scanimage --format=png | ocr image - --text`).

The loaders seek, hash and reopen their files, and a pipe can be read once, so standard input is
first copied to a file in a private temporary folder. Messages name that copy "-", and it goes
when the process ends (ocrcli.__main__ removes it however the command ends, Ctrl-C too)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from ocrcli import errors

STDIN = "-"
_folder: Path | None = None  # the copy's folder, while there is one


def as_files(given: list[str]) -> list[Path]:
    """The inputs as paths, "-" standing for standard input (a file named "-" is "./-"). Raises
    UsageError for "-" given twice or a standard input that is a terminal or closed."""
    if STDIN not in given:
        return [Path(name) for name in given]
    if given.count(STDIN) > 1:
        raise errors.UsageError(STDIN, "standard input is given twice")
    copy = _copy_of_stdin()
    return [copy if name == STDIN else Path(name) for name in given]


def _copy_of_stdin() -> Path:
    global _folder
    if sys.stdin is None:
        raise errors.UsageError(STDIN, "standard input is closed: pipe a file into it, or name the file")
    if sys.stdin.isatty():  # waiting for an image typed at the keyboard would just hang
        raise errors.UsageError(STDIN, "standard input is a terminal: pipe a file into it, or name the file")
    _folder = Path(tempfile.mkdtemp(prefix="ocr-stdin-"))  # 0700: the copy is private in it
    copy = _folder / "stdin"  # the name output files are named after (`-o DIR`: DIR/stdin.json)
    try:
        with open(copy, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    except OSError as exc:  # a full $TMPDIR; a standard input that cannot be read (a folder)
        raise errors.UsageError(STDIN, f"cannot read standard input ({errors.one_line(exc)})") from exc
    # Outputs get no more access than their inputs have (safewrite.output_mode): the copy has
    # none of its own to pass on, so it takes the umask's default, as a new file would.
    umask = os.umask(0)
    os.umask(umask)
    copy.chmod(0o666 & ~umask)
    errors.name_in_messages(str(copy), STDIN)
    return copy


def remove_copy() -> None:
    """Remove the copy of standard input, if there is one."""
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
