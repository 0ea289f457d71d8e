"""A pool of worker processes that OCR one page per task, each loading the models once.

The parent hands each idle worker one task over its own pipe, so it always knows which task a
worker holds: a worker that dies (OOM-killed, segfault) fails only that task, and a fresh worker
takes its place. Workers ignore SIGINT; the parent decides what Ctrl-C means and stops them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrcli import pdfpages
from ocrcli.errors import (
    GONE,
    BadInputError,
    Failure,
    ModelError,
    OcrError,
    WorkerStartError,
    failure,
    system_limit,
)

if TYPE_CHECKING:  # imported by the workers only when they read (searchable imports the engine)
    import pypdfium2 as pdfium

    from ocrcli.pipeline import Engine
    from ocrcli.searchable import PageReading, PdfOptions


@dataclass(frozen=True)
class EngineSpec:
    """What each worker loads."""

    tier: str = "fast"
    models_dir: str | None = None
    threads: int | None = 1  # None: the engine's default (OCRCLI_THREADS, else 1)
    cjk: bool = False  # read CJK characters too (see ocrcli.charset)


@dataclass(frozen=True)
class PageTask:
    """OCR page `index` (0-based) of the PDF or image at `path`."""

    kind: str  # "pdf" or "image"
    path: str
    index: int
    options: PdfOptions | None = None  # for PDFs
    unit: float = 1.0  # the PDF page's /UserUnit, which pdfium does not read (see pdfpages.user_unit)


class TaskFailed(OcrError):
    """A task's failure (worker exceptions do not cross the pipe as objects), with its kind and
    exit code."""

    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure
        self.kind, self.exit_code = failure.kind, failure.exit_code


LOADING_ALLOWANCE = 120.0  # seconds a new worker may take to load its models (about 1 s here)
RETRY_START_AFTER = 30.0  # seconds after the system refused a worker before the pool tries again
STOP_WAIT = 2.0  # seconds to wait for a killed worker to be gone (a few ms; longer in a D state)


# Sent to the whole process group: the parent decides what Ctrl-C and a closed terminal mean,
# and stops the workers.
PARENTS_SIGNALS = {signal.SIGINT, signal.SIGHUP}


def _worker_main(conn: Connection, spec: EngineSpec) -> None:
    for sig in PARENTS_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, PARENTS_SIGNALS)  # see _parents_signals_blocked
    # Imported before "ready", like the models loaded: the page code's imports (pikepdf,
    # pypdfium2, reportlab; 0.5-1 s) counted against the first page's time limit.
    from ocrcli import searchable  # noqa: F401
    from ocrcli.pipeline import Engine

    try:
        engine = Engine(spec.tier, spec.models_dir, spec.threads, cjk=spec.cjk)
    except OcrError as exc:
        _reply(conn, ("fatal", str(exc)))
        return
    if not _reply(conn, ("ready", None)):  # the page clock starts now, not while the models load
        return
    open_path, document = None, None  # the PDF this worker last read, kept open for its next page
    while True:
        try:
            task: PageTask = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        try:
            if task.kind == "pdf" and task.path != open_path:
                if document is not None:
                    document.close()
                    open_path, document = None, None
                document = pdfpages.open_for_rendering(task.path, task.options.password)
                open_path = task.path
            outcome: tuple[str, Any] = ("ok", _read(engine, task, document))
        except Exception as exc:  # noqa: BLE001 - one page's bug fails its document, not the batch
            # The parent opened it: a file gone since failed here as corrupt ("not a renderable PDF")
            gone = not Path(task.path).exists()
            cause = BadInputError(task.path, GONE, "changed") if gone else exc
            outcome = ("error", failure(task.path, cause, f"page {task.index + 1}: "))
        if not _reply(conn, outcome):
            return


def _reply(conn: Connection, message: tuple[str, Any]) -> bool:
    """Send `message` to the parent; False if it is gone. Killed outright (kill -9, the OOM
    killer, a crash), it leaves its end of the pipe closed: the worker, finishing its page, then
    ends quietly, where it printed two BrokenPipeError tracebacks on the user's terminal."""
    try:
        conn.send(message)
    except OSError:
        return False
    return True


def _read(engine: Engine, task: PageTask, document: pdfium.PdfDocument | None) -> PageReading:
    from ocrcli import searchable

    if task.kind == "pdf":
        return searchable.read_pdf_page(engine, document, task.index, task.options, task.path, task.unit)
    return searchable.read_image_page(engine, Path(task.path), task.index)


