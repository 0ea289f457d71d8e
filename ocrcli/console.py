"""One-line messages on stderr, and the exits that follow an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from ocrcli import errors
from ocrcli.errors import OcrError

T = TypeVar("T")

# sys.stderr, whichever it is then: main() has it drop what cannot be written (see
# stdstreams.messages_never_fail), where rich ended the run with 1, a bug's code, at the first
# message once stderr's reader had gone away, and made stdout /dev/null too. No emoji: rich turned
# ":smile:" in a file's name into one, so the line printed was not the JSON's message.
stderr = Console(stderr=True, emoji=False)


def report(message: str) -> None:
    """One line on stderr, never wrapped."""
    stderr.print(f"ocr: {errors.one_line_message(message)}", markup=False, highlight=False, soft_wrap=True)


def usage_error(message: str) -> None:
    """Report a bad argument and exit 2."""
    report(f"error: {message}")
    raise typer.Exit(errors.EXIT_USAGE)


def run_or_exit(make: Callable[[], T]) -> T:
    """What `make` returns; if it raises an OcrError, its message and exit code."""
    try:
        return make()
    except OcrError as exc:
        report(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
