"""`ocr scan`: OCR a batch of documents on a worker pool, a page per task.

The parent opens documents lazily, as workers free up, and hands out their pages; workers render
(or decode) and OCR them; the parent grafts each page's text onto the document's PDF as it comes
back and spools its JSON to a temporary file, so memory stays flat however long the document.
When a document's last page is in, its PDF and then its sidecar are written atomically (the
sidecar last: it marks the document done for the next run) and its JSON line is streamed out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from ocrcli import __version__, fingerprint, models, pdfgraft
from ocrcli.discover import (
    EarlierPages,
    Item,
    checked_page_texts,
    clashes,
    earlier_pages,
    foreign_sidecar,
    names_output,
    other_source,
    page_entry,
    read_sidecar,
    too_long,
    written_sha256,
)
from ocrcli.document import Document, record_without_pages
from ocrcli.errors import (
    CHANGED,
    GONE,
    JSON_ERRORS,
    NOT_THE_INPUTS,
    TEXT_ERRORS,
    BadInputError,
    Failure,
    OutputError,
    failure,
    one_line,
    reading_input,
    regular_file_stat,
)
from ocrcli.imageio import count_pages
from ocrcli.imagepdf import images_pdf
from ocrcli.pdfpages import needs_password, user_unit
from ocrcli.pool import EngineSpec, PageTask, TaskFailed, WorkerPool
from ocrcli.safewrite import claim, empty_file, interrupts_until_written, why_unwritable, write_atomically
from ocrcli.searchable import (
    DamageCheck,
    ExistingText,
    PageReading,
    PdfGrafter,
    PdfOptions,
    open_for_ocr,
    past_the_end,
    refuse_unselected,
    rewrite_errors,
)

_held_folders: dict[str, int] = {}  # folder -> the descriptor its lock is held by, until the process ends
# The output folder a scan made, and the parents made for it, deepest first, until it has ended
_made_folders: list[Path] = []


@contextlib.contextmanager
def scan_folders_held(
    input_folder: Path, output_folder: Path | None, on_wait: Callable[[Path], None]
) -> Iterator[None]:
    """Lock the scan's input folder and its output folder (made if missing, and removed again at
    the end if the scan left it empty) for this process's life, first waiting (after calling
    `on_wait` with the folder) while another `ocr scan` holds one. Two scans of one folder at once
    (a cron job whose last run is not done) both OCRed every document; the second now finds them
    current. Two scans of different folders into one output folder both found an output name free
    and wrote it, one over the other; the second now finds it taken. The folders are locked in the
    order of their real paths, so two scans wanting the same two never wait for each other. The
    lock is flock on the folder itself: no lock file is left behind, and it goes with the process,
    however it ends. Where the file system cannot lock folders (some network shares), scans run
    side by side as before."""
    keys = {os.path.realpath(input_folder): input_folder}
    if output_folder is not None:
        keys.setdefault(os.path.realpath(output_folder), output_folder)
    try:
        for key in sorted(keys):
            folder = keys[key]
            if folder is output_folder and not folder.exists():
                # listed first: an interrupt ends the process at once, removing them (see __main__)
                _made_folders.extend(_missing(folder))
                with contextlib.suppress(OSError):  # if it cannot be made, writing the outputs says so
                    folder.mkdir(parents=True)
            _lock(key, lambda folder=folder: on_wait(folder))
        yield
    finally:
        remove_made_folders()


def _missing(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist, deepest first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def remove_made_folders() -> None:
    """Remove the output folder the scan made, and the parents made for it, where it left them
    empty: `ocr scan in -o deep/er/out` that wrote nothing left deep/er, and an interrupt before
    the batch began (waiting for another scan, listing a big folder) the output folder too."""
    while _made_folders:
        try:
            _made_folders[0].rmdir()
        except FileNotFoundError:
            pass  # never made (it could not be), or gone
        except OSError:
            return  # not empty: the outputs are in it
        del _made_folders[0]


def _lock(key: str, on_wait: Callable[[], None]) -> None:
    if key in _held_folders:
        return
    try:
        fd = os.open(key, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        on_wait()
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return
    _held_folders[key] = fd


@dataclass
class ScanOptions:
    engine: EngineSpec
    pdf_options: PdfOptions
    jobs: int
    redo_current: bool = False  # --force: redo documents whose outputs are current
    in_place: bool = False
    page_timeout: float | None = None  # seconds one page may take before its worker is stopped


@dataclass
class Outcome:
    """How one document ended."""

    item: Item
    status: str  # "done", "current" (outputs up to date, skipped) or "failed"
    pages: int = 0
    seconds: float = 0.0
    error: Failure | None = None
    skipped_pages: dict[str, int] = field(default_factory=dict)  # reason -> count
    notes: list[str] = field(default_factory=list)  # lines for stderr: pages left as they were


class StreamFailed(Exception):
    """Writing the JSON stream failed (its reader went away, a full disk): not the fault of the
    document being streamed, so it passes the per-document handlers and stops the batch."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


