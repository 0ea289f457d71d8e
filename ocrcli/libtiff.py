"""libtiff's error reports while Pillow decodes a TIFF, caught instead of printed.

libtiff reports some damage (a bad code word in CCITT Group 4 data, for one) through its error
handler, which prints to stderr, and then decodes on: Pillow hands back a frame with garbage in it
and raises nothing. Here the handler of the libtiff Pillow loaded is replaced, so that a decode can
see what libtiff reported and fail with it. The library is found among the process's mapped files
(Linux); where it cannot be found, decoding is as before and libtiff keeps printing.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

# void handler(const char *module, const char *fmt, va_list ap)
_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)
_MESSAGE_BYTES = 512
# The name Pillow opens every TIFF under for libtiff, which some reports (LZW's) give as their
# module: not a file the user has, so it is left out.
_PILLOWS_FILE_NAME = b"tempfile.tif"
# A report that says nothing of the pixels: libtiff leaves out an Orientation tag of no valid value
# (0, which some scanners write, or over 8) and decodes on. The loader reads it as upright, as
# viewers show it (see imageio.exif_orientation); taken for damage, the scan was refused.
_HARMLESS = re.compile(r'Bad value \d+ for "Orientation" tag')

_local = threading.local()  # libtiff calls back in the thread that decodes
_install_lock = threading.Lock()
_installed: list[object] = []  # the handler and the libraries, kept alive; empty until installed


@contextlib.contextmanager
def reported_errors() -> Iterator[list[str]]:
    """A list that collects libtiff's error messages while the block runs (it stays empty where
    the handler could not be installed). Nested blocks each see their own messages."""
    _install()
    messages: list[str] = []
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(messages)
    try:
        yield messages
    finally:
        stack.pop()


def _install() -> None:
    with _install_lock:
        if _installed:
            return
        _installed.append(None)  # tried: once is enough, found or not
        libraries = [library for path in _loaded_libtiffs() if (library := _library(path)) is not None]
        if not libraries:
            return
        libc = ctypes.CDLL(None)
        libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]

        def handler(module: bytes | None, fmt: bytes | None, args: int | None) -> None:
            buffer = ctypes.create_string_buffer(_MESSAGE_BYTES)
            libc.vsnprintf(buffer, _MESSAGE_BYTES, fmt or b"", args)
            text = buffer.value.decode("utf-8", "replace")
            if _HARMLESS.search(text):
                return
            named = module and module != _PILLOWS_FILE_NAME
            message = f"{module.decode('utf-8', 'replace')}: {text}" if named else text
            stack = getattr(_local, "stack", None)
            if stack:
                stack[-1].append(message)
            else:  # not decoding here: as libtiff's own handler would
                print(message, file=sys.stderr)

        callback = _HANDLER_TYPE(handler)
        for library in libraries:
            library.TIFFSetErrorHandler.argtypes = [_HANDLER_TYPE]
            library.TIFFSetErrorHandler.restype = ctypes.c_void_p
            library.TIFFSetErrorHandler(callback)
        _installed.extend([callback, libc, *libraries])


def _library(path: Path) -> ctypes.CDLL | None:
    """The mapped libtiff at `path`; None if it cannot be opened by that path (deleted since it was
    mapped: "/path/libtiff.so.6 (deleted)" once Pillow is upgraded under a running process)."""
    try:
        library = ctypes.CDLL(str(path))
    except OSError:
        return None
    return library if hasattr(library, "TIFFSetErrorHandler") else None


def _loaded_libtiffs() -> list[Path]:
    """The libtiff shared libraries mapped into this process once Pillow's core is loaded."""
    from PIL import _imaging  # noqa: F401  (loads the libtiff Pillow is linked with)

    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    paths = {
        Path(line.split(maxsplit=5)[5]) for line in maps.splitlines() if len(line.split(maxsplit=5)) == 6
    }
    return sorted(p for p in paths if p.name.startswith("libtiff") and ".so" in p.name)
