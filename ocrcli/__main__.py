"""The `ocr` command's entry point (also `python -m ocrcli`).

Ctrl-C, SIGTERM or SIGHUP exits 130, as documented, until outputs are written. The handler is set
before anything heavy is imported: loading the libraries and the models takes a second or more,
and an interrupt there used to end the process by the signal itself (-2), or as click's "Aborted!"
with exit 1.
Before a command sets its own handlers there is nothing to clean up, so the handler ends the
process at once (os._exit): an exception raised from it while a C extension was being imported
came out as the extension's own ("ImportError: initialization failed", exit 1, in about 1 run in
60 at 0.3 s) or aborted the process (-6, inside onnxruntime's enum set-up). After a command
restores the handlers, once anything is written, an interrupt is too late to change the outcome
and is ignored.

Once the command has ended with its exit code, the process also ends at once, after flushing
stdout and stderr, without Python's shutdown: after an interrupt the command had handled ("ocr:
interrupted; nothing was written", SystemExit 130 out of the command), the interpreter still
ended by the signal (-2) in about 1 run in 60, with nothing more said. Everything the command
writes is written and closed by then; the shutdown would only free memory.
"""

import contextlib
import os
import shutil
import signal
import sys

# numpy's OpenBLAS starts a thread per core in every process that imports it (the command's,
# each of `ocr scan`'s workers: cores x cores threads) for the few 2-vector norms and 3 x 3
# inverses ocrcli asks of it. Under a limit on processes (`ulimit -u`, a container's pids.max) it
# could not start them, and raised SIGINT: "ocr: interrupted", exit 130, or workers that died.
# Set before numpy is imported (here, before any of ours is); the workers inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# ocrcli.errors' EXIT_INTERRUPTED and STOP_SIGNALS, not imported: this runs before any import
EXIT_INTERRUPTED = 130
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # one ignored (nohup) stays so


def _exit_interrupted(signum: int, frame: object) -> None:
    # Not there, or not yet (the signal can come while safewrite itself is being imported).
    wrote_anything = getattr(sys.modules.get("ocrcli.safewrite"), "wrote_anything", None)
    if wrote_anything is not None and wrote_anything():
        return  # after a command's outputs are written it finishes, as it would have (exit 0)
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the exit
    with contextlib.suppress(OSError, AttributeError):  # stderr's reader gone, or closed (`2>&-`)
        sys.stderr.write("ocr: interrupted\n")
    _exit(EXIT_INTERRUPTED)


def run_command() -> int | str | None:
    """Run the command line's command; return its exit code (SystemExit's: None is 0, a string
    is a message for stderr and 1). A fault of ours still raises, with its traceback."""
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, _exit_interrupted)
    try:
        from ocrcli.cli import main as run

        run()
        return 0
    except SystemExit as exc:
        return exc.code
    finally:
        # The command is over: an interrupt now changes nothing (see the module's docstring).
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


def _exit(code: int) -> None:
    """End the process now with `code`, stdout and stderr flushed, without Python's shutdown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or gone (`>&-`)
            stream.flush()
    _remove_multiprocessing_temp_dir()
    _clean_up()
    os._exit(code)


def _clean_up() -> None:
    stdstreams = sys.modules.get("ocrcli.stdstreams")
    if stdstreams is not None:  # imported: it may hold a copy of standard input, or a PDF for stdout
        stdstreams.remove_files()
    scan = sys.modules.get("ocrcli.scan")
    if scan is not None:  # imported: an interrupted scan may leave the output folder it made empty
        with contextlib.suppress(Exception):  # a folder left behind must not change the exit
            scan.remove_made_folders()


def _remove_multiprocessing_temp_dir() -> None:
    """Remove the folder multiprocessing made in $TMPDIR (pymp-*, holding the socket `ocr scan`'s
    workers are started through): the shutdown that would have removed it is skipped, and every
    scan left one behind. Where none was made, get_temp_dir makes one, removed at once."""
    util = sys.modules.get("multiprocessing.util")
    if util is None:  # never imported: nothing to remove
        return
    with contextlib.suppress(Exception):  # a folder left in $TMPDIR must not change the exit
        shutil.rmtree(util.get_temp_dir(), ignore_errors=True)


def main() -> None:
    try:
        code = run_command()
    except BaseException:
        # A fault of ours goes on with its traceback (OCRCLI_DEBUG=1 shows every one), past
        # _exit: the copy of standard input, a private file, must go all the same.
        _clean_up()
        raise
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    _exit(code or 0)


if __name__ == "__main__":
    main()
