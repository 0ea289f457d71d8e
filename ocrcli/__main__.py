"""The `ocr` command's entry point (also `python -m ocrcli`).

Ctrl-C or SIGTERM at any moment exits 130, as documented. The handler is set before anything
heavy is imported: loading the libraries and the models takes a second or more, and an interrupt
there used to end the process by the signal itself (-2), or as click's "Aborted!" with exit 1.
Before a command sets its own handlers, and after it restores them, its outputs are either not
begun or complete, so the handler just exits; SystemExit, unlike KeyboardInterrupt, passes through
click untouched and still runs `finally`."""

import signal
import sys

EXIT_INTERRUPTED = 130  # ocrcli.errors.EXIT_INTERRUPTED, not imported: this runs before any import


def _exit_interrupted(signum: int, frame: object) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the exit
    sys.stderr.write("ocr: interrupted\n")  # before a command started, or after it was done
    raise SystemExit(EXIT_INTERRUPTED)


def main() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_interrupted)
    from ocrcli.cli import main as run

    run()


if __name__ == "__main__":
    main()
