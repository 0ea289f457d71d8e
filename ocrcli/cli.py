"""The `ocr` command line. Results go to stdout (or files); messages and errors go to stderr."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import shlex
import signal
import stat
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

try:  # typer 0.22 and later carry their own copy of click
    from typer._click.exceptions import UsageError as ClickUsageError
except ImportError:
    from click.exceptions import UsageError as ClickUsageError

from ocrcli import __version__, cpus, errors, models, pathchecks, stdstreams
from ocrcli.console import report, run_or_exit, stderr, usage_error
from ocrcli.document import PAGE_BREAK, Page, record_without_pages
from ocrcli.errors import TEXT_ERRORS, OcrError
from ocrcli.jsonlines import WholeLines, drop_partial_line

if TYPE_CHECKING:
    from ocrcli.document import Document
    from ocrcli.pipeline import Engine
    from ocrcli.searchable import PagesDone, PageSelection, PdfOptions

T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 all done; 1 unexpected error (a bug), or no worker process could start; "
    "2 bad arguments; 3 some inputs could not be read (the others were processed); "
    "4 models missing or corrupt; 5 an output could not be written; "
    "130 interrupted (Ctrl-C, SIGTERM, SIGHUP); "
    "141 stdout closed by its reader."
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # click's plain help, not rich's boxes: at 80 columns rich's option table cut
    # "--invalidate-signatures" to "--invalidate-sig…", and `ocr --help | head -1` exited 1.
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},
    help=f"Batch document OCR on the CPU. {EXIT_CODES_HELP}",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        with _write_errors():
            print(f"ocrcli {__version__}", flush=True)
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    pass


class Tier(StrEnum):
    fast = "fast"
    accurate = "accurate"


TierOption = Annotated[Tier, typer.Option(help="fast: PP-OCRv6 tiny; accurate: PP-OCRv6 small.")]
TextOption = Annotated[bool, typer.Option("--text", help="Print the plain text in reading order.")]
ThreadsOption = Annotated[
    int | None,
    # Read here, not only by the engine, so that a bad value is refused as --threads' is (the
    # engine took "abc", "0" or "four" for 1, without a word).
    typer.Option(
        min=1,
        envvar="OCRCLI_THREADS",
        metavar="N",
        help="Inference threads (default 1; at most one per core).",
    ),
]
CjkOption = Annotated[
    bool,
    typer.Option(
        "--cjk",
        help="Also read Chinese and Japanese characters (about 20 % slower). Without it the "
        "recognizer and the fast tier's reviewer weigh only the non-CJK classes (Latin with accents, "
        "Greek, digits, symbols); only a line still unread after the reviewer, long enough for about "
        "three CJK characters, is re-read with all classes.",
    ),
]
SidecarOption = Annotated[
    str | None,
    typer.Option(
        "--sidecar",
        metavar="FILE",
        help="Where to write the JSON sidecar (default: the PDF's path with .json).",
    ),
]
RedoOption = Annotated[bool, typer.Option("--redo", help="Replace old invisible OCR layers (any tool's).")]
PasswordOption = Annotated[
    str | None,
    # From the environment too: a command's arguments are anyone's to read (ps, /proc/PID/cmdline),
    # its environment only its user's.
    typer.Option(
        envvar="OCRCLI_PASSWORD",
        metavar="PASSWORD",
        help="Password of encrypted PDFs (others can see it on the command line with ps: set "
        "OCRCLI_PASSWORD instead).",
    ),
]
InvalidateSignaturesOption = Annotated[
    bool, typer.Option("--invalidate-signatures", help="Rewrite signed PDFs, breaking their signatures.")
]


def _rotate_pages_option(how: str) -> Any:
    """--rotate-pages, saying `how` a command's pages are turned."""
    return Annotated[
        bool,
        typer.Option(
            "--rotate-pages",
            help="Show each page whose text is turned (scanned upside down or sideways) upright: "
            f"{how}; the JSON then describes the upright page.",
        ),
    ]


RotatePdfPages = _rotate_pages_option("its /Rotate changes")
RotateImagePages = _rotate_pages_option("the image is drawn upright on its page (only with --pdf)")
RotateScanPages = _rotate_pages_option("a PDF page's /Rotate changes, an image's page is drawn upright")
# The longest --page-timeout (11.6 days), under the 24.8 days (2**31 ms) that waits take: one
# longer ended in "unexpected OverflowError ... please report this"; 0 is no limit.
MAX_PAGE_TIMEOUT = 1e6


def _page_timeout(given: str) -> float:
    """--page-timeout's seconds, from 0 (no limit) to MAX_PAGE_TIMEOUT: "nan" was refused as
    "less than or equal to 1000000"."""
    try:
        seconds = float(given)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_PAGE_TIMEOUT:  # nan too
        raise typer.BadParameter(
            f"{given!r} is not a number of seconds from 0 (no limit) to {MAX_PAGE_TIMEOUT:.0f}"
        )
    return seconds


def _pdfa_option(which: str) -> Any:
    """--pdfa, saying `which` of a command's PDFs it makes PDF/A."""
    return Annotated[
        bool,
        typer.Option(
            "--pdfa",
            help=f"Make {which} PDF/A-2b, for archiving (an sRGB output intent and XMP metadata; a CMYK "
            "image with no ICC profile of its own is refused).",
        ),
    ]


ImagePdfaOption = _pdfa_option("the PDF (with --pdf)")
ScanPdfaOption = _pdfa_option("each PDF made from images (a PDF input keeps its own form)")


def _folder_given(given: str) -> Path:
    """A folder option's or argument's Path (`ocr scan`'s, --models), "" refused (see
    pathchecks.refuse_empty) as click's errors are."""
    if given == "":
        raise typer.BadParameter("is empty (an unset variable?): give a path")
    return Path(given)


ModelsOption = Annotated[
    Path | None,
    typer.Option(
        "--models",
        metavar="DIR",
        parser=_folder_given,  # "" was the working folder: "no manifest.json in the models folder"
        help="Folder with other model weights and a manifest.json ($OCRCLI_MODELS).",
    ),
]


