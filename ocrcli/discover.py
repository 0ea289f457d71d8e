"""A batch's inputs: which files in a folder to OCR, and where each one's outputs go."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ocrcli import fingerprint
from ocrcli.document import Page
from ocrcli.errors import JSON_ERRORS
from ocrcli.imageio import SUPPORTED_SUFFIXES
from ocrcli.safewrite import empty_file

PDF_SUFFIX = ".pdf"


@dataclass(frozen=True)
class Item:
    """One document of the batch and its outputs (None when not written)."""

    path: Path
    kind: str  # "pdf" or "image" ("folder": one that could not be listed, reported as failed)
    pdf: Path | None
    sidecar: Path | None


def find_files(
    root: Path,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    recursive: bool = True,
    skip: list[Path] | None = None,
    on_error: Callable[[OSError], None] | None = None,
    on_link: Callable[[Path], None] | None = None,
    on_unread: Callable[[Path], None] | None = None,
    on_hidden: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Images and PDFs under `root`, sorted, without hidden files and folders or folders in
    `skip` (our own output folder). A glob matches a file's name or its path relative to root;
    an `exclude` glob matching a folder's name or path (`drafts`, `drafts/`) also leaves out
    everything in it. A folder that cannot be listed (no permission) is passed to `on_error`,
    a link to a folder, which is not followed (as find does not: it may lead back up the tree,
    or out of it), to `on_link`, a scan or photo in a format not read (UNREAD_SUFFIXES) that
    the globs leave in, to `on_unread`, and a hidden image or PDF that the globs leave in, to
    `on_hidden`; none is skipped silently."""
    skip_dirs = {s.resolve() for s in skip or []}
    folder_excludes = [pattern.rstrip("/") for pattern in exclude or []]
    folder_includes = [pattern.rstrip("/") for pattern in include or []]
    found = []
    for folder, dirs, files in os.walk(root, onerror=on_error):
        entered = []
        for name in sorted(dirs) if recursive else []:
            path = Path(folder) / name
            if name.startswith("."):
                continue
            try:
                if on_link is not None and path.is_symlink():
                    on_link(path)
                if path.resolve() in skip_dirs:
                    continue
            except OSError as exc:  # a folder past PATH_MAX (ENAMETOOLONG): a traceback, no scan
                if on_error is not None:
                    on_error(exc)
                continue
            if not _matches(name, path.relative_to(root).as_posix(), folder_excludes):
                entered.append(name)
        dirs[:] = entered
        for name in sorted(files):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            kind = kind_of(path)
            unread = kind is None and on_unread is not None and path.suffix.lower() in UNREAD_SUFFIXES
            hidden = name.startswith(".")
            if not (kind or unread) or (hidden and (on_hidden is None or not kind)):
                continue  # not ours to read; a hidden one is told of only if it is an image or PDF
            if include and not (
                _matches(name, relative, include) or _in_matching_folder(relative, folder_includes)
            ):
                continue
            if exclude and _matches(name, relative, exclude):
                continue
            if hidden:
                on_hidden(path)  # type: ignore[misc]  # hidden here implies it is given
            elif unread:
                on_unread(path)  # type: ignore[misc]  # unread implies it is given
            else:
                found.append(path)
    return found


@dataclass(frozen=True)
class Found:
    """What `ocr scan` found in its folder."""

    documents: list[Path]  # to OCR, as --include and --exclude leave them
    named_among: list[Path]  # every file outputs are named among, whatever the globs leave
    earlier_outputs: list[Path]  # PDFs an earlier scan wrote for other files: skipped


