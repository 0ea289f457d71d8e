"""Errors users can act on, each with a stable process exit code (documented in README.md)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Exit codes: stable, documented in README.md and `ocr --help`.
EXIT_OK = 0
EXIT_INTERNAL = 1  # an unexpected error: a bug (OCRCLI_DEBUG=1 shows the traceback)
EXIT_USAGE = 2  # bad arguments (typer/click uses 2 too)
EXIT_INPUT = 3  # one or more input files could not be read
EXIT_MODELS = 4  # model files missing or corrupt
EXIT_OUTPUT = 5  # an output could not be written (no space, no permission); nothing half-written
EXIT_INTERRUPTED = 130  # Ctrl-C, SIGTERM or SIGHUP
EXIT_BROKEN_PIPE = 141  # stdout closed by its reader (`| head`); as if killed by SIGPIPE
# When a batch's inputs fail in different ways, its exit code is the first of these that occurred.
BATCH_EXIT_PRECEDENCE = (EXIT_INTERNAL, EXIT_MODELS, EXIT_OUTPUT, EXIT_USAGE, EXIT_INPUT)


# Signals that stop a run as Ctrl-C does (exit 130, nothing half-written, no temporary file left):
# SIGTERM (kill, a service stopping) and SIGHUP (the terminal or the ssh session closed, which
# killed the process outright). One ignored when ocr started (`nohup ocr ...`) stays ignored.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def on_stop_signals(handler: Any) -> dict[int, Any]:
    """Set `handler` for the stop signals that are not ignored; return the handlers they had."""
    return {
        sig: signal.signal(sig, handler) for sig in STOP_SIGNALS if signal.getsignal(sig) != signal.SIG_IGN
    }


def worst_exit(*codes: int) -> int:
    """The exit code of a batch whose inputs ended with `codes` (EXIT_OK for none failed)."""
    failed = [code for code in codes if code != EXIT_OK]
    return min(failed, key=BATCH_EXIT_PRECEDENCE.index, default=EXIT_OK)


# How text is encoded where a file name that is not valid UTF-8 (b"bad\\xffname.jpg", a lone
# surrogate in Python) may appear: as the escape \\udcff, so JSON stays valid UTF-8.
TEXT_ERRORS = "backslashreplace"
# Characters that would break a message's one line, or be obeyed by the terminal (ESC; and the
# bidirectional controls, which turn the rest of a line round where text shows both ways).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
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


def counted(number: int, noun: str) -> str:
    """ "1 page", "0 pages", "6 pages": a count in a message, its noun in the number it takes."""
    return f"{number} {noun}{'s' * (number != 1)}"


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (whitespace collapsed, at most `limit` characters), or
    its type's name when it has none: for the one-line errors users see."""
    text = " ".join(str(exc).split())[:limit]
    return text or type(exc).__name__


def unexpected(exc: BaseException) -> str:
    """An error no handler expected (a bug), named in one line: "unexpected KeyError: 'x'"."""
    return f"unexpected {type(exc).__name__}: {one_line(exc)}"


# What json.loads raises on a file that is not JSON, or JSON nested deeper than Python's stack
# ('[' * 100000, which was a RecursionError traceback): a user's file is never to be trusted
JSON_ERRORS = (ValueError, RecursionError)


# What went wrong, as scripts tell failures apart (the JSON's `error.kind`; stable, in README.md)
ERROR_KINDS = {
    "missing": "the file is not there",
    "unreadable": "no permission, a read error, a folder or a device rather than a file",
    "unsupported": "not an image or a PDF, or not the one the command reads; a page size PDF does not allow; "
    "a PDF whose encryption qpdf cannot read; an image PDF/A cannot hold (--pdfa)",
    "corrupt": "truncated, damaged or empty",
    "too-large": "over the pixel limit (OCRCLI_MAX_PIXELS); a PDF of XMP over 64 MB or over 100,000 pages",
    "encrypted": "a PDF that needs its password, or the password given is wrong",
    "signed": "a signed PDF (--invalidate-signatures)",
    "options": "an option that does not fit the file (--pages past its end)",
    "timeout": "a page not done within --page-timeout",
    "out-of-memory": "out of memory",
    "crashed": "the worker process reading it died",
    "changed": "the input changed, moved or went while it was being OCRed (run again)",
    "output": "an output could not be written, or its path holds a file ocrcli will not replace",
    "models": "the models are missing or corrupt",
    "system": "the system would not start a worker process (a limit on processes, open files or memory)",
    "internal": "a bug: please report it",
}


# Kinds of failure that say nothing of the input: an input changed meanwhile does not explain them
NOT_THE_INPUTS = frozenset({"changed", "output", "system", "models"})
# An input that went while it was read: not the file's fault (kind "changed"), whatever then failed
GONE = "moved or deleted while it was being OCRed (or its folder); nothing written"
# An input saved over (or replaced) while it was read: its outputs would mix two versions
CHANGED = "changed while it was being OCRed; nothing written (run again)"


class OcrError(Exception):
    """Base class: a one-line message for the user, the exit code it maps to and its kind (one of
    ERROR_KINDS)."""

    exit_code = EXIT_INPUT
    kind = "corrupt"


IN_MEMORY_FILE = r"stream <_io\.BytesIO object at 0x[0-9a-f]+>"


