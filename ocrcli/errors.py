"""Errors users can act on, each with a stable process exit code (documented in README.md)."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

# Exit codes: stable, documented in README.md and `ocr --help`.
EXIT_OK = 0
EXIT_INTERNAL = 1  # an unexpected error: a bug (OCRCLI_DEBUG=1 shows the traceback)
EXIT_USAGE = 2  # bad arguments (typer/click uses 2 too)
EXIT_INPUT = 3  # one or more input files could not be read
EXIT_MODELS = 4  # model files missing or corrupt
EXIT_OUTPUT = 5  # an output could not be written (no space, no permission); nothing half-written
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM
EXIT_BROKEN_PIPE = 141  # stdout closed by its reader (`| head`); as if killed by SIGPIPE
# When a batch's inputs fail in different ways, its exit code is the first of these that occurred.
BATCH_EXIT_PRECEDENCE = (EXIT_INTERNAL, EXIT_MODELS, EXIT_OUTPUT, EXIT_USAGE, EXIT_INPUT)


def worst_exit(*codes: int) -> int:
    """The exit code of a batch whose inputs ended with `codes` (EXIT_OK for none failed)."""
    failed = [code for code in codes if code != EXIT_OK]
    return min(failed, key=BATCH_EXIT_PRECEDENCE.index, default=EXIT_OK)


# How text is encoded where a file name that is not valid UTF-8 (b"bad\\xffname.jpg", a lone
# surrogate in Python) may appear: as the escape \\udcff, so JSON stays valid UTF-8.
TEXT_ERRORS = "backslashreplace"
# Characters that would break a message's one line, or be obeyed by the terminal (ESC).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Files messages name otherwise: the copy of standard input is "-" (see ocrcli.stdstreams).
_NAMED: dict[str, str] = {}


def name_in_messages(path: str, name: str) -> None:
    """Have every message name the file at `path` as `name`."""
    _NAMED[path] = name


def one_line_message(message: str) -> str:
    """A message as users see it (on stderr, or as a JSON error message): the control characters
    of a file name it shows (a newline, a tab, ESC) escaped as repr escapes them ("\\n", "\\x1b"),
    so that one line stays one line ("bad\\nname.png: not an image"). Every message is shown through
    this, whatever formatted it; one without control characters is unchanged. A file registered
    with name_in_messages is named as it was registered."""
    for path, name in _NAMED.items():
        message = message.replace(path, name)
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], message)


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (whitespace collapsed, at most `limit` characters), or
    its type's name when it has none: for the one-line errors users see."""
    text = " ".join(str(exc).split())[:limit]
    return text or type(exc).__name__


def unexpected(exc: BaseException) -> str:
    """An error no handler expected (a bug), named in one line: "unexpected KeyError: 'x'"."""
    return f"unexpected {type(exc).__name__}: {one_line(exc)}"


class OcrError(Exception):
    """Base class: a one-line message for the user and the exit code it maps to."""

    exit_code = EXIT_INPUT


IN_MEMORY_FILE = r"stream <_io\.BytesIO object at 0x[0-9a-f]+>"


class PathError(OcrError):
    """An error about one file: "PATH: reason" (`template` words it otherwise)."""

    template = "{path}: {reason}"

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        # A library's message inside the reason names the file again (qpdf: "PATH: unable to find
        # trailer", "PATH (offset 9): xref not found"); the message already starts with it. Not
        # the end of another path ("out/PATH: ..."): it starts the reason or follows a space or "(".
        # A file read into memory (a name that is not UTF-8, see pdfpages.open_pikepdf) is named
        # by qpdf as pikepdf's stream object: "stream <_io.BytesIO object at 0x7f...>".
        file = f"(?:{re.escape(self.path)}|{IN_MEMORY_FILE})"
        named = re.compile(r"(?<![^\s(])" + file + r"(?: \(([^()]*)\))?: ")
        self.reason = named.sub(lambda m: f"{m[1]}: " if m[1] else "", reason)
        super().__init__(self.template.format(path=self.path, reason=self.reason))


class BadInputError(PathError):
    """An input file cannot be read: corrupt, empty, not an image, too large."""

    exit_code = EXIT_INPUT


class UsageError(PathError):
    """An option that does not fit the input, found only once it is open (--pages past its end)."""

    exit_code = EXIT_USAGE


class OutputError(PathError):
    """An output file cannot be written: no space, no permission, a folder in the way."""

    exit_code = EXIT_OUTPUT
    template = "cannot write {path}: {reason}"


class ModelError(OcrError):
    """A model file is missing, corrupt, or the manifest is wrong."""

    exit_code = EXIT_MODELS


def regular_file_stat(path: str | os.PathLike[str]) -> os.stat_result:
    """The input's stat, or a BadInputError if it is not a regular file: a pipe or a device
    (a link to /dev/zero) has no size to trust, and reading one may never end."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise BadInputError(path, "not a regular file (a pipe or a device): save it to a file first")
    return st


def input_size(path: str | os.PathLike[str], kind: str) -> int:
    """The size of the input file at `path` (`kind`: "an image file", "a PDF"), or a BadInputError
    that says why it cannot be read: missing, a directory, no permission."""
    with reading_input(path):
        if Path(path).is_dir():
            raise BadInputError(path, f"is a directory, not {kind}")
        return regular_file_stat(path).st_size  # a pipe's size says nothing: it was "empty (0 bytes)"


@contextlib.contextmanager
def reading_input(path: str | os.PathLike[str]) -> Iterator[None]:
    """An OSError reading the input at `path` as a BadInputError that says why: missing, no
    permission."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise BadInputError(path, "file not found") from exc
    except PermissionError as exc:
        raise BadInputError(path, "permission denied") from exc
    except OSError as exc:
        raise BadInputError(path, f"cannot read file ({one_line(exc)})") from exc
