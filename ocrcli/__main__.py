"""The `ocr` command's entry point (also `python -m ocrcli`).

Ctrl-C or SIGTERM exits 130, as documented, until outputs are written. The handler is set before anything
heavy is imported: loading the libraries and the models takes a second or more, and an interrupt
there used to end the process by the signal itself (-2), or as click's "Aborted!" with exit 1.
Before a command sets its own handlers there is nothing to clean up, so the handler just exits;
SystemExit, unlike KeyboardInterrupt, passes through click untouched and still runs `finally`.
After a command restores them, once anything is written, an interrupt is too late to change the
outcome and is ignored.

An exception raised while a C extension initialises comes out as the extension's own: a Ctrl-C
0.3 s in, while onnxruntime was imported, became "ImportError: initialization failed", a traceback
and exit 1. Whatever ends the command after the handler has run is therefore taken as the
interrupt."""

import signal
import sys

EXIT_INTERRUPTED = 130  # ocrcli.errors.EXIT_INTERRUPTED, not imported: this runs before any import
_interrupted = False  # the handler below has stopped the command


def _exit_interrupted(signum: int, frame: object) -> None:
    global _interrupted
    safewrite = sys.modules.get("ocrcli.safewrite")
    if safewrite is not None and safewrite.wrote_anything():
        return  # after a command's outputs are written it finishes, as it would have (exit 0)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the exit
    sys.stderr.write("ocr: interrupted\n")
    _interrupted = True
    raise SystemExit(EXIT_INTERRUPTED)


def main() -> None:
    global _interrupted
    _interrupted = False
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_interrupted)
    try:
        from ocrcli.cli import main as run

        run()
    except Exception:
        if _interrupted:  # our SystemExit, turned into another exception by an extension's import
            raise SystemExit(EXIT_INTERRUPTED) from None
        raise
    finally:
        # The command is over. Python resets handlers written in Python to the default as it
        # shuts down (closing sessions and files can take a second), and a Ctrl-C then killed
        # the process by the signal (-2) with its work done and nothing said; ignored now.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


if __name__ == "__main__":
    main()