class _Worker:
    def __init__(self, context: Any, spec: EngineSpec):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, spec), daemon=True)
        try:
            self.process.start()
        except OSError:  # not started: no pipe left open
            self.conn.close()
            raise
        finally:
            child.close()
        self.ready = False  # its models are loaded (it said so)
        self.pending: tuple[str, Any] | None = None  # a message read while waiting for "ready"
        self.started = 0.0  # when its current page started: handed over, or the worker got ready

    def death(self) -> str:
        self.process.join(1)
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:  # a real-time signal has no name
                name = f"signal {-code}"
            hint = " (out of memory?)" if -code == signal.SIGKILL else ""
            return f"the worker process was killed by {name}{hint}"
        return f"the worker process died (exit code {code})"

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            # Waited for: until then it counts against a limit on processes (`ulimit -u`), and
            # the worker started in its place was refused.
            self.process.join(STOP_WAIT)
        self.conn.close()


@contextlib.contextmanager
def _parents_signals_blocked() -> Iterator[None]:
    """Block PARENTS_SIGNALS while a worker is started. It inherits the mask through fork and
    exec, and so takes no Ctrl-C while its interpreter starts and imports, before _worker_main
    ignores it: it printed a KeyboardInterrupt traceback. One sent meanwhile reaches the parent
    once they are unblocked."""
    resource_tracker.ensure_running()  # started first: starting it unblocks SIGINT
    held = signal.pthread_sigmask(signal.SIG_BLOCK, PARENTS_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class WorkerPool:
    """Up to `size` worker processes; `run` feeds them tasks and yields outcomes as they complete.
    A worker is started only when a task is waiting and every one started is busy: each loads
    the models (about 300 MB), so a re-run with nothing left to do, or one image on a many-core
    machine, started a worker per core for nothing."""

    def __init__(
        self,
        size: int,
        spec: EngineSpec,
        page_timeout: float | None = None,
        warn: Callable[[str], None] | None = None,
        retry_start_after: float = RETRY_START_AFTER,
    ):
        # spawn: workers start as fresh processes, not copies of this one. Not forkserver: when
        # the system refuses a process (`ulimit -u`), its server printed a traceback and died.
        self.context = multiprocessing.get_context("spawn")
        self.spec = spec
        self.size = size  # kept after a refused start: the pool tries again to grow to it
        self.page_timeout = page_timeout  # a worker stuck longer on one page is stopped
        self.warn = warn  # told when the pool goes on with fewer workers than `size`
        self.workers: list[_Worker] = []
        self._held: tuple[Any, PageTask] | None = None  # drawn, but no worker could be started
        self.retry_start_after = retry_start_after
        self._refused_at: float | None = None  # when the system last refused a worker

    def run(self, tasks: Iterator[tuple[Any, PageTask]]) -> Iterator[tuple[Any, Any]]:
        """Yield (key, result) per task in completion order; the result is a TaskFailed when the
        task failed. Tasks are drawn from `tasks` only when a worker is free, so the caller can
        open documents lazily and stop feeding a document that has failed."""
        self._busy: dict[_Worker, tuple[Any, PageTask]] = {}
        self._tasks, self._exhausted = tasks, False
        while True:
            yield from self._dispatch()
            if not self._busy:
                if self._exhausted:
                    return
                continue  # every hand-over failed: try again with the fresh workers
            waitables = [w.conn for w in self._busy] + [w.process.sentinel for w in self._busy]
            ready = set(wait(waitables, self._time_left()))
            done = []
            for worker in [w for w in self._busy if w.conn in ready or w.process.sentinel in ready]:
                if worker.conn in ready and not worker.ready and self._heard_ready(worker):
                    continue
                key, page_task = self._busy.pop(worker)
                done.append((key, self._receive(worker, page_task)))
            done += self._stop_overdue()
            # Hand out the next tasks before the caller works on these results (grafting,
            # writing files), so that the workers are not kept waiting for it.
            yield from self._dispatch()
            yield from done

    def _dispatch(self) -> Iterator[tuple[Any, Any]]:
        """Give every idle worker a task, starting workers (up to `size`) while tasks are left;
        yields the tasks that could not be handed over."""
        while not self._exhausted:
            idle = [w for w in self.workers if w not in self._busy]
            if not idle and not self._may_start():
                return
            task, self._held = self._held or next(self._tasks, None), None
            if task is None:
                self._exhausted = True
                return
            if idle:
                worker = idle[0]
                if not worker.process.is_alive():  # died while idle: no task of anyone's was lost
                    worker = self._replace(worker)
            else:
                worker = self._start()
            if worker is None:  # the system would start no other: a running worker takes it
                self._held = task
                return
            key, page_task = task
            try:
                worker.conn.send(page_task)
            except OSError:  # it died after its last result: the task never started, so retry
                worker = self._replace(worker)
                if worker is None:
                    self._held = task
                    return
                try:
                    worker.conn.send(page_task)
                except OSError:
                    yield key, TaskFailed(Failure(f"{page_task.path}: {worker.death()}", "crashed"))
                    continue
            self._busy[worker] = key, page_task
            worker.started = time.monotonic()

    def _may_start(self) -> bool:
        """Whether to start another worker for a waiting task: fewer than `size` run, and the
        system's last refusal was `retry_start_after` seconds ago (a limit on processes may be
        reached only for a while: other programs end). With none left (crashed, stopped past the
        page timeout), at once: there is nothing to wait on, and the pool spun until then."""
        if len(self.workers) >= self.size:
            return False
        if not self.workers or self._refused_at is None:
            return True
        return time.monotonic() - self._refused_at >= self.retry_start_after

    def _time_left(self) -> float | None:
        """Seconds until the busiest worker's page is overdue (None: no limit)."""
        if self.page_timeout is None:
            return None
        return max(0.0, min(w.started + self._limit(w) for w in self._busy) - time.monotonic())

    def _limit(self, worker: _Worker) -> float:
        """Seconds its page may take: the page limit once the worker's models are loaded; before,
        LOADING_ALLOWANCE more, so that a worker that never gets ready cannot hang the batch."""
        assert self.page_timeout is not None
        return self.page_timeout + (0.0 if worker.ready else LOADING_ALLOWANCE)

    def _stop_overdue(self) -> list[tuple[Any, TaskFailed]]:
        """Kill the workers stuck on a page past the limit (a pathological file); fail those pages."""
        if self.page_timeout is None:
            return []
        now, stopped = time.monotonic(), []
        for worker in [w for w in self._busy if now - w.started > self._limit(w)]:
            key, task = self._busy.pop(worker)
            self._retire(worker)
            why = f"not done after {self.page_timeout:g} s" if worker.ready else "no models loaded"
            message = f"{task.path}: page {task.index + 1}: {why}; stopped"
            stopped.append((key, TaskFailed(Failure(message, "timeout"))))
        return stopped

    @staticmethod
    def _heard_ready(worker: _Worker) -> bool:
        """Read a new worker's first message: True if it says its models are loaded (its page's
        clock starts now); anything else is kept for _receive."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):  # it died while loading: _receive reports that
            return False
        if message[0] == "ready":
            worker.ready, worker.started = True, time.monotonic()
            return True
        worker.pending = message
        return False

    def _receive(self, worker: _Worker, task: PageTask) -> Any:
        try:
            status, value = worker.pending or worker.conn.recv()
            worker.pending = None
        except (EOFError, OSError):
            message = f"{task.path}: page {task.index + 1}: {worker.death()}"
            self._retire(worker)
            return TaskFailed(Failure(message, "crashed"))
        if status == "fatal":
            raise ModelError(value)
        return value if status == "ok" else TaskFailed(value)

    def _replace(self, worker: _Worker) -> _Worker | None:
        self._retire(worker)
        return self._start()

    def _start(self) -> _Worker | None:
        """A new worker; None if the system would not start it while others run (the pool then
        goes on with those, and tries again later: _may_start), a WorkerStartError if none does."""
        try:
            with _parents_signals_blocked():
                worker = _Worker(self.context, self.spec)
                self.workers.append(worker)  # before a Ctrl-C held meanwhile comes: close stops it
        except OSError as exc:  # EAGAIN: a limit on processes or threads; ENOMEM
            if not self.workers:
                raise WorkerStartError(exc) from exc
            if self.warn is not None and self._refused_at is None:  # said once a batch
                why, running = system_limit(exc), len(self.workers)
                self.warn(
                    f"the system would not start another worker ({why}); going on with {running}, "
                    f"trying again every {self.retry_start_after:g} s"
                )
            self._refused_at = time.monotonic()
            return None
        return worker

    def _retire(self, worker: _Worker) -> None:
        """Stop a worker and forget it: _dispatch starts another when a task is waiting (one
        started at once, after the batch's last page was stopped, loaded the models for nothing)."""
        worker.stop()
        self.workers.remove(worker)

    def _continued(self, signum: int, frame: Any) -> None:
        """SIGCONT: this process, stopped (Ctrl-Z, SIGSTOP) with its workers, goes on. The pages
        in flight were not worked on meanwhile: each gets its time limit again from now. Counted
        in wall time, a stop longer than the limit (a lunch break at 600 s) failed each of them."""
        now = time.monotonic()
        for worker in getattr(self, "_busy", {}):
            worker.started = now

    def close(self) -> None:
        """Stop every worker now (their tasks are abandoned)."""
        for worker in self.workers:
            worker.stop()

    def __enter__(self) -> WorkerPool:
        self._on_continue: Any = None
        if self.page_timeout is not None:
            with contextlib.suppress(ValueError):  # not the main thread: no signal handlers there
                self._on_continue = signal.signal(signal.SIGCONT, self._continued)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        if self._on_continue is not None:
            signal.signal(signal.SIGCONT, self._on_continue)
