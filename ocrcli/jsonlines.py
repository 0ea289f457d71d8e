"""Writing a JSON Lines stream (the --json output) that its readers can trust: no line cut short
by an interrupt, and no half line left at a file's end by a write that failed."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

from ocrcli.errors import STOP_SIGNALS, on_stop_signals


class WholeLines:
    """The JSON stream, written so that an interrupt (Ctrl-C, SIGTERM, SIGHUP) never cuts a line short:
    while a line is written they are blocked in this thread and held, whichever handler is in
    place (ocr scan writes a document's line under safewrite's, see scan._complete), and one that
    came meanwhile (a slow reader had let the pipe fill) goes to that handler once the line is
    out. Readers got half a document, then nothing. Blocked: a write interrupted by a signal whose
    handler returns loses the rest of its data silently (CPython's buffered write returns short,
    the text layer drops the remainder). Held: one that reaches another thread meanwhile is
    handled in this one between two writes of the line. A line ends with the write that ends in
    a newline (JSON escapes those inside a line)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.handlers: dict[int, Any] | None = None  # those in place, while a line is written
        self.held: int | None = None  # the interrupt that came meanwhile
        self.mask: set[int] | None = None  # the signals blocked before a line was begun
        self.failed: OSError | None = None  # what a write raised: the stream's failure, no other

    def write(self, text: str) -> int:
        if self.handlers is None:
            self._hold()
        try:
            written = self.stream.write(text)
            if text.endswith("\n"):
                self.stream.flush()
        except BaseException as exc:
            if isinstance(exc, OSError):
                self.failed = exc
            self._release()
            raise
        if text.endswith("\n"):
            self._release()
        return written

    def flush(self) -> None:
        self.stream.flush()

    def _hold(self) -> None:
        self.handlers = {}
        if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
            self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
            self.handlers = on_stop_signals(self._held)

    def _held(self, signum: int, frame: Any) -> None:
        self.held = self.held or signum

    def _release(self) -> None:
        handlers, held, mask = self.handlers or {}, self.held, self.mask
        self.handlers, self.held, self.mask = None, None, None
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if mask is not None:  # as before the line (all three ignored, none was handled: still unblock)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # one pending is handled now
        if held:
            signal.raise_signal(held)


INTERRUPTS = set(STOP_SIGNALS)


def drop_partial_line(path: Path) -> None:
    """Cut a JSON Lines file back to the end of its last whole line: a write that failed midway
    (the disk full) left half a document at its end, which its readers choke on."""
    with open(path, "rb+") as file:
        size = end = file.seek(0, os.SEEK_END)
        keep = 0
        while end > 0:  # backwards, a block at a time: a document can take megabytes
            start = max(0, end - (1 << 16))
            file.seek(start)
            if (newline := file.read(end - start).rfind(b"\n")) >= 0:
                keep = start + newline + 1
                break
            end = start
        if keep < size:
            file.truncate(keep)