@contextlib.contextmanager
def _stream_errors() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StreamFailed(exc) from exc


class Reporter(Protocol):
    def document_started(self, item: Item, pages: int) -> None: ...
    def page_done(self, item: Item) -> None: ...
    def document_finished(self, outcome: Outcome) -> None: ...
    def log(self, message: str) -> None: ...


@dataclass
class _Open:
    """A document being OCRed."""

    item: Item
    sha256: str
    page_count: int
    grafter: PdfGrafter | DamageCheck | None  # with --no-pdf a PDF's pages are only checked
    spool: IO[str]  # each finished page's JSON, one per line, in page order
    started: float
    identity: tuple[int, ...]  # the input's size, mtime and inode when opened (see _identity)
    hashed: dict[str, int] | None  # the input as it was hashed, for its sidecar (fingerprint.settled_stat)
    earlier: tuple[EarlierPages, ...]
    next_page: int = 0  # the next page to graft (pages arrive in any order)
    arrived: dict[int, PageReading] = field(default_factory=dict)
    failed: str | None = None
    skipped_pages: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # see Outcome
    units: list[float] = field(default_factory=list)  # a PDF's pages' /UserUnit (see _open_pdf)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # what a full $TMPDIR did not take is dropped with it
            self.spool.close()
        if self.grafter is not None:
            self.grafter.close()


def run_record(options: ScanOptions, kind: str) -> dict[str, Any]:
    """What makes the outputs of a document of this kind ("image" or "pdf") current: the tool and
    model versions and the options that change them (the input's own hash is in the sidecar's
    source). --pages, --force and --redo apply to PDFs only: changing them leaves images current."""
    selected = models.select(options.engine.tier, options.engine.models_dir)
    # The files' own hashes, dictionaries' too: a models folder may list no hash, and a dictionary
    # edited or weights swapped there left earlier outputs current.
    specs = [getattr(selected, role) for role in selected.names()] + list(selected.dictionaries.values())
    pdf = options.pdf_options
    record_options: dict[str, Any] = {"tier": options.engine.tier, "cjk": options.engine.cjk}
    if pdf.rotate_pages:  # only when given, so that sidecars written before the option stay current
        record_options["rotate_pages"] = True
    if kind == "image" and pdf.pdfa:  # also only when given
        record_options["pdfa"] = True
    if kind == "pdf":
        record_options["pages"] = str(pdf.pages) if pdf.pages else None
        record_options["existing_text"] = pdf.existing_text.value
    return {
        "tool_version": __version__,
        "models": {spec.name: models.own_sha256(spec) for spec in specs},
        "options": record_options,
    }