def _plain(table: Table) -> str:
    """A table as text for a pipe or a file: full lines, not cut to 80 columns, without the spaces
    rich pads each line with to the table's width."""
    shown = io.StringIO()
    Console(file=shown, width=250, force_terminal=False).print(table)  # no colours, FORCE_COLOR or not
    return "".join(line.rstrip() + "\n" for line in shown.getvalue().splitlines())


@app.command(short_help="OCR images to JSON, text or a searchable PDF.")
def image(
    given: Annotated[
        list[str],
        typer.Argument(
            metavar="FILES", help="Image files (PNG, JPEG, TIFF incl. multi-page...); - reads standard input."
        ),
    ],
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json",
            metavar="FILE",
            help="Write JSON Lines, one document per input in input order (with --pdf, the PDF's "
            "one), to FILE or -.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            metavar="OUT",
            help="Write each input's JSON to OUT (a folder when several inputs).",
        ),
    ] = None,
    text: TextOption = False,
    tier: TierOption = Tier.fast,
    cjk: CjkOption = False,
    models_dir: ModelsOption = None,
    threads: ThreadsOption = None,
    pdf_given: Annotated[
        str | None,
        typer.Option(
            "--pdf",
            metavar="FILE",
            help="Also write one searchable PDF of the images (a page per image or TIFF page; - for stdout).",
        ),
    ] = None,
    sidecar_given: SidecarOption = None,
    rotate_pages: RotateImagePages = False,
    pdfa: ImagePdfaOption = False,
) -> None:
    """OCR images: words with boxes and confidences as JSON (default, on stdout) or plain text;
    with --pdf, a searchable PDF and its JSON sidecar."""
    for name in given:
        pathchecks.refuse_empty("an input", name)
    pathchecks.refuse_empty("-o", output)
    pdf = pathchecks.pdf_output("--pdf", pdf_given, json_out, text)
    if pdf is None:
        pathchecks.refuse_pdf_named_as_input(given)
    sidecar = pathchecks.file_option("--sidecar", sidecar_given)
    pathchecks.file_option("--json", json_out)
    pathchecks.refuse_dash("-o", output)
    pathchecks.refuse_text_with_json_on_stdout(text, json_out)
    if pdf is not None:
        if output is not None:
            usage_error("-o goes without --pdf (the JSON of the PDF: --sidecar or --json)")
        pathchecks.refuse_special_pdf_output("--pdf", pdf)
        sidecar = pathchecks.sidecar_path(pdf, sidecar)
    elif sidecar is not None:
        usage_error("--sidecar goes with --pdf (the JSON of each image: --json or -o)")
    elif rotate_pages:
        usage_error("--rotate-pages goes with --pdf (it turns the PDF's pages)")
    elif pdfa:
        usage_error("--pdfa goes with --pdf (it makes the PDF PDF/A)")
    files = _input_files(given)  # standard input ("-") is read only once the options are right
    if pdf is not None:
        outputs = [("--pdf", pdf), ("--sidecar" if sidecar_given else "the sidecar", sidecar)]
        pathchecks.refuse_bad_outputs(files, [*outputs, ("--json", pathchecks.json_file(json_out))])
        pathchecks.refuse_closed_stdout(json_out, text)
        engine = _load_engine(tier, models_dir, threads, cjk)
        from ocrcli.searchable import images_to_pdf

        _write_pdf(
            _shown_pages(
                lambda progress: images_to_pdf(engine, files, pdf, rotate_pages, pdfa, progress), given
            ),
            given,
            pdf,
            sidecar,
            json_out,
            text,
        )
        return
    if json_out is None and output is None and not text:
        json_out = "-"
    targets = pathchecks.json_targets(files, output)
    pathchecks.refuse_bad_outputs(
        files, [("--json", pathchecks.json_file(json_out)), *(("-o", target) for target in targets)]
    )
    pathchecks.refuse_closed_stdout(json_out, text)
    engine = _load_engine(tier, models_dir, threads, cjk)
    exit_code, printed = errors.EXIT_OK, False
    from ocrcli.progress import CountProgress

    # Not over results printed to the same terminal as they come
    on_terminal = (json_out == "-" or text) and sys.stdout.isatty()
    shown = CountProgress(
        stderr, live=stderr.is_terminal and len(files) > 1 and not on_terminal, unit="files"
    )
    with _output_stream(json_out, files) as stream, shown:
        try:
            with _interrupt_once():
                shown(0, len(files))
                for done, (name, file, target) in enumerate(zip(given, files, targets, strict=True), 1):
                    try:
                        # The file as given (so messages name it so), or standard input's copy
                        read = file if name == stdstreams.STDIO else name
                        document = _named_as_given(engine.read(read), [name])
                        doc, page_texts = document.to_dict(), [page.text for page in document.pages]
                    except Exception as exc:  # one input's failure, even a bug, must not end the batch
                        failure = _input_failure(name, exc)
                        exit_code = errors.worst_exit(exit_code, failure.exit_code)
                        report(f"error: {failure.message}")
                        doc, page_texts = record_without_pages(name, error=failure.record()), []
                    _emit(doc, page_texts, stream, target, text, file, after_pages=printed)
                    printed = printed or bool(page_texts)
                    shown(done, len(files))
        except KeyboardInterrupt:
            report("interrupted")
            raise typer.Exit(errors.EXIT_INTERRUPTED) from None
    raise typer.Exit(exit_code)


def _shown_pages(make: Callable[[PagesDone], Document], given: list[str]) -> Callable[[], Document]:
    """`make` (which tells its progress through a document's pages), with that progress shown on
    stderr while it runs if stderr is a terminal, and its document named as `given`."""
    from ocrcli.progress import CountProgress

    def run() -> Document:
        with CountProgress(stderr, live=stderr.is_terminal) as progress:
            document = make(progress)
        return _named_as_given(document, given)

    return run


def _load_engine(tier: Tier, models_dir: Path | None, threads: int | None, cjk: bool) -> Engine:
    """The engine of `tier`, or exit 4 with one line if its models are missing or corrupt."""
    from ocrcli.pipeline import Engine  # heavy imports only when needed

    return run_or_exit(lambda: Engine(tier.value, models_dir, threads, cjk=cjk))


