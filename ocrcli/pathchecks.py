"""The command line's paths checked before any work, its outputs above all: each path given, what a
file there holds, whether stdout can take what is sent there. Anything wrong is one line and exit 2
(5 for a closed stdout) before a page is read: the work would be done and then lost, or an input
overwritten."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer

from ocrcli import errors, safewrite, stdstreams
from ocrcli.console import report, run_or_exit, usage_error


def json_targets(files: list[Path], given: str | None) -> list[Path | None]:
    """Where `-o` puts each input's JSON: OUT itself for one input (unless it is a folder, or ends
    in a slash), else OUT/STEM.json, or OUT/NAME.EXT.json for inputs that share a stem (a.png
    beside a.jpg)."""
    if given is None:
        return [None] * len(files)
    output = Path(given)
    refuse_impossible_path("-o", output)  # before is_dir(), which raised on it
    if len(files) == 1 and not output.is_dir() and not given.endswith(("/", os.sep)):
        return [output]
    if output.exists() and not output.is_dir():
        usage_error(f"-o {output}: with several inputs, give a folder")
    # One file meant, unless a slash says a folder (-o results.json/)
    one_file = output.suffix.lower() in (".json", ".jsonl") and not given.endswith(("/", os.sep))
    if one_file and not output.exists():
        usage_error(
            f"-o {output}: with several inputs -o is a folder, a JSON file each; "
            f"for one file of them all: --json {output}"
        )
    from ocrcli.discover import output_names

    names = [f"{name}.json" for name in output_names(files, by_folder=False)]
    first: dict[str, int] = {}
    for k, (path, name) in enumerate(zip(files, names, strict=True)):  # ignoring case, as a file system may
        if (j := first.setdefault(name.lower(), k)) != k:
            if files[j] == path:  # not "-o X is also where -o X goes"
                usage_error(f"{path} is given twice: both would write {output / name}")
            usage_error(f"{files[j]} and {path} would both write {output / name}: use --json FILE instead")
    for path, name in zip(files, names, strict=True):
        refuse_impossible_path("-o", output / name, f"rename {path}, or give -o FILE.json for it alone")
    return [output / name for name in names]


def refuse_closed_stdout(json_out: str | None, text: bool = False) -> None:
    """Refuse (exit 5) results for stdout when it is closed (`ocr ... >&-`, so Python has no
    sys.stdout), before any work: they would go nowhere (--text was an AttributeError traceback
    once the work was done)."""
    if (json_out == "-" or text) and sys.stdout is None:
        report("error: cannot write stdout: it is closed")
        raise typer.Exit(errors.EXIT_OUTPUT)


def refuse_text_with_json_on_stdout(text: bool, json_out: str | None) -> None:
    if text and json_out == "-":
        usage_error("--text and --json - would both write to stdout: give --json FILE")


def json_file(json_out: str | None) -> Path | None:
    """The file `--json` names (None for stdout or no --json)."""
    return None if json_out in (None, "-") else Path(json_out)


def command_typed(argument: str, instead: list[str]) -> str:
    """The command line as typed, quoted for a shell (a name with a space), with its last
    `argument` replaced by `instead`: the command to type, the user's other options kept (only
    `instead` where ocr was run with other arguments than the process's: from Python)."""
    typed = sys.argv[1:]
    if argument not in typed:
        return shlex.join(instead)
    at = len(typed) - 1 - typed[::-1].index(argument)
    return shlex.join(["ocr", *typed[:at], *instead, *typed[at + 1 :]])


def refuse_pdf_named_as_input(given: list[str]) -> None:
    """Refuse (exit 2) images followed by a PDF's name that is no file yet: --pdf forgotten
    (`ocr image a.jpg out.pdf`), which read the images and then failed on out.pdf, not found."""
    last = given[-1]
    if len(given) > 1 and last.lower().endswith(".pdf") and not os.path.lexists(last):
        command = command_typed(last, ["--pdf", last])
        usage_error(f"{last}: not found; to write the images' searchable PDF there, give --pdf ({command})")


def refuse_empty(what: str, given: str | None) -> None:
    """Refuse (exit 2) an empty path, most likely an unset variable (`ocr scan "$SCANS"`): pathlib
    reads "" as ".", so `ocr scan ""` OCRed the working folder, and with --in-place rewrote its
    PDFs; other commands named "." in their message for a path the user never gave."""
    if given == "":
        usage_error(f"{what} is empty (an unset variable?): give a path")


def file_option(option: str, given: str | None) -> Path | None:
    """The file an output option names (None for none, or stdout for --json). A path ending in a
    slash names a folder, refused as cp refuses it: Path() drops the slash, and `-o out/` wrote a
    file `out`."""
    if given is None or (option == "--json" and given == "-"):
        return None
    refuse_empty(option, given)
    refuse_dash(option, given)
    if given.endswith(("/", os.sep)):
        usage_error(f"{option} {given} is a folder: give a file's path")
    return Path(given)


def refuse_dash(option: str, given: str | None) -> None:
    """Refuse (exit 2) `ocr image -o -` and `--sidecar -`: the JSON goes to stdout with --json -,
    and this wrote a file named "-" (exit 0, nothing on stdout for the pipe that expected it)."""
    if given == "-":
        usage_error(f"{option} -: JSON goes to stdout with --json - (for a file named -, give ./-)")