class PathError(OcrError):
    """An error about one file: "PATH: reason" (`template` words it otherwise)."""

    template = "{path}: {reason}"

    def __init__(self, path: object, reason: str, kind: str | None = None):
        self.path = str(path)
        if kind is not None:
            assert kind in ERROR_KINDS, kind
            self.kind = kind
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
    kind = "options"


class OutputError(PathError):
    """An output file cannot be written: no space, no permission, a folder in the way."""

    exit_code = EXIT_OUTPUT
    kind = "output"
    template = "cannot write {path}: {reason}"


class ModelError(OcrError):
    """A model file is missing, corrupt, or the manifest is wrong."""

    exit_code = EXIT_MODELS
    kind = "models"


class WorkerStartError(OcrError):
    """The system would not start a worker process, and none is running to go on with: a limit on
    processes or threads (`ulimit -u`, a container's pids limit), on open files, or memory. Not a
    bug of ours, but the run cannot go on (exit 1, kind "system")."""

    exit_code = EXIT_INTERNAL
    kind = "system"

    def __init__(self, error: OSError):
        super().__init__(f"the system would not start a worker process ({system_limit(error)})")


def system_limit(error: OSError) -> str:
    """Why the system refused a process, with the limit that most likely did it."""
    limits = {
        errno.EAGAIN: "a limit on processes or threads: ulimit -u, a container's pids limit",
        errno.EMFILE: "a limit on open files: ulimit -n",
        errno.ENFILE: "the system's limit on open files",
        errno.ENOMEM: "not enough memory",
    }
    limit = limits.get(error.errno or 0)
    return f"{one_line(error)}; {limit}" if limit else one_line(error)


def regular_file_stat(path: str | os.PathLike[str]) -> os.stat_result:
    """The input's stat, or a BadInputError if it is not a regular file: a pipe or a device
    (a link to /dev/zero) has no size to trust, and reading one may never end."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        what = next((name for test, name in _SPECIAL_FILES if test(st.st_mode)), "a special file")
        raise BadInputError(path, f"not a regular file ({what}): save it to a file first", "unreadable")
    return st


# What a file that is not a regular file is, as said (a socket was called "a pipe or a device")
_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISDIR, "a folder"),
)


def input_size(path: str | os.PathLike[str], kind: str) -> int:
    """The size of the input file at `path` (`kind`: "an image file", "a PDF"), or a BadInputError
    that says why it cannot be read: missing, a directory, no permission."""
    with reading_input(path):
        if Path(path).is_dir():
            raise BadInputError(path, f"is a directory, not {kind} (a folder: ocr scan)", "unreadable")
        return regular_file_stat(path).st_size  # a pipe's size says nothing: it was "empty (0 bytes)"


def why_not_there(
    path: str | os.PathLike[str],
    link: str = "a link to a file that is not there",
    missing: str = "file not found",
) -> str:
    """Why `path` names nothing: a link in a loop, or a link whose file is not there (moved, a
    drive not mounted), is said to be one ("file not found", or for ocr scan's folder "not
    found", was all they got). Not where it points: ocr scan's summary counts failures by
    reason, and a folder of such links would list each."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a link that leads round in a loop"
    return link if os.path.islink(path) else missing


@contextlib.contextmanager
def reading_input(path: str | os.PathLike[str]) -> Iterator[None]:
    """An OSError reading the input at `path` as a BadInputError that says why: missing, no
    permission."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise BadInputError(path, why_not_there(path), "missing") from exc
    except PermissionError as exc:
        raise BadInputError(path, "permission denied", "unreadable") from exc
    except OSError as exc:
        raise BadInputError(path, f"cannot read file ({one_line(exc)})", "unreadable") from exc


@dataclass(frozen=True)
class Failure:
    """Why an input failed, as reported: one line naming the file (whatever its name: see
    one_line_message), its kind (see ERROR_KINDS) and the exit code it counts as."""

    message: str
    kind: str
    exit_code: int = EXIT_INPUT

    def __post_init__(self) -> None:
        assert self.kind in ERROR_KINDS, self.kind
        object.__setattr__(self, "message", one_line_message(self.message))

    def record(self) -> dict[str, str]:
        """The JSON's `error` object."""
        return {"message": self.message, "kind": self.kind}


def failure(path: object, exc: BaseException, where: str = "") -> Failure:
    """The failure of the input at `path` (`where`, "page 3: ", says where in it) by `exc`: a bug
    counts as EXIT_INTERNAL, running out of memory as a bad input (see worst_exit)."""
    if isinstance(exc, WorkerStartError):  # says nothing of the file: named as every failure is
        return Failure(f"{path}: {exc}", exc.kind, exc.exit_code)
    if isinstance(exc, OcrError):
        return Failure(str(exc), exc.kind, exc.exit_code)
    if isinstance(exc, MemoryError):
        return Failure(f"{path}: {where}out of memory", "out-of-memory")
    if isinstance(exc, OSError):  # reading the input (outputs' errors are OutputErrors)
        return Failure(f"{path}: {where}{one_line(exc)}", "unreadable")
    return Failure(f"{path}: {where}{unexpected(exc)} (please report this)", "internal", EXIT_INTERNAL)
