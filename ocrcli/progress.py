"""What `ocr scan` shows on stderr: a live progress display, a line per failure (and per file
with -v), and a summary table at the end. Nothing here writes to stdout."""

from __future__ import annotations

import time
from collections import Counter
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ocrcli.discover import Item
from ocrcli.errors import ERROR_KINDS, counted, one_line_message
from ocrcli.scan import Outcome

BAR_WIDTH = 15
# What the progress line needs beside the file name: "OCR", the bar, "40/120 docs, 345 pages, 1.23
# pages/s 0:01:05 ETA 0:02:10" and room for larger counts.
COUNTERS_WIDTH = 85
MIN_NAME_WIDTH, MAX_NAME_WIDTH = 12, 40


class _ShownWhileRunning:
    """A rich Progress display, shown for the block it is entered for."""

    progress: Progress

    def __enter__(self) -> Self:
        # Started only when shown: rich before 15 prints an empty line when a disabled Progress
        # stops, which put a blank line on stderr after an error or before the summary.
        if not self.progress.disable:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.progress.disable:
            self.progress.stop()


class ScanDisplay(_ShownWhileRunning):
    """The scan's Reporter: progress while it runs (only on a terminal, and not with --quiet)."""

    def __init__(self, console: Console, documents: int, live: bool, verbose: bool):
        self.console = console
        self.verbose = verbose
        self.started = time.perf_counter()
        self.pages_done = 0
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            TextColumn("docs, {task.fields[pages]} pages, {task.fields[rate]} pages/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            # The file's name is no markup: "q[/]x.png" was a MarkupError traceback
            TextColumn("{task.fields[current]}", style="dim", markup=False),
            console=console,
            disable=not live,
            transient=True,
            refresh_per_second=4,
        )
        self.task = self.progress.add_task("OCR", total=documents, pages=0, rate="-", current="")

    def _short(self, item: Item) -> str:
        """The current file's name, cut from the left to what the line has room for beside the
        counters (at 80 columns, none: a long name had the bar, the counts and the ETA cut)."""
        width = min(self.console.width - COUNTERS_WIDTH, MAX_NAME_WIDTH)
        if width < MIN_NAME_WIDTH:
            return ""
        name = one_line_message(str(item.path))
        return name if len(name) <= width else "…" + name[-(width - 1) :]

    def document_started(self, item: Item, pages: int) -> None:
        self.progress.update(self.task, current=self._short(item))

    def page_done(self, item: Item) -> None:
        self.pages_done += 1
        rate = self.pages_done / max(time.perf_counter() - self.started, 1e-9)
        self.progress.update(self.task, pages=self.pages_done, rate=f"{rate:.2f}", current=self._short(item))

    def document_finished(self, outcome: Outcome) -> None:
        self.progress.advance(self.task)
        for note in outcome.notes:
            self.log(f"ocr: {note}")
        if outcome.status == "failed":
            self.log(f"ocr: error: {outcome.error.message}")
        elif self.verbose:
            what = {
                "done": f"done, {counted(outcome.pages, 'page')} in {outcome.seconds:.1f} s",
                "current": "up to date",
            }
            target = f" -> {outcome.item.pdf}" if outcome.item.pdf and outcome.status == "done" else ""
            self.log(f"ocr: {outcome.item.path}: {what[outcome.status]}{target}")

    def log(self, message: str) -> None:
        """A line above the progress display (never wrapped, no markup)."""
        self.console.print(one_line_message(message), markup=False, highlight=False, soft_wrap=True)


class CountProgress(_ShownWhileRunning):
    """Progress through a count of `unit` (`ocr pdf`'s and `ocr image --pdf`'s pages, `ocr image`'s
    files) on stderr while it runs (only on a terminal): a long scan of a book went minutes without
    a sign. Called with the number done and the count."""

    def __init__(self, console: Console, live: bool, unit: str = "pages"):
        self.progress = Progress(
            TextColumn("[bold]OCR"),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            TextColumn(unit),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not live,
            transient=True,
            refresh_per_second=4,
            # rich sends what is written to sys.stdout meanwhile to its console, stderr: `ocr image
            # A B --text` printed its text there
            redirect_stdout=False,
        )
        self.task = self.progress.add_task("OCR", total=None)

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


def summary_table(outcomes: list[Outcome], seconds: float, outputs: int = 0) -> Table:
    """Done, skipped and failed documents (with the reasons), pages, wall time and pages OCRed a
    second; `outputs`: PDFs left out as ocrcli's outputs for other files (discover.earlier_output)."""
    done = [o for o in outcomes if o.status == "done"]
    current = [o for o in outcomes if o.status == "current"]
    failed = [o for o in outcomes if o.status == "failed"]
    pages = sum(o.pages for o in done)
    skipped_pages: Counter[str] = Counter()
    for o in done:
        skipped_pages.update(o.skipped_pages)
    table = Table("", "documents", "pages", "why", title="ocr scan", box=None, title_justify="left")
    table.add_row("done", str(len(done)), str(pages), "")
    for reason, count in sorted(skipped_pages.items()):
        table.add_row("  pages not OCRed", "", str(count), Text(reason))
    if current or not outputs:  # "skipped 0" above the outputs' row said nothing
        table.add_row(
            "skipped", str(len(current)), "", "outputs up to date (--force to redo)" if current else ""
        )
    if outputs:
        table.add_row("skipped", str(outputs), "", "ocrcli outputs of other files, not read as inputs")
    for reason, count in _failure_rows(failed):
        # As Text, not markup: a reason naming another file in a folder "q[" ("q[/]x.pdf") ended
        # the scan, its work done, in a MarkupError traceback
        table.add_row("[red]failed", str(count), "", Text(reason))
    if not failed:
        table.add_row("failed", "0", "", "")
    # The rate of the pages OCRed: with `--pages 3` a 3-page PDF showed 1.99 pages/s for one page
    ocred = pages - sum(skipped_pages.values())
    rate = ocred / seconds if seconds > 0 else 0.0
    table.add_row("total", str(len(outcomes)), str(pages), f"{seconds:.1f} s wall, {rate:.2f} pages/s OCRed")
    return table


def _failure_rows(failed: list[Outcome]) -> list[tuple[str, int]]:
    """A row per reason the documents failed for, most first; failures of one kind that differ
    only in their details (three truncated images, each with its own count of bytes; the two
    files of a clash, each naming the other) share a row that says their kind, the message of
    each being above the summary."""
    by_kind: dict[str, Counter[str]] = {}
    for outcome in failed:
        kind = outcome.error.kind if outcome.error else "internal"
        by_kind.setdefault(kind, Counter())[_reason(outcome)] += 1
    rows = [
        (next(iter(reasons)) if len(reasons) == 1 else f"{kind}: {ERROR_KINDS[kind]}", reasons.total())
        for kind, reasons in by_kind.items()
    ]
    return sorted(rows, key=lambda row: -row[1])


def _reason(outcome: Outcome) -> str:
    """The reason a document failed, without its file's name: 'a.pdf: encrypted: ...' ->
    'encrypted: ...'. The name is the document's, as messages show it: one holding ": " (as
    'Meeting: notes.png' may) was cut there, and part of it taken for the reason. A message that
    does not start with it ('cannot write OUT: ...') loses what comes before its first ': '."""
    error = outcome.error.message if outcome.error else ""
    named = one_line_message(str(outcome.item.path)) + ": "
    if error.startswith(named):
        return error.removeprefix(named)
    _, _, reason = error.partition(": ")
    return reason or error