def pdf_output(option: str, given: str | None, json_out: str | None, text: bool) -> Path | None:
    """The file a PDF output option names; "-" is standard output, the PDF sent there once it
    is written and verified (see ocrcli.stdstreams)."""
    if given != stdstreams.STDIO:
        return file_option(option, given)
    if json_out == "-" or text:
        usage_error(f"{option} - writes the PDF to stdout: give --json FILE, not --json - or --text")
    return run_or_exit(stdstreams.pdf_for_stdout)


def sidecar_path(pdf: Path, sidecar: Path | None) -> Path | None:
    """The sidecar's path: as given, else the PDF's with .json, which must not be a file of the
    user's (checked before any work, as `ocr scan` does); a PDF for stdout has none unless given."""
    from ocrcli.discover import foreign_sidecar

    if not pdf.name or pdf.is_dir():
        usage_error(f"{pdf} is a folder: give the PDF's path")
    if sidecar is not None or stdstreams.is_stdout_pdf(pdf):
        return sidecar
    default = pdf.with_suffix(".json")
    refuse_impossible_path("the sidecar", default, "give --sidecar PATH")
    if reason := foreign_sidecar(default):
        usage_error(f"{reason} (give --sidecar PATH)")
    safewrite.claim(default)
    return default


def refuse_bad_outputs(
    inputs: list[Path], outputs: list[tuple[str, Path | None]], pdf_options: tuple[str, ...] = ("--pdf",)
) -> None:
    """Before any work, refuse (exit 2) an output that is an input file, one that another output
    also names, one that is a folder, one in a folder that cannot be written, and a file that
    holds something other than the output would (`pdf_options` name PDFs, the others JSON): the
    input would be lost, or the work done for nothing. With a PDF for stdout, also one that is
    stdout (the JSON would be written into the PDF)."""
    taken: dict[str, str] = {}
    pdf_to_stdout = next((opt for opt, path in outputs if path and stdstreams.is_stdout_pdf(path)), None)
    for option, path in outputs:
        if path is None:
            continue
        if pdf_to_stdout and option != pdf_to_stdout and _is_stdout(path):
            usage_error(
                f"{option} {path} is stdout, where {pdf_to_stdout} - sends the PDF: choose another path"
            )
        for source in inputs:
            if same_file(path, source):
                usage_error(f"{option} {path} is the input {source}: choose another path")
        key = os.path.realpath(path)
        if key in taken:
            usage_error(f"{option} {path} is also where {taken[key]} goes: choose another path")
        taken[key] = f"{option} {path}"
        refuse_impossible_path(option, path)
        if path.is_dir():
            usage_error(f"{option} {path} is a folder: give a file's path")
        if path.exists() and not path.is_file():
            continue  # /dev/null, a named pipe: written into (see safewrite.write_output)
        kind = "PDF" if option in pdf_options else "JSON"
        if held := _other_content(path, kind):
            # Most likely an input taken for the option's value: "remove the file" told to delete a scan
            usage_error(
                f"{option} {path}: the file there is {held}, not {kind} (an input taken for {option}'s "
                f"value?): give {option} the path to write the {kind} to, or move the file away to have "
                "it replaced"
            )
        refuse_unwritable_folder(option, path)
        safewrite.claim(path)


def _other_content(path: Path, kind: str) -> str | None:
    """What the file at `path` holds if it is neither empty nor of `kind` ("PDF", "JSON"), in a
    few words ("a PNG file"); None if an output of that kind may replace it (or it cannot be read:
    the write then fails on its own). A user's mistake it catches: an input read as the value of
    --json, --pdf or -o, as in `ocr image --json a.jpg b.jpg`."""
    from ocrcli.imageio import header_kind

    try:
        with open(path, "rb") as file:
            head = file.read(1024)
    except OSError:
        return None
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 byte order mark, as an editor may save
    if not start or (kind == "PDF" and b"%PDF-" in head) or (kind == "JSON" and start[:1] in (b"{", b"[")):
        return None
    found = header_kind(path)
    return f"a {found} file" if found else "some other file"


def _is_stdout(path: Path) -> bool:
    """Whether `path` is the file stdout writes to (/dev/stdout, or the file it is redirected to)."""
    try:
        here, there = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):  # no such file; stdout closed
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def refuse_impossible_path(option: str, path: Path, fix: str = "give a shorter one") -> None:
    """Refuse (exit 2) an output whose name its file system cannot hold, or that lies in a folder
    that cannot be searched: the work would be done, then lost (a 256-byte sidecar failed after
    the OCR), or end in a traceback (stat of it raised)."""
    from ocrcli.discover import name_too_long
    from ocrcli.safewrite import unsearchable

    if reason := name_too_long(path):
        usage_error(f"{option}: {reason} ({fix})")
    if folder := unsearchable(path):
        usage_error(f"{option} {path}: {folder} is a folder that cannot be searched")


def refuse_unwritable_folder(option: str, path: Path, folder: Path | None = None) -> None:
    """Refuse (exit 2) an output whose folder (default: the path's) cannot be written: new files
    are made there."""
    from ocrcli.safewrite import why_folder_unwritable

    if reason := why_folder_unwritable(path.parent if folder is None else folder):
        usage_error(f"{option} {path}: {reason}")


def refuse_special_pdf_output(option: str, pdf: Path | None) -> None:
    """A PDF is written to a temporary file renamed over its path, which would replace a device or
    pipe (`-o /dev/stdout`) itself: refuse those (JSON outputs are written into them instead)."""
    if pdf is not None:
        refuse_impossible_path(option, pdf)
    if pdf is not None and pdf.exists() and not pdf.is_file() and not pdf.is_dir():
        usage_error(f"{option} {pdf} is not a regular file: give a file's path")


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: then writing `a` cannot harm `b`
        return False