def scan_documents(
    root: Path,
    out_dir: Path | None,
    include: list[str] | None,
    exclude: list[str] | None,
    recursive: bool,
    on_error: Callable[[OSError], None] | None = None,
    on_link: Callable[[Path], None] | None = None,
    on_unread: Callable[[Path], None] | None = None,
    on_hidden: Callable[[Path], None] | None = None,
) -> Found:
    """The documents under `root` (see find_files; not in `out_dir`), and the files their outputs
    are named among (see plan). An image's PDF written beside it by an earlier --in-place run is an
    output, not an input; so is a PDF an earlier run wrote for another file (P/sub-ocr/ of `ocr
    scan P/sub`), which stays among the names, so that no output is named onto it."""
    skip = [out_dir] if out_dir else []
    files = find_files(root, include, exclude, recursive, skip, on_error, on_link, on_unread, on_hidden)
    every = find_files(root, None, None, recursive, skip) if include or exclude else files
    made_beside = images_pdfs(every)
    named_among = [f for f in every if f not in made_beside]
    documents = set(named_among)
    files = [f for f in files if f in documents]
    outputs = [f for f in files if kind_of(f) == "pdf" and earlier_output(f)]
    left_out = set(outputs)  # built once: in the condition it was rebuilt for every file
    return Found([f for f in files if f not in left_out], named_among, outputs)


def documents_in_output_folder(
    root: Path,
    out_dir: Path | None,
    include: list[str] | None,
    exclude: list[str] | None,
    recursive: bool,
) -> int:
    """How many documents `ocr scan` leaves out as being in its output folder, inside `root`: the
    images and PDFs there that it would read otherwise (its globs matched relative to `root`; not
    in a hidden folder, nor below it without --recursive) and that are no outputs of an earlier
    scan (left out silently, `ocr scan sc -o sc/sub` never mentioned sc/sub/b.png)."""
    if out_dir is None or not out_dir.is_dir() or not out_dir.resolve().is_relative_to(root.resolve()):
        return 0
    found = find_files(root, include, exclude, recursive, on_error=lambda _: None)
    inside = [f for f in found if f.parent.resolve().is_relative_to(out_dir.resolve())]
    return sum(1 for f in inside if not (kind_of(f) == "pdf" and earlier_output(f)))


