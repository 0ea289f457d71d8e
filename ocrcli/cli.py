"""The `ocr` command line. Results go to stdout (or files); messages and errors go to stderr."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ocrcli import errors, models
from ocrcli.errors import OcrError

EXIT_CODES_HELP = (
    "Exit codes: 0 all done; 2 bad arguments; 3 some inputs could not be read (the others were "
    "processed); 4 models missing or corrupt; 130 interrupted."
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=f"Batch document OCR on the CPU. {EXIT_CODES_HELP}",
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True)


class Tier(StrEnum):
    fast = "fast"
    accurate = "accurate"


ModelsOption = Annotated[
    Path | None,
    typer.Option("--models", help="Folder with other model weights and a manifest.json ($OCRCLI_MODELS)."),
]


def report(message: str) -> None:
    """One line on stderr, never wrapped."""
    stderr.print(f"ocr: {message}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def image(
    files: Annotated[list[Path], typer.Argument(help="Image files (PNG, JPEG, TIFF incl. multi-page, ...).")],
    json_out: Annotated[
        str | None,
        typer.Option("--json", help="Write JSON Lines, one document per input in input order, to FILE or -."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write each input's JSON to OUT (a folder when several inputs)."),
    ] = None,
    text: Annotated[bool, typer.Option("--text", help="Print the plain text in reading order.")] = False,
    tier: Annotated[Tier, typer.Option(help="fast: PP-OCRv6 tiny; accurate: PP-OCRv6 small.")] = Tier.fast,
    models_dir: ModelsOption = None,
    threads: Annotated[
        int | None, typer.Option(help="Inference threads ($OCRCLI_THREADS, default 1).")
    ] = None,
) -> None:
    """OCR images: words with boxes and confidences as JSON (default, on stdout) or plain text."""
    from ocrcli.pipeline import Engine  # heavy imports only when needed

    if json_out is None and output is None and not text:
        json_out = "-"
    engine = _run_or_exit(lambda: Engine(tier.value, models_dir, threads))
    stream = _open_stream(json_out)
    failed = 0
    try:
        for path in files:
            try:
                document = engine.read(path)
                doc, page_texts = document.to_dict(), [page.text for page in document.pages]
            except OcrError as exc:
                failed += 1
                report(f"error: {exc}")
                doc, page_texts = {"source": {"path": str(path)}, "error": {"message": str(exc)}}, []
            _emit(doc, page_texts, path, stream, output, text, several=len(files) > 1)
    except KeyboardInterrupt:
        report("interrupted")
        raise typer.Exit(errors.EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        _quiet_broken_pipe()
    finally:
        if stream not in (None, sys.stdout):
            stream.close()
    raise typer.Exit(errors.EXIT_INPUT if failed else errors.EXIT_OK)


def _emit(
    doc: dict[str, Any],
    page_texts: list[str],
    path: Path,
    stream: Any,
    output: Path | None,
    text: bool,
    several: bool,
) -> None:
    if stream is not None:
        stream.write(json.dumps(doc, ensure_ascii=False) + "\n")
        stream.flush()
    if output is not None and "error" not in doc:
        target = output / f"{path.stem}.json" if several or output.is_dir() else output
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if text and page_texts:
        # Pages are separated by a form feed, as pdftotext does.
        sys.stdout.write("\n\f\n".join(page_texts) + "\n")
        sys.stdout.flush()


def _open_stream(json_out: str | None) -> Any:
    if json_out is None:
        return None
    if json_out == "-":
        return sys.stdout
    return open(json_out, "w", encoding="utf-8")  # noqa: SIM115 - closed by the caller


@app.command("models")
def list_models(
    models_dir: ModelsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON on stdout.")] = False,
) -> None:
    """List the models: role, tiers, size, hash status and location."""
    manifest = _run_or_exit(lambda: models.load_manifest(models_dir))
    used_by = {
        spec.name: [tier for tier, roles in manifest.tiers.items() if spec.name in roles.values()]
        for spec in manifest.models
    }
    for spec in manifest.models:  # a dictionary serves the tiers of the recognizers naming it
        if spec.dictionary:
            used_by[spec.dictionary] = sorted({*used_by.get(spec.dictionary, []), *used_by[spec.name]})
    rows = [
        {
            "name": s.name,
            "role": s.role,
            "tiers": used_by[s.name],
            "size": s.path.stat().st_size if s.path.is_file() else None,
            "status": models.status(s),
            "path": str(s.path),
            "package": s.package,
            "license": s.license,
        }
        for s in manifest.models
    ]
    if as_json:
        print(json.dumps(rows, indent=1))
    else:
        table = Table("name", "role", "tiers", "size", "status", "path", box=None)
        for r in rows:
            size = f"{r['size'] / 1e6:.1f} MB" if r["size"] else "-"
            style = "green" if r["status"] == "ok" else "red"
            table.add_row(
                r["name"], r["role"], ",".join(r["tiers"]), size, f"[{style}]{r['status']}", r["path"]
            )
        # A pipe gets full lines, not a table cut to 80 columns.
        Console(width=None if sys.stdout.isatty() else 250).print(table)
    if any(r["status"] not in ("ok", "unverified") for r in rows):
        raise typer.Exit(errors.EXIT_MODELS)


def _run_or_exit(make: Any) -> Any:
    try:
        return make()
    except OcrError as exc:
        report(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None


def _quiet_broken_pipe() -> None:
    """The reader went away (`| head`): stop quietly, as Unix tools do."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    app()