def _input_files(given: list[str]) -> list[Path]:
    """The input files, "-" standing for standard input (see ocrcli.stdstreams); exit 2 if it
    cannot be read."""
    return run_or_exit(lambda: stdstreams.as_files(given))


def _named_as_given(document: Document, given: list[str]) -> Document:
    """The document with its source path(s) as the user gave them (pathlib turns "./x" into "x";
    standard input is "-"), so that scripts can match results to inputs by string."""
    document.source["path"] = given[0]
    if "paths" in document.source:
        document.source["paths"] = list(given)
    return document


def _input_failure(path: str, exc: Exception) -> errors.Failure:
    """Why an input could not be read (a bug's traceback instead with OCRCLI_DEBUG=1)."""
    failure = errors.failure(path, exc)
    if failure.kind == "internal" and os.environ.get("OCRCLI_DEBUG"):
        raise exc
    return failure


# Arguments after the PDF are taken (ctx.args) only to say what to write instead: `ocr pdf in.pdf
# out.pdf`, as OCRmyPDF has it, ended in click's "Got unexpected extra argument".
@app.command(
    "pdf",
    short_help="Add a text layer to a PDF; in place or to a new file.",
    context_settings={"allow_extra_args": True},
)
def pdf_command(
    ctx: typer.Context,
    given: Annotated[str, typer.Argument(metavar="SOURCE", help="The PDF to OCR; - reads standard input.")],
    output_given: Annotated[
        str | None,
        typer.Option("-o", "--output", metavar="FILE", help="Write the new PDF here (- for stdout)."),
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Replace the input, atomically, once the new PDF is verified.")
    ] = False,
    pages: Annotated[
        str | None,
        typer.Option(metavar="PAGES", help="Pages to OCR, e.g. 1-3,7 or 5- (5 to the end; default: all)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="OCR pages that have text too; old OCR layers go.")
    ] = False,
    redo: RedoOption = False,
    password: PasswordOption = None,
    invalidate_signatures: InvalidateSignaturesOption = False,
    rotate_pages: RotatePdfPages = False,
    sidecar_given: SidecarOption = None,
    json_out: Annotated[
        str | None, typer.Option("--json", metavar="FILE", help="Also write the JSON to FILE or -.")
    ] = None,
    text: TextOption = False,
    tier: TierOption = Tier.fast,
    cjk: CjkOption = False,
    models_dir: ModelsOption = None,
    threads: ThreadsOption = None,
    page_timeout: Annotated[
        float | None,
        typer.Option(
            parser=_page_timeout,
            metavar="SECONDS",
            help="Read each page in a worker process, stopped if the page takes longer; the run then "
            "fails (exit 3). Default (and 0): no limit, one process.",
        ),
    ] = None,
) -> None:
    """OCR a PDF: add an invisible text layer to its pages without changing anything else, and
    write a JSON sidecar. Pages that already have text are left alone unless --force or --redo.
    With --json or --text and neither -o nor --in-place, only read it: no PDF or sidecar is written."""
    from ocrcli.pool import EngineSpec
    from ocrcli.searchable import ocr_pdf, ocr_pdf_in_worker

    pathchecks.refuse_empty("the input", given)
    for extra in ctx.args:  # `ocr pdf a.pdf "$OUT"`: not told to type `-o ''`, refused in turn
        pathchecks.refuse_empty("an argument after the PDF", extra)
    if ctx.args:
        _refuse_more_arguments(given, ctx.args, output_given is not None or in_place)
    output = pathchecks.pdf_output("-o", output_given, json_out, text)
    sidecar = pathchecks.file_option("--sidecar", sidecar_given)
    pathchecks.file_option("--json", json_out)
    if output is not None and in_place:
        usage_error("give either -o OUTPUT.pdf or --in-place, not both")
    reading_only = output is None and not in_place  # the JSON or text alone: no PDF is written
    if reading_only:
        _refuse_pdf_options_when_reading(json_out, text, sidecar_given, rotate_pages)
    if in_place and given == "-":
        usage_error("--in-place replaces a file: give the PDF's path, not - (standard input)")
    pathchecks.refuse_text_with_json_on_stdout(text, json_out)
    options = _pdf_options(pages, force, redo, password, invalidate_signatures, rotate_pages)
    pathchecks.refuse_special_pdf_output("-o", output)
    source = _input_files([given])[0]
    dest = source if in_place else output
    if in_place:  # replaced through a new file beside it
        pathchecks.refuse_unwritable_folder("--in-place", source)
    sidecar = None if dest is None else pathchecks.sidecar_path(dest, sidecar)
    pathchecks.refuse_bad_outputs(
        [source],
        [
            ("-o", None if in_place else output),
            ("--sidecar" if sidecar_given else "the sidecar", sidecar),
            ("--json", pathchecks.json_file(json_out)),
        ],
        pdf_options=("-o",),
    )
    pathchecks.refuse_closed_stdout(json_out, text)
    if not page_timeout:  # none given, or 0
        engine = _load_engine(tier, models_dir, threads, cjk)
        make = functools.partial(ocr_pdf, engine)
    else:  # the worker loads the models; a missing or corrupt one is exit 4 before any work
        run_or_exit(lambda: models.select(tier.value, models_dir))
        spec = EngineSpec(tier.value, str(models_dir) if models_dir else None, threads, cjk)
        make = functools.partial(ocr_pdf_in_worker, spec, page_timeout=page_timeout)
    _write_pdf(
        _shown_pages(lambda progress: make(source, dest, options, progress=progress), [given]),
        [given],
        dest,
        sidecar,
        json_out,
        text,
        options.pages,
    )


def _refuse_more_arguments(given: str, more: list[str], output_given: bool) -> None:
    """Refuse (exit 2) arguments after the PDF, saying what to type instead, quoted for a shell (a
    name with a space). One naming no file yet, with neither -o nor --in-place, is the output given
    as OCRmyPDF takes it (`ocr pdf in.pdf out.pdf`): -o it is; one naming the input itself asks for
    --in-place. Any other is one more input (`ocr pdf *.pdf --in-place`), which the hint to write
    `-o` over it would have replaced with another PDF's OCR."""
    if len(more) == 1 and not output_given:
        if pathchecks.same_file(Path(more[0]), Path(given)):
            command = pathchecks.command_typed(more[0], ["--in-place"])
            usage_error(
                f"ocr pdf reads one PDF: to replace it with its OCRed version, give --in-place ({command})"
            )
        if not os.path.lexists(more[0]):
            command = pathchecks.command_typed(more[0], ["-o", more[0]])
            usage_error(
                f"ocr pdf reads one PDF: give the output with -o ({command}); a folder of PDFs: ocr scan"
            )
    output = "" if output_given else "give the output with -o OUTPUT.pdf, and "
    usage_error(
        f"ocr pdf reads one PDF, not also {shlex.join(more)}: {output}OCR each on its own, or a "
        "folder of PDFs with ocr scan"
    )


def _refuse_pdf_options_when_reading(
    json_out: str | None, text: bool, sidecar_given: str | None, rotate_pages: bool
) -> None:
    """`ocr pdf` with neither -o nor --in-place only reads the PDF, for --json or --text: refuse
    (exit 2) such a run that asks for neither, or for what only a new PDF has."""
    if json_out is None and not text:
        usage_error("give -o OUTPUT.pdf or --in-place (to only read the PDF: --json - or --text)")
    if sidecar_given is not None:
        usage_error("--sidecar is the new PDF's JSON: give -o or --in-place, or --json FILE alone")
    if rotate_pages:
        usage_error("--rotate-pages turns the new PDF's pages: it goes with -o or --in-place")


def _pdf_options(
    pages: str | None,
    force: bool,
    redo: bool,
    password: str | None,
    invalidate_signatures: bool,
    rotate_pages: bool,
    pdfa: bool = False,
) -> PdfOptions:
    """The PDF options `ocr pdf` and `ocr scan` share, checked (exit 2 on bad ones); `pdfa` is
    ocr scan's alone."""
    from ocrcli.searchable import ExistingText, PdfOptions, parse_page_ranges

    if force and redo:
        usage_error("--force and --redo exclude each other")
    try:
        selected = None if pages is None else parse_page_ranges(pages)  # "" is no page, not all
    except ValueError as exc:
        usage_error(f"--pages: {exc}")
    return PdfOptions(
        pages=selected,
        existing_text=ExistingText.force if force else ExistingText.redo if redo else ExistingText.skip,
        password=password,
        invalidate_signatures=invalidate_signatures,
        rotate_pages=rotate_pages,
        pdfa=pdfa,
    )


def _write_pdf(
    make: Callable[[], Document],
    given: list[str],
    pdf: Path | None,
    sidecar: Path | None,
    json_out: str | None,
    text: bool,
    pages: PageSelection | None = None,
) -> None:
    """Run `make` (which writes the PDF from the inputs `given`, unless `pdf` is None, and returns
    the document), then write the sidecar. A failure is one line on stderr and, with --json, a
    record in the stream."""
    from ocrcli.safewrite import WriteGuard, interrupts_until_written

    def late() -> None:
        if stdstreams.is_stdout_pdf(pdf):
            report("the PDF is already written; sending it to stdout")
        else:
            report(f"{pdf} is already written; finishing its sidecar")

    with interrupts_until_written(pdf, late) if pdf else contextlib.nullcontext(WriteGuard()) as guard:
        try:
            # Only reading (no PDF), an interrupt is raised here too, as while a PDF is written:
            # ocrcli.__main__'s handler ended the process at once, the progress display left on
            # the terminal with its cursor hidden.
            with contextlib.nullcontext() if pdf else _interrupt_once():
                document = make()
        except (OcrError, MemoryError) as exc:  # out of memory is the input's, as in ocr image and scan
            failure = errors.failure(given[0], exc)
            report(f"error: {failure.message}")
            if json_out is not None:
                record = record_without_pages(given[0], error=failure.record())
                if len(given) > 1:
                    record["source"]["paths"] = given
                with _output_stream(json_out, stdstreams.made_from(given)) as stream:
                    _emit(record, [], stream, None, False)
            raise typer.Exit(failure.exit_code) from None
        except KeyboardInterrupt:
            report("interrupted; nothing was written")
            raise typer.Exit(errors.EXIT_INTERRUPTED) from None
        except Exception as exc:
            _internal_error(exc)
        guard.finished = True  # the PDF is final (written, or left as it was: nothing to add)
        # From here an interrupt is too late to stop anything: the sidecar and output are finished
        # and the run exits 0 (see docs/searchable-pdf.md, --in-place).
        _finish_pdf(document, pdf, sidecar, json_out, text, pages)


def _finish_pdf(
    document: Document,
    pdf: Path | None,
    sidecar: Path | None,
    json_out: str | None,
    text: bool,
    pages: PageSelection | None = None,
) -> None:
    """Report skipped pages, write the sidecar and the output (`pdf`, None when the PDF was only
    read). A page not OCRed this time keeps its entry from the sidecar there, if that describes
    exactly this input (see discover.EarlierPages): OCRed in place page by page, the sidecar
    still has every page."""
    from ocrcli.discover import earlier_pages, page_entry, read_sidecar
    from ocrcli.fingerprint import file_sha256
    from ocrcli.pdfpages import needs_password
    from ocrcli.safewrite import write_output
    from ocrcli.searchable import past_the_end

    for page in document.pages:
        if page.skipped and page.skip_kind != "not-selected":
            report(f"{document.source['path']}: page {page.page} skipped: {page.skipped}")
    if beyond := past_the_end(document.source["path"], pages, len(document.pages)):
        report(beyond)
    doc = document.to_dict()
    sha256 = document.source.get("sha256")
    inputs = stdstreams.made_from(document.source.get("paths") or [document.source["path"]])
    source = inputs[0] if document.source["path"] != stdstreams.STDIO else None
    record = read_sidecar(sidecar, pages=False) if sidecar else None
    earlier = earlier_pages(record, sha256, sidecar, source)
    doc["pages"] = [page_entry(page, earlier) for page in document.pages]
    if pdf is None:  # only read: the JSON is as private as the input
        _emit_pdf_document(doc, json_out, text, inputs, needs_password(inputs[0]))
        return
    to_stdout = stdstreams.is_stdout_pdf(pdf)
    doc["output"] = {"pdf": stdstreams.STDIO if to_stdout else str(pdf)}
    with contextlib.suppress(OSError):  # gone or unreadable since: the record lacks its hash
        doc["output"]["sha256"] = file_sha256(pdf)
    if to_stdout:
        with _write_errors():
            stdstreams.send_to_stdout(pdf)
    private = needs_password(pdf)  # as the input does: the JSON holds its text in the clear
    if sidecar is not None:
        try:
            write_output(sidecar, _pretty_json(doc), inputs, private)
        except OcrError as exc:
            report(f"error: {pdf} is written, but not its sidecar: {exc}")
            raise typer.Exit(exc.exit_code) from None
    _emit_pdf_document(doc, json_out, text, inputs, private)  # every page in the sidecar, earlier ones too


def _emit_pdf_document(
    doc: dict[str, Any], json_out: str | None, text: bool, inputs: list[Path], private: bool
) -> None:
    """A PDF's document (written, or only read) to --json and as --text."""
    with _output_stream(json_out, inputs, private) as stream:
        _emit(doc, [Page.from_dict(entry).text for entry in doc["pages"]], stream, None, text)


def _internal_error(exc: Exception, kept: str = "nothing was written") -> None:
    """One line instead of a traceback (OCRCLI_DEBUG=1 shows it), saying what was `kept`."""
    if os.environ.get("OCRCLI_DEBUG"):
        raise exc
    report(f"error: {errors.unexpected(exc)} ({kept}; please report this)")
    raise typer.Exit(errors.EXIT_INTERNAL) from None


def _emit(
    doc: dict[str, Any],
    page_texts: list[str],
    stream: Any,
    target: Path | None,
    text: bool,
    source: str | os.PathLike | None = None,
    after_pages: bool = False,
) -> None:
    """One document (of the file `source`) to the JSON stream, to its `-o` file and as plain text
    (after the pages of documents before it, with a form feed between)."""
    from ocrcli.safewrite import write_output

    if stream is not None:
        stream.write(json.dumps(doc, ensure_ascii=False) + "\n")
        stream.flush()
    if target is not None and "error" not in doc:
        try:
            write_output(target, _pretty_json(doc), [source] if source else [])
        except OcrError as exc:
            report(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
    if text and page_texts:
        # Pages are separated by a form feed (PAGE_BREAK), also those of different inputs.
        with _write_errors():  # stdout's, not the --json file's
            WholeLines(sys.stdout).write(("\f\n" if after_pages else "") + PAGE_BREAK.join(page_texts) + "\n")


def _pretty_json(doc: dict[str, Any]) -> bytes:
    """A JSON file's content (sidecars and `-o` files are indented for people to read)."""
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8", TEXT_ERRORS)


@contextlib.contextmanager
def _output_stream(
    json_out: str | None, made_from: Sequence[str | os.PathLike] = (), private: bool = False
) -> Iterator[Any]:
    """The --json stream (None without --json) for the block, and what ends a run while it writes
    to it or to stdout: the reader gone away (`| head`) exits quietly with 141, a write that fails
    (disk full) with one line and 5. A file gives no one more access than the files the records
    are `made_from` (see safewrite.output_mode): it holds their text."""
    from ocrcli.safewrite import open_into, output_mode

    stream = None
    pathchecks.refuse_closed_stdout(json_out)
    try:
        with _write_errors(pathchecks.json_file(json_out)):
            if json_out == "-":
                stream = _utf8_stdout()
            elif json_out is not None:
                path = Path(json_out)
                path.parent.mkdir(parents=True, exist_ok=True)
                mode = output_mode(path, made_from, private)

                def create(name: str, flags: int) -> int:  # a new file is never readable by more
                    return open_into(name, flags, mode)

                stream = open(path, "w", encoding="utf-8", errors=TEXT_ERRORS, opener=create)  # noqa: SIM115 - closed below
                if stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # an old file too; not /dev/null
                    os.fchmod(stream.fileno(), mode)
        lines = None if stream is None else WholeLines(stream)
        try:
            yield lines
        except OSError as exc:
            if lines is None or exc is not lines.failed:
                raise  # not the stream's (ocr scan's workers could not be started): not told as its
            with _write_errors(pathchecks.json_file(json_out)):
                raise
        with _write_errors(pathchecks.json_file(json_out)):
            if stream not in (None, sys.stdout):
                stream.close()  # a failed flush shows here
    finally:
        if stream not in (None, sys.stdout):
            with contextlib.suppress(OSError):
                stream.close()
            with contextlib.suppress(OSError):
                if path.is_file():  # not /dev/null or a pipe
                    drop_partial_line(path)


def _utf8_stdout() -> Any:
    """stdout, writing UTF-8 whatever the locale: JSON is UTF-8 (RFC 8259), as the files we write
    are; in a Latin-1 locale (or a pipe on Windows) "Café.png" came out as the byte E9, which jq
    and json.loads reject."""
    sys.stdout.reconfigure(encoding="utf-8", errors=TEXT_ERRORS)  # type: ignore[union-attr]
    return sys.stdout


@contextlib.contextmanager
def _write_errors(file: Path | None = None) -> Iterator[None]:
    """What ends a run when writing to `file` (default: stdout) fails: the reader gone away
    (`| head`) exits quietly with 141, a write that fails (disk full) with one line and 5. Also
    for what `ocr models` and `--version` print: click ended those with 1 on a closed pipe, and
    with a traceback on a full disk."""
    try:
        yield
    except BrokenPipeError:
        _quiet_broken_pipe()
        raise typer.Exit(errors.EXIT_BROKEN_PIPE) from None
    except OSError as exc:
        report(f"error: cannot write {file or 'stdout'}: {errors.one_line(exc)}")
        raise typer.Exit(errors.EXIT_OUTPUT) from None


@app.command("scan", short_help="OCR a folder: a searchable PDF and a JSON sidecar per document.")
def scan_command(
    input_dir: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT_DIR",
            parser=_folder_given,
            help="Folder of images and PDFs (searched recursively).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="DIR",
            parser=_folder_given,
            help="Folder for the outputs, mirroring the input tree (default: INPUT_DIR-ocr beside it).",
        ),
    ] = None,
    in_place: Annotated[
        bool,
        typer.Option(
            "--in-place",
            help="Replace each PDF atomically once its new version is verified; an image's PDF goes "
            "beside it. Sidecars go beside the PDFs.",
        ),
    ] = False,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include", metavar="GLOB", help="Only files whose name or relative path match (repeatable)."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            metavar="GLOB",
            help="Skip files, and folders, whose name or relative path match (repeatable).",
        ),
    ] = None,
    recursive: Annotated[bool, typer.Option(help="Look in subfolders too.")] = True,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Worker processes (default: one per core, fewer under a CPU quota).",
        ),
    ] = None,
    page_timeout: Annotated[
        float,
        typer.Option(
            parser=_page_timeout,
            metavar="SECONDS",
            help="Seconds one page may take; then its worker is stopped, the document fails (0: no limit).",
        ),
    ] = 600.0,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Write only the JSON sidecars.")] = False,
    no_sidecar: Annotated[bool, typer.Option("--no-sidecar", help="Write only the PDFs.")] = False,
    pages: Annotated[
        str | None,
        typer.Option(metavar="PAGES", help="Pages to OCR in each PDF, e.g. 1-3,7 or 5- (5 to the end)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Redo documents whose outputs are current; OCR pages that have text."),
    ] = False,
    redo: RedoOption = False,
    password: PasswordOption = None,
    invalidate_signatures: InvalidateSignaturesOption = False,
    rotate_pages: RotateScanPages = False,
    pdfa: ScanPdfaOption = False,
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json",
            metavar="FILE",
            help="Write a JSON document per line, as each one completes, to FILE or -.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display or summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each file.")] = False,
    tier: TierOption = Tier.fast,
    cjk: CjkOption = False,
    models_dir: ModelsOption = None,
) -> None:
    """OCR a folder: a searchable PDF and a JSON sidecar per document, on a pool of worker
    processes. Re-running skips documents whose outputs are current; Ctrl-C stops cleanly and the
    next run continues. Originals are never modified unless --in-place."""
    import time

    from ocrcli import discover
    from ocrcli.pool import EngineSpec
    from ocrcli.progress import ScanDisplay, summary_table
    from ocrcli.safewrite import unsearchable
    from ocrcli.scan import Scan, ScanOptions, scan_folders_held

    if folder := unsearchable(input_dir):
        usage_error(f"{input_dir}: {folder} is a folder that cannot be searched")
    if not input_dir.exists():
        why = errors.why_not_there(
            input_dir, link="a link to something that is not there", missing="not found"
        )
        usage_error(f"{input_dir}: {why}")
    if not input_dir.is_dir():
        usage_error(f"{input_dir}: not a folder (one file: ocr image, or ocr pdf for a PDF)")
    if output is not None:
        pathchecks.refuse_impossible_path("-o", output)  # before exists(), which raised on it
    if output is not None and output.exists() and not output.is_dir():
        usage_error(f"-o {output}: is a file, not a folder")
    if output is not None and str(output) == "-":  # it made a folder named "-" (./- reads as - too)
        usage_error(
            "-o -: scan writes files into a folder, not to stdout (for a folder named -, give $PWD/-)"
        )
    if in_place and output is not None:
        usage_error("give either -o OUTPUT_DIR or --in-place, not both")
    if no_pdf and no_sidecar:
        usage_error("--no-pdf and --no-sidecar leave nothing to write")
    pathchecks.file_option("--json", json_out)
    if no_pdf and rotate_pages:
        usage_error("--rotate-pages turns the PDFs' pages: it goes without --no-pdf")
    if no_pdf and pdfa:
        usage_error("--pdfa makes the images' PDFs PDF/A: it goes without --no-pdf")
    pdf_options = _pdf_options(pages, force, redo, password, invalidate_signatures, rotate_pages, pdfa)
    # Beside the folder as given: a link's own place and name (~/Scans -> /mnt/nas/scans gives
    # ~/Scans-ocr), with "." and ".." spelt out (abspath, not resolve, which follows links).
    given_dir = Path(os.path.abspath(input_dir))
    out_dir = None if in_place else output or given_dir.parent / f"{given_dir.name}-ocr"
    named_as = "-o" if output is not None else "the output folder"  # not an option never given
    if out_dir is not None:  # the default, NAME-ocr beside a folder of 252 bytes or more
        pathchecks.refuse_impossible_path(named_as, out_dir, "give -o DIR")
    if output is None and out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        usage_error(
            f"{out_dir}: is a file, not a folder; outputs go into a folder beside the input "
            "(give another with -o DIR)"
        )
    if out_dir is not None and input_dir.resolve().is_relative_to(out_dir.resolve()):
        # Mirrored outputs would land on the inputs themselves.
        usage_error("the output folder is or contains the input folder: choose another, or --in-place")
    # A folder the outputs cannot be written into (read-only) stops the batch before any OCR: each
    # document used to be OCRed and then fail. A subfolder's own permissions still fail one by one.
    if out_dir is not None:
        pathchecks.refuse_unwritable_folder(named_as, out_dir, out_dir)
    else:
        pathchecks.refuse_unwritable_folder("--in-place", input_dir, input_dir)
    json_file = pathchecks.json_file(json_out)
    if (
        json_file is not None
        and out_dir is not None
        and os.path.realpath(json_file) == os.path.realpath(out_dir)
    ):
        _json_among_outputs(json_file)  # told before the output folder is made (scan_folders_held)

    def waiting(folder: Path) -> None:
        doing = "working on it" if folder is input_dir else "writing into it"
        report(f"{folder}: another ocr scan is {doing}; waiting for it to finish")

    with scan_folders_held(input_dir, out_dir, waiting):
        unreadable: list[OSError] = []
        unread: list[Path] = []
        hidden: list[Path] = []  # only those --include names: without it, they are left out silently
        try:
            found = discover.scan_documents(
                input_dir,
                out_dir,
                include,
                exclude,
                recursive,
                on_error=unreadable.append,
                on_link=_not_followed(quiet),
                on_unread=unread.append,
                on_hidden=hidden.append if include else None,
            )
        except ValueError as exc:  # a glob that is no glob: [z-a]
            usage_error(f"--include/--exclude: {exc}")
        if unread and not quiet:
            _report_unread(input_dir, unread, verbose)
        files, outputs = found.documents, found.earlier_outputs
        for path in outputs if verbose and not quiet else []:
            report(f"{path}: skipped: ocrcli's output for another file (see its .json)")
        if not quiet and (
            left_out := discover.documents_in_output_folder(input_dir, out_dir, include, exclude, recursive)
        ):
            there = errors.counted(left_out, "document")
            report(f"{out_dir}: {there} there not scanned: it is the output folder")
        items = discover.plan(files, input_dir, out_dir, not no_pdf, not no_sidecar, found.named_among)
        if json_file is not None:
            pathchecks.refuse_bad_outputs(files, [("--json", json_file)])
            planned = {
                os.path.realpath(p) for item in items for p in (item.pdf, item.sidecar) if p is not None
            }
            if os.path.realpath(json_file) in planned:
                _json_among_outputs(json_file)
        options = ScanOptions(
            engine=EngineSpec(tier.value, str(models_dir) if models_dir else None, 1, cjk),
            pdf_options=pdf_options,
            jobs=jobs or cpus.usable_cores(),
            redo_current=force,
            in_place=in_place,
            page_timeout=page_timeout or None,  # 0: no limit
        )
        # --include '*.PNG' on .png files said only "0 documents"
        if not items and not unreadable and not quiet:
            chosen = " matching --include/--exclude (globs match names as they are, case too)"
            if outputs:  # a folder of ocrcli's outputs: PDFs there are, skipped
                chosen = f" but ocrcli's outputs ({errors.counted(len(outputs), 'PDF')}, not read as inputs)"
            elif hidden:  # --include '.scan.png' said only that no file matched
                chosen += (
                    f"; {errors.counted(len(hidden), 'hidden file')} ({hidden[0].name}"
                    f"{', ...' if len(hidden) > 1 else ''}) matched, but files and folders whose names "
                    "start with '.' are not scanned"
                )
            report(f"{input_dir}: no images or PDFs found{chosen if include or exclude or outputs else ''}")
        if not quiet:
            where = "in place" if in_place else f"into {out_dir}"
            documents, workers = (
                errors.counted(len(items), "document"),
                errors.counted(options.jobs, "worker"),
            )
            report(f"{documents} in {input_dir}, writing {where}, up to {workers}")
        # Not over JSON lines printed to the same terminal as they come (as in ocr image): each began
        # on the progress line's row, which stayed above it
        live = stderr.is_terminal and not quiet and not (json_out == "-" and sys.stdout.isatty())
        display = ScanDisplay(stderr, len(items) + len(unreadable), live=live, verbose=verbose)
        code, scan, started = errors.EXIT_OK, None, time.perf_counter()
        # With a password, inputs that need it are read: their text in the clear is for the owner alone
        with _output_stream(json_out, files, private=bool(password)) as stream:
            try:
                with _interrupt_once():
                    # Scan checks the models.
                    scan = run_or_exit(lambda: Scan(items, options, display, stream, unreadable))
                    with display:
                        outcomes = scan.run()
            except KeyboardInterrupt:
                outcomes, code = scan.outcomes if scan else [], errors.EXIT_INTERRUPTED
                report(
                    "interrupted: documents in progress were not written; run the same command to continue"
                )
            except errors.WorkerStartError as exc:  # no worker left, none could start: as an interrupt
                outcomes, code = scan.outcomes if scan else [], exc.exit_code
                report(
                    f"error: {exc}; documents in progress were not written; run the same command to continue"
                )
            except OcrError as exc:  # the models, found missing or corrupt by a worker: exit 4
                report(f"error: {exc}")
                raise typer.Exit(exc.exit_code) from None
            except typer.Exit:  # an error already told (models missing: exit 4)
                raise
            except Exception as exc:  # noqa: BLE001 - a bug
                if stream is not None and exc is stream.failed:
                    raise  # the JSON stream's own failure, which _output_stream tells
                _internal_error(exc, "the documents done are written; run the same command to continue")
        if not quiet:
            table = summary_table(outcomes, time.perf_counter() - started, len(outputs))
            if stderr.is_terminal:
                stderr.print(table)
            else:
                stderr.out(_plain(table), end="")
        if code == errors.EXIT_OK:  # as in ocr image: a bug is 1, an output that failed 5, a bad file 3
            code = errors.worst_exit(*(o.error.exit_code for o in outcomes if o.error is not None))
        raise typer.Exit(code)