# Formats scans and photos of documents come in that are not read: phones' HEIC, JPEG XL, DjVu
# (scanned books), cameras' raw files, Windows' XPS (its Fax and Scan saves them), and those of
# Pillow's optional codecs it was built without. A folder of them said only "0 documents".
UNREAD_SUFFIXES = (
    frozenset(
        {".heic", ".heif", ".hif", ".jxl", ".djvu", ".djv", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf"}
        | {".rw2", ".xps", ".oxps", ".webp", ".avif", ".jp2", ".j2k", ".jpf", ".jpx"}
    )
    - SUPPORTED_SUFFIXES
)


def kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == PDF_SUFFIX:
        return "pdf"
    return "image" if suffix in SUPPORTED_SUFFIXES else None


def plan(
    files: list[Path],
    root: Path,
    output_dir: Path | None,
    pdf: bool = True,
    sidecar: bool = True,
    named_among: list[Path] | None = None,
) -> list[Item]:
    """Name each file's outputs: the input tree mirrored under `output_dir`, or, in place (no
    output_dir), each PDF replaced and each image's PDF written beside it. Outputs are NAME.pdf
    and NAME.json; an image whose stem another file in its folder shares gets NAME.EXT.pdf. The
    other files are `named_among` (default `files`): every file the folder could give, so that
    --include or --exclude do not change a name (with --include '*.png', a.png beside a.pdf was
    named a.pdf, and its PDF replaced the user's a.pdf in place)."""
    among = files if named_among is None else named_among
    names = dict(zip(among, output_names(among, by_folder=True), strict=True))
    items = []
    for file in files:
        name = names[file]
        kind = kind_of(file)
        assert kind is not None
        base = file if output_dir is None else output_dir / file.relative_to(root)
        out = base if kind == "pdf" else base.with_name(name + PDF_SUFFIX)
        items.append(Item(file, kind, out if pdf else None, out.with_suffix(".json") if sidecar else None))
    return items


def clashes(items: list[Item]) -> dict[Path, str]:
    """Why each input whose outputs would land on another input's cannot be done. a.png beside
    a.jpg writes a.png.pdf, which is also a PDF named a.png.pdf (itself, in place); x.pdf and
    x.PDF both have the sidecar x.json. Neither of two such inputs is done, whatever their order.
    An output that would be the folder of other outputs (a.jpg's a.pdf, beside a subfolder a.pdf/
    whose documents' outputs go into a.pdf/ in the output folder) is refused too: it failed as
    unwritable after its OCR, or took the folder's name first and the documents in it failed,
    whichever was done first."""
    owners: dict[Path, list[Item]] = defaultdict(list)
    folders: dict[Path, Item] = {}  # each folder outputs go into: the first input whose outputs do
    for item in items:
        for output in (item.pdf, item.sidecar):
            if output is not None:
                owners[output].append(item)
                for folder in output.parents:
                    folders.setdefault(folder, item)
    reasons: dict[Path, str] = {}
    for output, sharing in owners.items():
        for item in sharing if len(sharing) > 1 else []:
            others = ", ".join(str(other.path) for other in sharing if other is not item)
            reasons.setdefault(item.path, f"its output {output} is also that of {others}: rename one")
        if (other := folders.get(output)) is not None:
            for item in sharing:
                reasons.setdefault(
                    item.path, f"its output {output} is also the folder of {other.path}'s outputs: rename one"
                )
    return reasons


def too_long(items: list[Item]) -> dict[Path, str]:
    """Why each input whose PDF or sidecar would have a name longer than its file system allows
    cannot be done: found before its OCR, not when its outputs are written after it (an image
    named with 251 bytes + ".jpg" has a 255-byte PDF but a 256-byte sidecar)."""
    reasons: dict[Path, str] = {}
    for item in items:
        for output in (item.pdf, item.sidecar):
            if output is not None and output != item.path and (reason := name_too_long(output)):
                reasons.setdefault(item.path, f"its output {reason}: rename it")
                break
    return reasons


def name_too_long(path: Path) -> str | None:
    """Why `path` cannot be made: a name in it (its own, or a folder's still to be made) longer
    than the file system's limit on a name, in bytes (255 on most); or None."""
    limit = name_max(path.parent)
    for part in reversed(path.parts):
        if (size := len(os.fsencode(part))) > limit:
            named = path if part == path.name else f"{path}: its folder {part}"
            return f"{named} has a name of {size} bytes, over the file system's {limit}"
    return None


def name_max(folder: Path) -> int:
    """The longest name, in bytes, the file system of `folder` (or of the nearest existing folder
    above it: missing ones are made) takes; 255 if it cannot be told."""
    folder = Path(os.path.abspath(folder))
    while not os.path.isdir(folder) and folder != folder.parent:
        folder = folder.parent
    return _name_max(str(folder))


@functools.cache
def _name_max(folder: str) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def output_names(files: list[Path], by_folder: bool) -> list[str]:
    """Each file's outputs' name before their suffix: its stem, or its whole name (a.png) when
    another of the files (in its folder, if `by_folder`) shares the stem (a.pdf, a.jpg). Stems
    are compared ignoring case, as a case-insensitive file system would."""

    def key(file: Path) -> tuple[Path | None, str]:
        return (file.parent if by_folder else None, file.stem.lower())

    stems = Counter(key(file) for file in files)
    return [file.name if stems[key(file)] > 1 else file.stem for file in files]


def images_pdfs(files: list[Path]) -> set[Path]:
    """The PDFs among `files` that are images' PDFs written beside them by an earlier run
    (made_by_us). Only a PDF named as an image's output is looked into: a.pdf or a.png.pdf
    beside a.png."""
    names = {(f.parent, n.lower()) for f in files if kind_of(f) == "image" for n in (f.stem, f.name)}
    return {f for f in files if kind_of(f) == "pdf" and (f.parent, f.stem.lower()) in names and made_by_us(f)}


def made_by_us(pdf: Path) -> bool:
    """Is this PDF an image's, written beside the image by an earlier run? Its sidecar says so,
    or, without one naming it (--no-sidecar; or a sidecar --no-pdf wrote, which names no PDF, kept
    by a --no-sidecar run after it), the PDF itself (pdfgraft.mark_image_pdf); and the image is
    still there (a PDF made by `ocr pdf -o` from another PDF is a document)."""
    from ocrcli import pdfgraft

    record = read_sidecar(pdf.with_suffix(".json"), pages=False)
    source = ((record or {}).get("source") or {}).get("path")
    named = names_output(record, pdf)
    if named and source:
        name = Path(source).name
    elif not named and (marked := pdfgraft.marked_image(pdf)) and Path(marked).name == marked:
        name = marked
    else:
        return False
    image = pdf.parent / name
    return name != pdf.name and kind_of(image) == "image" and image.is_file()


def earlier_output(pdf: Path) -> bool:
    """Is this PDF one that `ocr scan` wrote for another file, such as the PDFs of an earlier
    `ocr scan P/sub` in P/sub-ocr/, met again by `ocr scan P`? Read again, they would be OCRed
    twice. Its sidecar beside it, written by `ocr scan` (it has a "run"), records this PDF as its
    output, with the hash the file still has, and a source other than the PDF itself. So a
    document OCRed in place (output and source are one path), an output edited since, one
    without its sidecar, and one `ocr pdf -o` made (no "run": the user named it) are read."""
    record = read_sidecar(pdf.with_suffix(".json"), pages=False)
    if record is None or "run" not in record or not names_output(record, pdf):
        return False
    output = record["output"]
    # Both paths as given to the one run that wrote them: equal when it OCRed the PDF in place.
    if output["pdf"] == record["source"].get("path"):
        return False
    try:
        recorded = written_sha256(record, pdf.stat(), pdf.with_suffix(".json"))
        return (recorded or fingerprint.file_sha256(pdf)) == output.get("sha256")
    except OSError:
        return False


def written_sha256(record: dict | None, st: os.stat_result, sidecar: Path | None) -> str | None:
    """The sha256 the sidecar `record` gives its output, if the file (stat `st`) is still the PDF
    it wrote: the stat recorded with it (output.stat), and a ctime older than the sidecar's mtime.
    So a run does not hash again the PDFs it wrote in place (where source.stat never matches
    after the first run, and each run hashed every PDF of the archive), nor those of an earlier
    scan met in the folder (see earlier_output). fingerprint.SETTLED_NS would refuse our PDF, just
    written when its stat is taken; git's rule for its index stands in for it: the sidecar is
    written after the PDF, so a PDF whose ctime is not older than the sidecar could have been
    changed again within the same timestamp tick (a coarse file system's second) and is hashed.
    A PDF rewritten with its mtime set back has a new ctime, and is hashed too."""
    output = (record or {}).get("output") or {}
    sha256 = output.get("sha256")
    if sidecar is None or not isinstance(sha256, str) or output.get("stat") != fingerprint.stat_record(st):
        return None
    try:
        settled = st.st_ctime_ns < sidecar.stat().st_mtime_ns
    except OSError:
        return None
    return sha256 if settled else None


def foreign_sidecar(path: Path) -> str | None:
    """Why `path` must not be written as a sidecar (a folder, or a file there that is not an
    ocrcli sidecar: the user's), or None. An empty file is replaced, as any output's is."""
    if path.is_dir():
        return f"{path} is a folder; leaving it"
    if path.exists() and not empty_file(path) and read_sidecar(path, pages=False) is None:
        return f"{path} exists and is no ocrcli sidecar; leaving it"
    return None


def names_output(record: dict | None, pdf: Path) -> bool:
    """Does this sidecar record `pdf` as the PDF it was written with?"""
    output = ((record or {}).get("output") or {}).get("pdf")
    # Names, not paths: the record holds paths as the user gave them, from wherever they ran it.
    return bool(output) and Path(output).name == pdf.name


def other_source(record: dict | None, sidecar: Path, source: Path, sha256: str) -> Path | None:
    """The file the sidecar at `sidecar` (whose content is `record`) was written for, if that is
    another file than `source` and still there, with other content than `sha256`: two folders
    scanned into one output folder, whose files share names, would otherwise replace each other's
    outputs. The record holds paths as that run was given them, so its source is found from where
    its sidecar then was (both absolute, or both from the same working directory); a source moved
    or deleted since is none, and so is that of a sidecar copied from where that run wrote it,
    which is still there. A source recorded absolute beside a relative sidecar is where it says; a
    relative one beside an absolute sidecar (`ocr scan a -o ~/out`, the shell making it absolute)
    is taken from the working directory: that run's is not recorded, and it is most likely this
    one (both runs in one folder). Such runs replaced each other's outputs."""
    recorded_source = ((record or {}).get("source") or {}).get("path")
    recorded_sidecar = ((record or {}).get("output") or {}).get("sidecar")
    if not (recorded_source and recorded_sidecar) or record["source"].get("sha256") == sha256:
        return None
    was, sidecar_was = Path(recorded_source), Path(recorded_sidecar)
    if was.is_absolute() == sidecar_was.is_absolute():
        other = sidecar.parent / os.path.relpath(was, sidecar_was.parent)
    else:
        other = Path.cwd() / was  # the same as `was` if that is absolute
    try:
        # A copy of a sidecar still there (an output copied into the folder and edited) was
        # replaced as before: it is not where that run wrote it
        if sidecar_was.exists() and not sidecar_was.samefile(sidecar):
            return None
        if not other.is_file() or other.samefile(source):
            return None
    except OSError:
        return None
    return Path(os.path.normpath(other))


def read_sidecar(path: Path, pages: bool = True) -> dict | None:
    """An ocrcli sidecar's content, or None if there is none (or the file is something else, or
    a sidecar edited out of the shape that resuming relies on: that is the user's now). Only a
    regular file is read: a named pipe or /dev/stdout given as the sidecar would block for ever.
    With `pages` False, its "pages" are left out: what tells whether a document is current is in
    the head, which ocrcli writes on the sidecar's first line, a page per line after it
    (scan._document_chunks), so only that line is parsed. A re-run json.load-ed every sidecar to
    skip its document: 1 s of CPU and 1 GB of memory for a 640-page one of 118 MB. A sidecar laid
    out otherwise (reformatted by the user, or with no pages) is read whole."""
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as f:
            head = None if pages else _head(f)
            record = head if head is not None else json.loads(f.read().decode())
    except (OSError, *JSON_ERRORS):
        return None
    if not _sidecar_shaped(record if head is None else {**head, "pages": []}):
        return None
    return record if pages else {key: value for key, value in record.items() if key != "pages"}


def sidecar_pages(path: Path) -> Iterator[dict]:
    """The pages of the sidecar at `path` (see read_sidecar), parsed one at a time."""
    with open(path, "rb") as f:
        if _head(f) is None:
            yield from (read_sidecar(path) or {}).get("pages", [])
            return
        for line in f:
            yield json.loads(_page_text(line))


def checked_page_texts(path: Path) -> Iterator[str]:
    """The JSON texts of the pages of the sidecar at `path`, every one found to parse before this
    returns (an OSError or ValueError otherwise), then read again from the same open file as they
    are written there, one at a time. `ocr scan --json` streamed a current document's sidecar from
    a list of its pages parsed and dumped again: the whole sidecar in memory (336 MB for one of
    118 MB) and most of the CPU of a re-run. A sidecar laid out otherwise is read whole."""
    f = open(path, "rb")  # noqa: SIM115 - closed by _texts_from, or here on failure
    try:
        if _head(f) is None:
            pages = [
                json.dumps(page, ensure_ascii=False) for page in (read_sidecar(path) or {}).get("pages", [])
            ]
            f.close()
            return iter(pages)
        start = f.tell()
        for line in f:
            json.loads(_page_text(line))
        f.seek(start)
    except BaseException:
        f.close()
        raise
    return _texts_from(f)


def _texts_from(f: IO[bytes]) -> Iterator[str]:
    with f:
        for line in f:
            yield _page_text(line)


def _page_text(line: bytes) -> str:
    """A page's JSON text, from its line of a sidecar laid out as ocrcli writes it."""
    return line.decode().rstrip("\n").removesuffix("]}").removesuffix(",")


_PAGES_OPENING = b', "pages": [\n'
_CLOSING = b"]}\n"


def _head(f: IO[bytes]) -> dict | None:
    """The head of the sidecar open as `f`, which is left at its second line, if the sidecar is
    laid out as ocrcli writes it (see read_sidecar); else None, with `f` at its start."""
    first = f.readline()
    after = f.tell()
    if first.endswith(_PAGES_OPENING) and f.seek(0, os.SEEK_END) >= after + len(_CLOSING):
        f.seek(-len(_CLOSING), os.SEEK_END)
        if f.read() == _CLOSING:
            f.seek(after)
            with contextlib.suppress(*JSON_ERRORS):
                head = json.loads(first.removesuffix(_PAGES_OPENING).decode() + "}")
                if isinstance(head, dict):
                    return head
    f.seek(0)
    return None


class EarlierPages:
    """The entries of an earlier sidecar that pages not OCRed this time keep, so that the new
    sidecar still describes every page's text: a page outside --pages, or skipped for the text
    layer an earlier run gave it (in place, or OCRing its own output again). A page keeps the
    entry of its number if the sidecar describes exactly this PDF (the output it records is this
    input), else the entry recording the very layer the page carries (its `layer_sha256`): once
    anything in the PDF changed since (a page added, its title edited), a re-run in place found
    every page skipped, and wrote a sidecar with no text at all. Read only when first needed."""

    def __init__(self, record: dict | None, source_sha256: str | None, sidecar: Path | None) -> None:
        self.sidecar = sidecar if record else None
        self.same_pdf = bool(record) and (record.get("output") or {}).get("sha256") == source_sha256
        self._by_number: dict[int, dict] | None = None
        self._by_layer: dict[str, dict] = {}

    def entry(self, page: Page) -> dict | None:
        """The earlier entry that skipped `page` keeps (numbered as it is now), or None."""
        if not page.skipped or self.sidecar is None or not (self.same_pdf or page.layer_sha256):
            return None
        if self._by_number is None:
            self._read()
        assert self._by_number is not None
        by_layer = self._by_layer.get(page.layer_sha256) if page.layer_sha256 else None
        kept = (self.same_pdf and self._by_number.get(page.page)) or by_layer
        if not kept:
            return None
        # A PDF is one source: the index into source.paths of the images a PDF was made from
        # (ocr image A B --pdf) points at nothing in its sidecar
        return {**{key: value for key, value in kept.items() if key != "image"}, "page": page.page}

    def _read(self) -> None:
        self._by_number = {}
        assert self.sidecar is not None
        with contextlib.suppress(OSError, *JSON_ERRORS):  # gone or damaged since: nothing to keep
            for page in sidecar_pages(self.sidecar):
                if isinstance(page, dict) and isinstance(page.get("page"), int) and page.get("lines"):
                    if self.same_pdf:
                        self._by_number[page["page"]] = page
                    if isinstance(layer := page.get("layer_sha256"), str):
                        self._by_layer.setdefault(layer, page)


def earlier_pages(
    record: dict | None, source_sha256: str | None, sidecar: Path | None, source: Path | None
) -> tuple[EarlierPages, ...]:
    """The earlier entries pages not OCRed this time keep (see EarlierPages): those of the output's
    sidecar (`record`, read from `sidecar`), then those of the sidecar beside the PDF `source`
    (None: an image, or standard input), its own if it was OCRed before: `ocr pdf out.pdf -o
    again.pdf` (or `ocr scan` of a folder of outputs) skipped every page for the layer it
    carries, and the new sidecar had no text at all."""
    earlier = [EarlierPages(record, source_sha256, sidecar)]
    own = source.with_suffix(".json") if source is not None else None
    if own is not None and (sidecar is None or os.path.abspath(own) != os.path.abspath(sidecar)):
        earlier.append(EarlierPages(read_sidecar(own, pages=False), source_sha256, own))
    return tuple(earlier)


def page_entry(page: Page, earlier: Sequence[EarlierPages] = ()) -> dict:
    """A page's sidecar entry: an earlier one (see earlier_pages) if it was not OCRed this time."""
    return next(filter(None, (pages.entry(page) for pages in earlier)), None) or page.to_dict()


def _sidecar_shaped(record: object) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("tool"), dict)
        and record["tool"].get("name") == "ocrcli"
        and isinstance(record.get("source"), dict)
        and isinstance(record.get("pages"), list)
        and all(isinstance(record.get(key, {}), dict) for key in ("output", "run"))
    )


