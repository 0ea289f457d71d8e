"""Fingerprints of the user's files: a file's sha256, and whether it is still the version read.

Outputs must describe the version of an input they were made from, not one saved over it while
it was read, and `ocr scan` skips documents whose inputs and outputs are as it left them. Both
rest on a hash taken before an input is read, and on a settled stat that tells the same file
later without reading it again (see settled_stat).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence

from ocrcli.errors import CHANGED, GONE, NOT_THE_INPUTS, BadInputError, input_size, reading_input


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_sha256(path: str | os.PathLike, kind: str = "an image file") -> str:
    """The sha256 of an input, taken before it is read (see verify_unchanged); a BadInputError if
    it cannot be read: missing, a folder, a device (hashing /dev/zero never ended), no permission."""
    input_size(path, kind)
    with reading_input(path):
        return file_sha256(path)


def verify_unchanged(
    file: str | os.PathLike,
    sha256: str,
    source: str | os.PathLike | None = None,
    hashed_stat: dict[str, int] | None = None,
) -> None:
    """Raise a BadInputError (kind "changed") naming `source` (default: `file`) unless `file`
    still has the content `sha256` that `source` was read with (see change_since): outputs must
    describe the version they were made from, not one saved over it meanwhile."""
    if change := change_since(file, sha256, hashed_stat):  # GONE was "cannot write" it, exit 5
        raise BadInputError(source or file, change, "changed")


@contextlib.contextmanager
def changes_told(
    sources: Sequence[str | os.PathLike],
    digests: Sequence[str],
    hashed_stats: Sequence[dict[str, int] | None] = (),
) -> Iterator[None]:
    """A failure to read `sources` once one of them is no longer the version hashed (`digests`,
    their stats then `hashed_stats`) is reported as its change (kind "changed"), as ocr scan
    reports it: a PDF saved over in place while it was read made pdfium and qpdf read the new
    bytes at the old offsets, and the run called a sound file corrupt ("broken page tree",
    "incorrect header check"). A file is read again only if its stat changed (see change_since)."""
    try:
        yield
    except Exception as exc:
        if getattr(exc, "kind", None) not in NOT_THE_INPUTS:
            stats = list(hashed_stats) or [None] * len(sources)
            with contextlib.suppress(OSError):  # no telling: the failure stands
                for source, digest, stat in zip(sources, digests, stats, strict=True):
                    verify_unchanged(source, digest, hashed_stat=stat)  # raises a change
        raise


def change_since(
    path: str | os.PathLike, sha256: str, hashed_stat: dict[str, int] | None = None
) -> str | None:
    """How the file at `path` differs from the version hashed as `sha256`: GONE, CHANGED, or None.
    A file whose stat is still `hashed_stat` (see settled_stat) is that version without reading
    it again; otherwise it is hashed again, so a file touched or chmod-ed is still the version
    read. An OSError other than its absence (no permission now) is raised: there is no telling."""
    try:
        if hashed_stat is not None and stat_record(os.stat(path)) == hashed_stat:
            return None
        return None if file_sha256(path) == sha256 else CHANGED
    except (FileNotFoundError, NotADirectoryError):
        return GONE


def stat_record(st: os.stat_result) -> dict[str, int]:
    """What a sidecar records of a file's stat (source.stat, output.stat)."""
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "inode": st.st_ino}


SETTLED_NS = 2_000_000_000  # see settled_stat


def settled_stat(st: os.stat_result, now: int) -> dict[str, int] | None:
    """The stat of a file as it is hashed, which tells the very same file later without reading it
    again (change_since; an input's sidecar records it, source.stat, so that the next run skips
    hashing it: a re-run read every byte of the archive to find nothing to do). Its change time
    (ctime) is in it, which writing to a file sets and nobody can set back (touch and rsync -a set
    mtime only): a file rewritten with its mtime restored, which make and rsync take for
    unchanged, is hashed again. None (hash it) for a file changed in the last SETTLED_NS before
    `now`: changed again within the file system's timestamp granularity it could keep its ctime
    (git's "racy" files)."""
    if st.st_ctime_ns > now - SETTLED_NS:
        return None
    return stat_record(st)