def _json_among_outputs(json_file: Path) -> None:
    usage_error(f"--json {json_file} is where the scan writes its outputs: choose another path")


def _report_unread(input_dir: Path, unread: list[Path], verbose: bool) -> None:
    """Say which files of the folder are scans or photos in a format ocr does not read (see
    discover.UNREAD_SUFFIXES): each with --verbose, else how many of each kind."""
    for path in unread if verbose else []:
        report(f"{path}: skipped: a format ocr does not read")
    kinds = Counter(path.suffix.lower() for path in unread)
    counts = ", ".join(f"{n} {suffix}" for suffix, n in sorted(kinds.items()))
    files = errors.counted(len(unread), "file")
    report(
        f"{input_dir}: left out {files} in formats ocr does not read ({counts}):"
        " convert them to JPEG, PNG, TIFF or PDF to OCR them"
    )


def _not_followed(quiet: bool) -> Callable[[Path], None] | None:
    """Says that a link to a folder in the input is not followed (ocr scan)."""
    if quiet:
        return None
    return lambda link: report(f"{link}: a link to a folder, not followed (pass its target to scan it)")


@contextlib.contextmanager
def _interrupt_once() -> Iterator[None]:
    """Ctrl-C, SIGTERM or SIGHUP (errors.STOP_SIGNALS) stops the run with one KeyboardInterrupt;
    further ones are ignored from then on, while it winds down: Ctrl-C pressed three times used
    to interrupt the shutdown too, and the process died by the signal (-2) instead of exiting 130."""
    interrupted = False

    def interrupt(signum: int, frame: Any) -> None:
        nonlocal interrupted
        for sig in errors.STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        interrupted = True
        raise KeyboardInterrupt

    previous = errors.on_stop_signals(interrupt)
    try:
        yield
    finally:
        if not interrupted:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _model_status(spec: models.ModelSpec, manifest: models.Manifest) -> str:
    """A model's hash status; one that is intact (or unverified) is also loaded and checked
    against its role as the engine checks it: "unusable" if it does not fit, said on stderr."""
    status = models.status(spec)
    if status not in ("ok", "unverified"):  # said on stderr too: the table may go to a file or jq
        report(f"error: {models.trouble(spec, status)}")
        return status
    if spec.role == "dictionary":
        return status
    from ocrcli.pipeline import check_model

    try:
        check_model(spec, manifest)
    except OcrError as exc:
        report(f"error: {exc}")
        return "unusable"
    return status