class Scan:
    """One batch run. `run` yields nothing; results reach the reporter and the JSON stream."""

    def __init__(
        self,
        items: list[Item],
        options: ScanOptions,
        reporter: Reporter,
        stream: IO[str] | None = None,
        unreadable: list[OSError] | None = None,
    ):
        self.items = items
        self.unreadable = unreadable or []  # folders that could not be listed: their files are missing
        self.options = options
        self.reporter = reporter
        self.stream = stream
        self.records = {kind: run_record(options, kind) for kind in ("image", "pdf")}
        # The document's "models": role -> model name, as in ocr image and ocr pdf (the hashes are
        # the run record's)
        self.model_names = models.select(options.engine.tier, options.engine.models_dir).names()
        self.clashes = too_long(items) | clashes(items)  # why inputs are refused before any work
        self.open: dict[Path, _Open] = {}
        self.outcomes: list[Outcome] = []  # so far, in completion order

    def run(self) -> list[Outcome]:
        """Process every item; an interruption propagates once nothing is left half-written."""
        for error in self.unreadable:
            self._finish(_unreadable_folder(error))
        try:
            jobs = max(1, self.options.jobs)
            warn = lambda message: self.reporter.log(f"ocr: {message}")  # noqa: E731
            with WorkerPool(jobs, self.options.engine, self.options.page_timeout, warn) as pool:
                for doc, result in pool.run(self._tasks()):
                    self._arrived(doc, result)
        except StreamFailed as failed:
            raise failed.error from None  # the caller reports it: a reader gone, a full disk
        finally:
            for doc in self.open.values():  # interrupted: drop what was in flight, write nothing
                doc.close()
            self.open.clear()
        return self.outcomes

    # -- handing out pages ------------------------------------------------------------------

    def _tasks(self) -> Iterator[tuple[_Open, PageTask]]:
        for item in self.items:
            doc = self._start(item)
            if doc is None:
                continue
            for index in range(doc.page_count):
                if doc.failed:
                    break
                unit = doc.units[index] if doc.units else 1.0
                yield doc, PageTask(item.kind, str(item.path), index, self.options.pdf_options, unit)

    def _start(self, item: Item) -> _Open | None:
        """Open the document, or finish it at once: current outputs, or unreadable."""
        started, identity = time.perf_counter(), None
        try:
            if clash := self.clashes.get(item.path):
                raise BadInputError(item.path, clash, "output")
            previous = read_sidecar(item.sidecar, pages=False) if item.sidecar else None
            with reading_input(item.path):  # as ocr image and ocr pdf say it: missing, no permission
                now, st = time.time_ns(), regular_file_stat(item.path)
                identity, hashed = _identity(st), fingerprint.settled_stat(st, now)
                sha256 = (
                    _unchanged_sha256(previous, hashed)
                    or (item.pdf == item.path and written_sha256(previous, st, item.sidecar))
                    or fingerprint.file_sha256(item.path)
                )
            if not self.options.redo_current and self._is_current(item, sha256, previous):
                self._finish(Outcome(item, "current"), previous, self._current_pages(item))
                return None
            self._check_writable(item)
            self._check_overwrites(item, previous, sha256)
            with _spooling(item.path):
                spool = tempfile.TemporaryFile("w+", encoding="utf-8", errors=TEXT_ERRORS)  # noqa: SIM115
            grafter, page_count, units = self._open_pdf(item)
        except StreamFailed:  # not this document's fault: stop the batch
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            error = failure(item.path, exc)
            # Still being copied in: "corrupt" blamed a file that is sound once it is whole
            if error.kind not in NOT_THE_INPUTS and (change := _moved_on(item.path, identity)):
                error = Failure(f"{item.path}: {change}", "changed")
            self._finish(Outcome(item, "failed", error=error))
            return None
        earlier = earlier_pages(previous, sha256, item.sidecar, item.path if item.kind == "pdf" else None)
        doc = _Open(item, sha256, page_count, grafter, spool, started, identity, hashed, earlier, units=units)
        if item.kind == "pdf" and (
            beyond := past_the_end(item.path, self.options.pdf_options.pages, page_count)
        ):
            doc.notes.append(beyond)
        self.open[item.path] = doc
        self.reporter.document_started(item, page_count)
        return doc

    def _open_pdf(self, item: Item) -> tuple[PdfGrafter | DamageCheck | None, int, list[float]]:
        """The PDF the pages are grafted onto (with --no-pdf, a PDF's pages checked for damage; an
        image's, None), the page count, and a PDF's pages' /UserUnit, which the workers, reading
        pages with pdfium alone, are told (none for an image)."""
        if item.kind == "image":
            if item.pdf is None:
                return None, count_pages(item.path), []
            with rewrite_errors(item.path):
                pdf = images_pdf([item.path], self.options.pdf_options.pdfa)
                grafter = PdfGrafter(pdf, True, self.options.pdf_options.rotate_pages)
            pdfgraft.mark_image_pdf(grafter.pdf, item.path)
            return grafter, len(grafter.pdf.pages), []
        options = self.options.pdf_options
        if item.pdf is None:  # nothing is rewritten, so a signature does not matter
            options = dataclasses.replace(options, invalidate_signatures=True)
        opened = open_for_ocr(item.path, options)
        opened.render.close()  # workers render; this process only grafts
        try:
            units = [user_unit(page) for page in opened.pdf.pages]
            refuse_unselected(item.path, options.pages, len(units))  # as ocr pdf does: kind options
            if item.pdf is None:  # only read: its pages are checked as `ocr pdf --json` checks them
                return DamageCheck(opened.pdf), len(units), units
            return PdfGrafter(opened.pdf, rotate_pages=options.rotate_pages), len(units), units
        except BaseException:  # the document is not opened: nothing else would close it
            opened.pdf.close()
            raise

    def _is_current(self, item: Item, sha256: str, previous: dict | None) -> bool:
        if item.sidecar is None:  # no record to compare: a PDF newer than the input will do
            # (in place there is no telling; pages OCRed before are skipped, as having text)
            return item.pdf is not None and item.pdf != item.path and _newer(item.pdf, item.path)
        if previous is None:
            return False
        output = previous.get("output") or {}
        if self.options.in_place and item.kind == "pdf" and sha256 == output.get("sha256"):
            # The PDF is the one we wrote (also when this run writes none: --no-pdf). Redone with
            # other options or another version, its pages would all be skipped as having an OCR
            # layer: --redo it. Other --pages, though, may ask for pages that run left out: those
            # are OCRed, and the pages it did keep their entries (see discover.EarlierPages).
            earlier_selection = ((previous.get("run") or {}).get("options") or {}).get("pages")
            return earlier_selection in (None, self.records["pdf"]["options"]["pages"]) and (
                self.options.pdf_options.existing_text is ExistingText.skip
                or previous.get("run") == self.records["pdf"]
            )
        if previous.get("run") != self.records[item.kind] or sha256 != previous["source"].get("sha256"):
            return False
        return item.pdf is None or (output.get("pdf") is not None and item.pdf.exists())

    @staticmethod
    def _check_writable(item: Item) -> None:
        """Refuse a document whose outputs plainly cannot be written (a read-only subfolder, a
        file where a folder should be), before its OCR: it used to be OCRed, then fail. Not a PDF
        OCRed in place: it is rewritten only if a page changes (see PdfGrafter.add), which its OCR
        tells, so one with nothing to add is done in a read-only folder (--no-sidecar)."""
        for dest in (item.pdf, item.sidecar):
            if dest is not None and dest != item.path and (reason := why_unwritable(dest)):
                raise OutputError(dest, reason)

    def _check_overwrites(self, item: Item, record: dict | None, sha256: str) -> None:
        """Never replace a file of the user's that is not ours to replace: one we did not make,
        or one we made that was changed since (its hash is no longer the one its sidecar,
        `record`, records), which used to be overwritten without a word once its input changed.
        Without a sidecar naming it (--no-sidecar, or a run stopped before the sidecar), ours is
        a PDF with our text layer, an image's PDF that names this image (pdfgraft.mark_image_pdf),
        or an exact copy of this input (a PDF with nothing to OCR): replacing that loses nothing."""
        if item.sidecar and (reason := foreign_sidecar(item.sidecar)):
            raise BadInputError(item.path, f"{reason} (move it away, or scan with --no-sidecar)", "output")
        if item.sidecar and (other := other_source(record, item.sidecar, item.path, sha256)):
            raise BadInputError(
                item.path,
                f"{item.sidecar} holds the OCR of {other}, another file; leaving it "
                "(scan into another folder with -o, or delete it to replace it)",
                "output",
            )
        for dest in (item.pdf, item.sidecar):  # found free to write, or ours (see below)
            if dest is not None and dest != item.path:
                claim(dest)
        if not (item.pdf and item.pdf != item.path and item.pdf.exists()) or empty_file(item.pdf):
            return  # nothing there, or an empty file: replaced, as any output's is (so is a sidecar)
        named = names_output(record, item.pdf)
        password = self.options.pdf_options.password  # an encrypted input's output has it too
        ours = named or pdfgraft.has_our_layer(item.pdf, password) or self._made_without_layer(item, sha256)
        if not ours:
            raise BadInputError(
                item.path,
                f"{item.pdf} exists and was not made by ocrcli; leaving it (move it away to OCR)",
                "output",
            )
        written = ((record or {}).get("output") or {}).get("sha256")
        if named and written and fingerprint.file_sha256(item.pdf) != written:
            raise BadInputError(
                item.path,
                f"{item.pdf} was changed since ocrcli wrote it; leaving it (delete it to redo)",
                "output",
            )

    @staticmethod
    def _made_without_layer(item: Item, sha256: str) -> bool:
        """Is the PDF at item.pdf one we made that has no text layer (see _check_overwrites)?"""
        assert item.pdf is not None
        if item.kind == "image":
            return pdfgraft.marked_image(item.pdf) == item.path.name
        try:
            return fingerprint.file_sha256(item.pdf) == sha256
        except OSError:
            return False

    # -- collecting pages -------------------------------------------------------------------

    def _arrived(self, doc: _Open, result: Any) -> None:
        if doc.failed or doc.item.path not in self.open:
            return  # an earlier page failed: the document is already reported
        if isinstance(result, TaskFailed):
            self._fail(doc, result.failure)
            return
        self.reporter.page_done(doc.item)
        doc.arrived[result.page.page - 1] = result
        try:
            while doc.next_page in doc.arrived:  # graft and spool in page order
                reading = doc.arrived.pop(doc.next_page)
                page = reading.page
                if doc.grafter is not None:
                    with rewrite_errors(doc.item.path):
                        page = doc.grafter.add(doc.next_page, reading)
                    if page.skip_kind in ("too-complex", "damaged"):  # a page left as it was: named
                        doc.notes.append(f"{doc.item.path}: page {page.page} skipped: {page.skipped}")
                if page.skipped:
                    doc.skipped_pages[page.skipped] = doc.skipped_pages.get(page.skipped, 0) + 1
                with _spooling(doc.item.path):  # flushed, so that a full $TMPDIR is found here
                    doc.spool.write(json.dumps(page_entry(page, doc.earlier), ensure_ascii=False) + "\n")
                    doc.spool.flush()
                doc.next_page += 1
            if doc.next_page == doc.page_count:
                self._complete(doc)
        except StreamFailed:  # not this document's fault: stop the batch
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            self._fail(doc, failure(doc.item.path, exc))

    def _fail(self, doc: _Open, error: Failure) -> None:
        # Failed reading an input that changed meanwhile (a page it no longer has): say so, as
        # a run again mends it, where "corrupt" blamed a file that was sound when it was opened.
        if error.kind not in NOT_THE_INPUTS:
            with contextlib.suppress(OSError):  # unreadable now: the failure says so already
                if change := fingerprint.change_since(doc.item.path, doc.sha256, doc.hashed):
                    error = Failure(f"{doc.item.path}: {change}", "changed")
        doc.failed = error.message
        self.open.pop(doc.item.path, None)
        doc.close()
        outcome = Outcome(doc.item, "failed", doc.next_page, time.perf_counter() - doc.started, error)
        self._finish(outcome)

    def _complete(self, doc: _Open) -> None:
        item = doc.item
        # An interrupt once the PDF is written is held until its sidecar is too, then stops the batch.
        guard = None
        try:
            with interrupts_until_written(item.pdf or item.path) as guard:
                self._write_outputs(doc)
        finally:
            if guard is not None and guard.held:  # also when the sidecar failed: stop all the same
                raise KeyboardInterrupt

    def _write_outputs(self, doc: _Open) -> None:
        item = doc.item
        output: dict[str, Any] = {"pdf": None, "sidecar": str(item.sidecar) if item.sidecar else None}
        in_place = item.pdf == item.path
        if isinstance(doc.grafter, PdfGrafter) and item.pdf is not None:
            if in_place and _identity(regular_file_stat(item.path)) != doc.identity:
                raise BadInputError(
                    item.path, "changed while it was being OCRed; left as it is (run again)", "changed"
                )
            with rewrite_errors(item.path):
                doc.grafter.save(item.pdf, item.path, self.options.pdf_options.password, doc.sha256)
            written = regular_file_stat(item.pdf)  # before it is hashed: a change after it shows
            output = {**output, "pdf": str(item.pdf), "sha256": fingerprint.file_sha256(item.pdf)}
            output["stat"] = fingerprint.stat_record(written)  # see discover.written_sha256
            if item.sidecar is None:
                _remove_stale_sidecar(item.pdf, doc.sha256, output["sha256"])
        elif change := fingerprint.change_since(doc.item.path, doc.sha256, doc.hashed):
            # No PDF written, whose saving checks this: a sidecar gave one version's sha256 and,
            # for pages read after it was replaced, another's text.
            raise BadInputError(item.path, change, "changed")
        seconds = time.perf_counter() - doc.started
        record = self.records[item.kind]
        source = {"path": str(item.path), "sha256": doc.sha256} | ({"stat": doc.hashed} if doc.hashed else {})
        head = Document(source, [], self.model_names).to_dict()
        head.pop("pages")
        head.update(timings={"total": round(seconds, 4)}, output=output, run=record)
        if item.sidecar is not None:
            write = functools.partial(self._write_document, head, doc.spool)
            # An input only its password opens: its text in the clear is for its owner only
            private = (
                item.kind == "pdf" and bool(self.options.pdf_options.password) and needs_password(item.path)
            )
            write_atomically(item.sidecar, write, made_from=[item.path], private=private)
        self.open.pop(item.path, None)
        outcome = Outcome(
            item, "done", doc.page_count, seconds, skipped_pages=doc.skipped_pages, notes=doc.notes
        )
        try:
            if self.stream is not None:
                self._stream_document(head, doc.spool)
        finally:  # also when the stream fails: the document is no longer in self.open
            doc.close()
        self._finish(outcome)

    def _current_pages(self, item: Item) -> Iterator[str] | None:
        """The JSON texts of the pages of a current document's sidecar, for the stream (None
        without one), one at a time (see discover.checked_page_texts). Each is found to parse
        before any of its record is written: a page that cannot be read fails the document, not
        the stream."""
        if self.stream is None or item.sidecar is None:
            return None
        try:
            return checked_page_texts(item.sidecar)
        except (OSError, *JSON_ERRORS) as exc:
            reason = f"its sidecar {item.sidecar} cannot be read ({one_line(exc)})"
            raise BadInputError(item.path, reason, "unreadable") from exc

    def _finish(
        self, outcome: Outcome, previous: dict | None = None, pages: Iterable[str] | None = None
    ) -> None:
        """Report the outcome, and stream its record unless it is done (streamed already). A
        current document's is its sidecar again, so the stream stays complete: `previous`, its
        head, and its `pages`."""
        self.outcomes.append(outcome)
        self.reporter.document_finished(outcome)
        if self.stream is None or outcome.status == "done":  # a done one has streamed already
            return
        if outcome.status == "failed":
            line = record_without_pages(str(outcome.item.path), status="failed", error=outcome.error.record())
        elif previous is not None and pages is not None:
            # "models" as role -> name: sidecars written before 0.2.6's fix gave name -> sha256
            head = {**_named_as_now(previous, outcome.item), "models": self.model_names}
            self._stream_chunks({**head, "status": "current"}, pages)
            return
        else:
            line = record_without_pages(str(outcome.item.path), status="current")
        with _stream_errors():
            self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.stream.flush()

    @staticmethod
    def _write_document(head: dict[str, Any], spool: IO[str], tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", errors=TEXT_ERRORS) as out:
            for chunk in _document_chunks(head, _lines(spool), separator=",\n"):
                out.write(chunk)
            out.write("\n")

    def _stream_document(self, head: dict[str, Any], spool: IO[str]) -> None:
        self._stream_chunks({**head, "status": "done"}, _lines(spool))

    def _stream_chunks(self, head: dict[str, Any], pages: Iterable[str]) -> None:
        assert self.stream is not None
        with _stream_errors():
            for chunk in _document_chunks(head, pages, separator=","):
                self.stream.write(chunk)
            self.stream.write("\n")
            self.stream.flush()


def _document_chunks(head: dict[str, Any], pages: Iterable[str], separator: str) -> Iterator[str]:
    """The document as JSON text in pieces: `head`'s fields, then "pages", each page's JSON text
    after `separator` (discover.read_sidecar relies on this layout)."""
    opening = json.dumps(head, ensure_ascii=False)
    yield opening[:-1] + ', "pages": ['
    for number, page in enumerate(pages):
        yield (separator if number else separator.lstrip(",")) + page
    yield "]}"


@contextlib.contextmanager
def _spooling(path: Path) -> Iterator[None]:
    """An OSError spooling the pages' JSON of the document at `path` as the OutputError it is,
    naming the temporary folder: a full $TMPDIR failed the document as unreadable, exit 3,
    "[Errno 28] No space left on device", as if the input or the output's disk were at fault."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or one_line(exc)
        raise OutputError(tempfile.gettempdir(), f"{reason}, spooling the JSON of {path}") from exc


def _lines(spool: IO[str]) -> Iterator[str]:
    """The pages' JSON texts in the spool, a line each."""
    spool.seek(0)
    return (line.rstrip("\n") for line in spool)


def _named_as_now(record: dict[str, Any], item: Item) -> dict[str, Any]:
    """A current document's sidecar head, its input and outputs named as this run names them. The
    sidecar keeps the paths the run that wrote it was given (relative to its working folder): a
    re-run from elsewhere, or given the folder otherwise, streamed paths naming nothing there,
    beside its "done" records' paths as given. The PDF is beside its sidecar, under its name."""
    named = {**record, "source": {**record["source"], "path": str(item.path)}}
    output = record.get("output")
    if isinstance(output, dict) and item.sidecar is not None:
        pdf = output.get("pdf")
        if isinstance(pdf, str):
            pdf = str(item.pdf or item.sidecar.parent / Path(pdf).name)
        named["output"] = {**output, "pdf": pdf, "sidecar": str(item.sidecar)}
    return named


def _newer(output: Path, source: Path) -> bool:
    with contextlib.suppress(OSError):
        return output.stat().st_mtime >= source.stat().st_mtime
    return False


def _unreadable_folder(error: OSError) -> Outcome:
    """A folder the batch could not look into fails like a document: the files in it are missing."""
    folder = Path(os.fsdecode(error.filename))
    reason = error.strerror or one_line(error)
    message = f"{folder}: cannot list this folder ({reason}); its files are not OCRed"
    return Outcome(Item(folder, "folder", None, None), "failed", error=Failure(message, "unreadable"))


def _identity(st: os.stat_result) -> tuple[int, ...]:
    """What changes when someone saves over a file: size, modification time, inode."""
    return st.st_size, st.st_mtime_ns, st.st_ino


def _moved_on(path: Path, identity: tuple[int, ...] | None) -> str | None:
    """How the file at `path` differs from the one that had `identity` (see _identity): GONE,
    CHANGED (written to, replaced), or None (the same, or no telling: no identity taken)."""
    if identity is None:
        return None
    try:
        return CHANGED if _identity(os.stat(path)) != identity else None
    except FileNotFoundError:
        return GONE
    except OSError:
        return None


def _remove_stale_sidecar(pdf: Path, source_sha256: str, pdf_sha256: str) -> None:
    """--no-sidecar: remove an earlier run's sidecar that the PDF just written makes wrong: one
    recording another PDF there (the text and hash of the one replaced), or, recording none
    (--no-pdf), another version of the input. Left, it was read as the new PDF's description. One
    that records this very PDF (in place, a PDF with nothing to add is not rewritten) stays."""
    sidecar = pdf.with_suffix(".json")
    record = read_sidecar(sidecar, pages=False)
    if record is None:  # none, or a file of the user's
        return
    if names_output(record, pdf):
        stale = record["output"].get("sha256") != pdf_sha256
    else:
        stale = record["source"].get("sha256") != source_sha256
    if stale:
        with contextlib.suppress(OSError):  # the PDF is written: a sidecar left is no failure of it
            sidecar.unlink()


def _unchanged_sha256(record: dict | None, hashed: dict[str, int] | None) -> str | None:
    """The sha256 the sidecar `record` gives its source, if the input is still the file hashed
    then (see fingerprint.settled_stat); else None."""
    source = (record or {}).get("source") or {}
    sha256 = source.get("sha256")
    return sha256 if hashed and source.get("stat") == hashed and isinstance(sha256, str) else None