def _matches(name: str, relative: str, patterns: list[str]) -> bool:
    """Does a glob match the file or folder's `name`, or its path `relative` to the scanned folder?
    A glob starting `/` or `./` is anchored there, as in .gitignore: it matches the path only
    (`/a.png` is a.png at the top, `./sub/*.png` is sub/*.png); such globs matched nothing."""
    return any(
        _glob(p).fullmatch(relative) or (not p.startswith(_ANCHORS) and _glob(p).fullmatch(name))
        for p in patterns
    )


def _in_matching_folder(relative: str, folder_patterns: list[str]) -> bool:
    """Does a glob (without its trailing `/`) match a folder that the file at `relative` lies in
    (`--include sub/` takes all under sub, as `--exclude sub/` leaves it all out)?"""
    parts = relative.split("/")[:-1]
    return any(_matches(parts[k - 1], "/".join(parts[:k]), folder_patterns) for k in range(1, len(parts) + 1))


_ANCHORS = ("/", "./")


@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as shells and .gitignore read it (not fnmatch, whose `*` crosses `/`: 'sub/*.png'
    took sub/deep/d.png): `*`, `?` and `[...]` stay within one folder's name; `**` as a whole
    part matches across folders, `**/` also no folder at all (`**/*.png` matches `a.png`, and
    `a/**/b.png` matches `a/b.png`). A glob without `/` matches a name at any depth (via the name)."""
    parts = re.sub(r"^(?:\./|/)+", "", pattern).split("/")  # anchored: see _matches
    regex = ""
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _glob_part(part) + ("" if last else "/")
    try:
        return re.compile(regex, re.DOTALL)
    except re.error as exc:  # a reversed range: [z-a]
        raise ValueError(f"bad glob {pattern!r}: {exc}") from exc


def _glob_part(part: str) -> str:
    """One folder's or file's name of a glob as a regular expression. As in bash: `[!...]` and
    `[^...]` negate a set, and a backslash takes the next character as itself (`\\[`)."""
    regex, i = "", 0
    while i < len(part):
        char, i = part[i], i + 1
        if char == "\\" and i < len(part):
            char, i = part[i], i + 1
            regex += re.escape(char)
        elif char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "[" and (end := part.find("]", i + (part[i : i + 1] in ("!", "^")) + 1)) > 0:
            body, i = part[i:end], end + 1
            negated = body[:1] in ("!", "^")
            chars = "".join(c if c == "-" else re.escape(c) for c in body[negated:])
            regex += f"[^/{chars}]" if negated else f"[{chars}]"
        else:
            regex += re.escape(char)
    return regex