def _file_size(path: Path) -> int | None:
    """A model file's size; None if it is no file or cannot be reached (a link into a folder its
    user may not search: is_file() raised PermissionError, a traceback)."""
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def _size_text(size: int | None) -> str:
    """A file's size for the models table: a 34 kB dictionary showed as "0.0 MB", and an empty
    model as "-", as a missing one does."""
    if size is None:
        return "-"
    if size < 1000:
        return f"{size} B"
    return f"{size / 1e3:.0f} kB" if size < 1e6 else f"{size / 1e6:.1f} MB"


@app.command("models", short_help="List the models and check that each is intact and fits its role.")
def list_models(
    models_dir: ModelsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON on stdout.")] = False,
) -> None:
    """List the models: role, tiers, size, status (hash checked, and each model loaded and
    checked against its role) and location."""
    manifest = run_or_exit(lambda: models.load_manifest(models_dir))
    used_by = {
        spec.name: [tier for tier, roles in manifest.tiers.items() if spec.name in roles.values()]
        for spec in manifest.models
    }
    for spec in manifest.models:  # a dictionary serves the tiers of the recognizers naming it
        if spec.dictionary:
            serves = {*used_by.get(spec.dictionary, []), *used_by[spec.name]}
            used_by[spec.dictionary] = [tier for tier in manifest.tiers if tier in serves]  # as listed
    rows = [
        {
            "name": s.name,
            "role": s.role,
            "tiers": used_by[s.name],
            "size": _file_size(s.path),
            "status": _model_status(s, manifest),
            "path": str(s.path),
            "package": s.package,
            "license": s.license,
        }
        for s in manifest.models
    ]
    if sys.stdout is None:  # closed (`ocr models >&-`): the exit code still tells
        pass
    elif as_json:
        with _write_errors():
            print(json.dumps(rows, indent=1), flush=True)
    else:
        table = Table("name", "role", "tiers", "size", "status", "path", box=None)
        for r in rows:
            style = "green" if r["status"] == "ok" else "red"
            # As Text, not markup: a path or name holding "[/b]" was a MarkupError traceback, and
            # "[v2]" vanished; their control characters escaped as in every message
            shown = [Text(errors.one_line_message(r[key])) for key in ("name", "role", "path")]
            table.add_row(
                *shown[:2], ",".join(r["tiers"]), _size_text(r["size"]), Text(r["status"], style), shown[2]
            )
        # Rendered first, then written: rich itself ends with exit 1 on a closed pipe.
        if sys.stdout.isatty():
            shown = io.StringIO()
            Console(file=shown, force_terminal=True).print(table)
            text = shown.getvalue()
        else:
            text = _plain(table)
        with _write_errors():
            print(text, end="", flush=True)
    # A run without --tier uses "fast": without it every such run ends in exit 4 ("unknown tier")
    no_default = Tier.fast not in manifest.tiers
    if no_default:
        report(
            f'error: the model manifest names no "{Tier.fast}" tier, the one used without --tier '
            f"(it names {', '.join(manifest.tiers)}); add it, or give --tier with each run"
        )
    if no_default or any(r["status"] not in ("ok", "unverified") for r in rows):
        raise typer.Exit(errors.EXIT_MODELS)


def _quiet_broken_pipe() -> None:
    """The reader went away (`| head`): stop quietly, as Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    # A file name that is not valid UTF-8 (b"bad\\xffname.jpg") reaches Python as a lone surrogate:
    # written as the escape \\udcff, JSON stays valid UTF-8 and the name stays recognisable.
    if sys.stdout is not None:  # None when closed (`ocr ... >&-`)
        sys.stdout.reconfigure(errors=TEXT_ERRORS)  # type: ignore[union-attr]
    stdstreams.messages_never_fail()
    if not {"--help", "--version"} & set(sys.argv[1:]):  # those need no folder
        _refuse_a_deleted_working_folder()
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit comes back as its code
    except SystemExit as exc:
        # click ends with 1 when stdout's reader went away as it printed help (`ocr --help | true`),
        # having put a wrapper on sys.stdout that swallows the flush: that is 141, as elsewhere
        if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            raise SystemExit(errors.EXIT_BROKEN_PIPE) from None
        raise
    except ClickUsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `ocr` alone: its help, as click shows it
            exc.show()
        else:  # one line, as every other error: click's own took four, with the usage
            where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            report(f"error: {exc.format_message().rstrip('.')}{where}")
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:  # click printing the help (the only output not ours) to a full disk
        if not _printing_help(exc):
            raise  # a fault of ours: with its traceback
        report(f"error: cannot write stdout: {errors.one_line(exc)}")
        raise SystemExit(errors.EXIT_OUTPUT) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _printing_help(exc: BaseException) -> bool:
    """Whether `exc` came out of click printing a command's help (its --help option's callback),
    not out of a command that ran with "--help" among its values (`--password --help`)."""
    return any(frame.name == "show_help" for frame in traceback.extract_tb(exc.__traceback__))


def _refuse_a_deleted_working_folder() -> None:
    """Exit 2 if the working folder was deleted (a shell's, removed under it), as git does: no
    relative path means anything there. Commands stopped on it midway, with a traceback (`ocr pdf
    a.pdf -o b.pdf`) or "unexpected FileNotFoundError" (`ocr scan /abs/scans`, whose workers
    multiprocessing starts from the working folder)."""
    try:
        os.getcwd()
    except FileNotFoundError:
        report("error: the working folder was deleted: cd to a folder that exists")
        raise SystemExit(errors.EXIT_USAGE) from None
