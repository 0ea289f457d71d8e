"""Replace a file atomically: write beside it, verify, fsync, rename over it.

Until the final rename the destination is untouched, and the rename either happens whole or not
at all, so an exception, Ctrl-C, kill -9 or a full disk at any moment leaves the old file as it
was. Temporary files are named `.NAME.*.ocrcli-tmp` (NAME cut to 100 bytes); one is left behind
only if the process is killed outright.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import struct
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrcli.errors import OutputError, on_stop_signals, one_line

TEMP_SUFFIX = ".ocrcli-tmp"
# Errors only writing can cause: always the output's, whatever file the error names (pikepdf names
# its stream, "<_io.BufferedWriter name='...'>", not a path).
_WRITING_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# How much of the destination's name the temporary file's name repeats: a name may take the whole
# 255 bytes a file system allows, and ".NAME.xxxxxxxx.ocrcli-tmp" must still fit.
TEMP_NAME_BYTES = 100
_ACL_GROUP_OBJ = 0x04  # the file's own group, in a POSIX ACL (system.posix_acl_access)
_replacements: Counter[Path] = Counter()  # per destination, counted just before each rename
# Per destination checked before the work as one to write (see claim): what was there then
_claimed: dict[Path, tuple[int, int, int] | None] = {}


def wrote_anything() -> bool:
    """Has this process replaced any file yet (see replacements)?"""
    return any(count > 0 for count in _replacements.values())


def replacements(dest: str | os.PathLike) -> int:
    """How many times this process has replaced `dest`: a caller that sees the count grow knows
    the file was written, and that an interrupt from then on comes too late to stop that."""
    return _replacements[_entry(Path(dest))]


def claim(dest: str | os.PathLike) -> None:
    """Note what is at `dest` now, when it has been checked as an output this run may write (none,
    or a file it may replace): if something else is there when the output is renamed over it (a
    user's own file saved there while the pages were read), the write is refused. The checks
    before the work found the name free, and the user's file was replaced, with exit 0."""
    dest = Path(dest)
    with contextlib.suppress(OSError):  # a folder on the way that cannot be searched: the write says so
        _claimed[_entry(dest)] = _state(dest)


def empty_file(path: Path) -> bool:
    """Is there an empty regular file at `path`? One at an output's path is replaced, whatever
    output goes there: nothing is lost."""
    try:
        st = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == 0


def _state(path: Path) -> tuple[int, int, int] | None:
    """What is at `path`, as far as telling it changed goes (None: nothing)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _entry(dest: Path) -> Path:
    """The directory entry a rename to `dest` replaces: a symlink itself, not its target."""
    return dest.parent.resolve() / dest.name


def write_atomically(
    dest: str | os.PathLike,
    write: Callable[[Path], None],
    verify: Callable[[Path], None] | None = None,
    made_from: Sequence[str | os.PathLike] = (),
    private: bool = False,
) -> None:
    """`write(tmp)` then `verify(tmp)` (raise to refuse), then move tmp over `dest`, with the
    permissions of `output_mode`. An OSError on the way (no space, no permission) becomes an
    OutputError naming `dest`."""
    dest = Path(dest)
    try:
        _write_atomically(dest, write, verify, made_from, private)
    except OSError as exc:
        if not _about_output(exc, dest):
            raise  # about another file (the source being copied): not the output's fault
        reason = exc.strerror if exc.errno in _WRITING_ERRORS and exc.strerror else one_line(exc)
        if isinstance(exc, (FileExistsError, NotADirectoryError)) and (file := _file_in_the_way(dest)):
            reason = f"{file} is a file, not a folder"  # was "[Errno 17] File exists: 'out/sub'"
        elif isinstance(exc, IsADirectoryError) and dest.is_dir():  # made there while we wrote
            reason = f"{dest} is a folder, not a file"
        elif exc.strerror and os.fsdecode(exc.filename or "").endswith(TEMP_SUFFIX):
            reason = exc.strerror  # its name, made up and gone, told users nothing (and grouped nothing)
        raise OutputError(dest, reason) from exc


def _file_in_the_way(dest: Path) -> Path | None:
    """The file, if any, where a folder on the way to `dest` should be."""
    return next((folder for folder in reversed(dest.parents) if folder.is_file()), None)


def link_leading_nowhere(folder: Path) -> str | None:
    """Why `folder`, or one on the way to it, can be neither made nor written into: a symbolic
    link to nothing there (a drive not mounted, a loop), which a missing folder's check took for
    one to make; mkdir then failed, "[Errno 17] File exists", once the work was done. Or None."""
    for link in [*reversed(folder.parents), folder]:
        if link.is_symlink() and not link.exists():
            try:
                target = os.readlink(link)
            except OSError:  # gone meanwhile
                continue
            return f"{link} is a link to {target}, which is not there"
    return None


def unsearchable(path: Path) -> Path | None:
    """The folder on the way to `path` that cannot be searched (no execute permission), so that
    nothing in it can even be looked up (pathlib's exists() raised PermissionError: a traceback);
    or None."""
    try:
        os.stat(path)
    except PermissionError:
        return _closed_on_the_way(Path(path)) or Path(path).parent
    except (OSError, ValueError):  # missing, a name too long, a NUL in it: for others to tell
        pass
    return None


def _closed_on_the_way(path: Path) -> Path | None:
    """The first folder that cannot be searched on the way to `path`, walked as the system walks
    it: from the path as given (from the working folder, if relative: a folder above that may be
    closed to its user, let in before it was closed), into each link's target (a link into a
    closed folder: its own folder, which can be searched, was named)."""
    parts, folder, links = list(path.parts), Path(), 0
    while parts:
        if not os.access(folder, os.X_OK):
            return folder
        part = parts.pop(0)
        if part == ".." and folder.name not in ("", ".."):  # no link left in `folder`: its parent
            folder = folder.parent
            continue
        step = folder / part
        if links < 40 and os.path.islink(step):
            links += 1
            target = Path(os.readlink(step))
            parts[:0] = target.parts
            folder = Path(target.anchor) if target.is_absolute() else folder
        else:
            folder = step
    return None


def nearest_existing(folder: Path) -> Path:
    """`folder`, or if it is missing (missing folders are made when an output is written), its
    nearest parent that exists."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def why_unwritable(dest: Path) -> str | None:
    """Why `dest` could not be written, if that is plain before any work is done: a file where a
    folder on its way should be, a folder on its way that cannot be searched, or a nearest folder
    that cannot be written (read-only); or the system's error looking (a path over PATH_MAX,
    whose check raised, and failed the document as its input's fault)."""
    try:
        return _why_unwritable(dest)
    except OSError as exc:
        return exc.strerror or one_line(exc)


def _why_unwritable(dest: Path) -> str | None:
    if blocked := unsearchable(dest):
        return f"{blocked} is a folder that cannot be searched"
    if file := _file_in_the_way(dest):
        return f"{file} is a file, not a folder"
    return why_folder_unwritable(dest.parent)


def why_folder_unwritable(folder: Path) -> str | None:
    """Why no file can be made in `folder` (made first if missing): a link on the way to it that
    leads nowhere, or the nearest folder of it there is not one that can be written. Or None."""
    if link := link_leading_nowhere(folder):
        return link
    nearest = nearest_existing(folder)
    if not nearest.is_dir():
        return f"{nearest} is a file, not a folder"
    if not os.access(nearest, os.W_OK | os.X_OK):
        return f"{nearest} is not a folder that can be written"
    return None


def _about_output(exc: OSError, dest: Path) -> bool:
    """Is the error about writing `dest`: no file named, or `dest`, its temporary file beside it,
    or a folder on its way? Compared as absolute paths: tempfile names the temporary file so
    even when `dest` is relative (`ocr pdf scans/a.pdf --in-place`)."""
    if exc.filename is None or exc.errno in _WRITING_ERRORS:
        return True
    about = Path(os.path.abspath(os.fsdecode(exc.filename)))
    output = Path(os.path.abspath(dest))
    return about.parent == output.parent or about in output.parents


def _write_atomically(
    dest: Path,
    write: Callable[[Path], None],
    verify: Callable[[Path], None] | None,
    made_from: Sequence[str | os.PathLike],
    private: bool = False,
) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    prefix = os.fsdecode(os.fsencode(dest.name)[:TEMP_NAME_BYTES])
    # Before the temporary file is made: an interrupt in it (it resolves the folder) left the
    # file behind, empty, after "interrupted; nothing was written"
    entry, renaming = _entry(dest), False
    fd, name = tempfile.mkstemp(prefix=f".{prefix}.", suffix=TEMP_SUFFIX, dir=dest.parent)
    tmp = Path(name)
    try:
        os.close(fd)
        write(tmp)
        # Before the fsync, which then makes the owner and mode durable too; read-only, as the
        # mode may now be (0444: a read-only file replaced in place).
        _copy_mode(dest, tmp, made_from, private)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        # Last before the rename, after the fsync (which takes long on a slow disk): a source
        # saved over in the meantime was replaced by the output made from its older version.
        if verify is not None:
            verify(tmp)
        if entry in _claimed and _state(dest) != _claimed[entry]:
            made = "a folder was made" if dest.is_dir() else "a file was saved"
            raise OutputError(dest, f"{made} there while this run went on; leaving it")
        # Counted before the rename (see replacements), taken back if the rename fails.
        _replacements[entry] += 1
        renaming = True
        os.replace(tmp, dest)
        renaming = False
        if entry in _claimed:
            _claimed[entry] = _state(dest)  # ours now: this run may write it again
    except BaseException:
        if renaming:
            _replacements[entry] -= 1
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(dest.parent)


def write_bytes_atomically(
    dest: str | os.PathLike, data: bytes, made_from: Sequence[str | os.PathLike] = (), private: bool = False
) -> None:
    write_atomically(dest, lambda tmp: tmp.write_bytes(data), made_from=made_from, private=private)


def write_output(
    dest: str | os.PathLike, data: bytes, made_from: Sequence[str | os.PathLike] = (), private: bool = False
) -> None:
    """A whole output file, made from the files `made_from` (see output_mode): written
    atomically, except into an existing file that is not a regular file (/dev/null, a named pipe,
    /dev/stdout), which is written into as it is: renaming over it would replace the device or
    pipe itself."""
    dest = Path(dest)
    if not dest.exists() or dest.is_file():
        write_bytes_atomically(dest, data, made_from, private)
        return
    try:
        with open(dest, "wb", opener=open_into) as f:
            f.write(data)
    except OSError as exc:
        raise OutputError(dest, one_line(exc)) from exc


def open_into(path: str | os.PathLike, flags: int, mode: int = 0o666) -> int:
    """os.open to write into an output that is not replaced (the --json stream, /dev/null, a named
    pipe), following a symbolic link only if we or the owner of its folder made it, as Linux's
    fs.protected_symlinks does in sticky folders: in a folder others may write to, anyone could
    leave `report.jsonl -> /etc/passwd` (or a disk's device) where root's run then wrote its JSON,
    over the file's content."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, mode)
    except OSError:  # ELOOP, for a link; some kernels say EACCES
        try:
            link = os.lstat(path)
        except OSError:
            link = None
        if link is None or not stat.S_ISLNK(link.st_mode):
            raise
    owner = link.st_uid
    if owner not in (os.geteuid(), os.stat(os.path.dirname(os.path.abspath(path))).st_uid):
        raise PermissionError(errno.EPERM, f"a link made by another user (uid {owner}): not followed", path)
    return os.open(path, flags, mode)


def output_mode(dest: Path, made_from: Sequence[str | os.PathLike] = (), private: bool = False) -> int:
    """The permissions a file written to `dest` gets: the old file's, or for a new one the umask's
    default; and group and others get no more than each file it is `made_from` gives them, and
    nothing if it is `private` (the text of a PDF only its password opens). A private (0600)
    scan's PDF and sidecar came out 0644: its text readable by everyone."""
    try:
        mode = stat.S_IMODE(dest.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    for source in made_from:
        with contextlib.suppress(OSError):  # gone meanwhile: it has nothing left to protect
            mode &= _permissions(source, dest) | stat.S_IRWXU | ~0o777
    return mode & ~0o077 if private else mode


def _permissions(source: str | os.PathLike, dest: Path) -> int:
    """`source`'s permission bits, the group's being its own group's access: with a POSIX ACL the
    mode's group bits are the ACL's mask, what the users and groups it names get at most, and its
    own group may get less (setfacl -m u:bob:rw,g::---, mode 0660: its PDF and sidecar were 0640).
    Replaced in place, a file keeps its ACL (see _copy_attributes), and its mask."""
    mode = stat.S_IMODE(os.stat(source).st_mode)
    if dest.exists() and dest.samefile(source):
        return mode
    with contextlib.suppress(OSError, AttributeError):  # no ACL, or no xattrs here (not Linux)
        acl = os.getxattr(source, "system.posix_acl_access")
        # acl_ea.h: a version (4 bytes), then entries of tag, permissions (2 bytes each), id
        for tag, permissions, _ in struct.iter_unpack("<HHI", acl[4:]):
            if tag == _ACL_GROUP_OBJ:
                mode = mode & ~0o070 | (permissions << 3) & mode
    return mode


def _copy_mode(dest: Path, tmp: Path, made_from: Sequence[str | os.PathLike], private: bool = False) -> None:
    """The new file gets output_mode and, replacing an old one, where allowed, its owner and
    group (a scan folder shared through its group: a file replaced by another user, or root,
    became theirs alone), and its extended attributes (see _copy_attributes), unless they were
    set by someone the inputs are not for (see _may_carry_over)."""
    mode = output_mode(dest, made_from, private)
    with contextlib.suppress(FileNotFoundError):
        old = dest.stat()
        if _may_carry_over(dest, old, made_from):
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except PermissionError:  # only root may give a file away; its group, any member of it
                with contextlib.suppress(PermissionError):
                    os.chown(tmp, -1, old.st_gid)
            _copy_attributes(dest, tmp)
    os.chmod(tmp, mode)  # after chown, which clears set-user-ID bits, and the ACL, whose mask it sets


def _may_carry_over(dest: Path, old: os.stat_result, made_from: Sequence[str | os.PathLike]) -> bool:
    """May the new file take the old one's owner, group, ACL and user.* attributes? Only if whoever
    set them may read the inputs anyway: the old file is an input itself (in place), or is ours or
    that of every input's owner (or a link to such a file). Anyone else who can create a file in a
    shared folder could leave a sidecar-shaped NAME.json of their own (or a link to one) where a
    private scan's sidecar goes, and root's run gave them the new file, and so its text."""
    sources = []
    for source in made_from:
        with contextlib.suppress(OSError):  # gone meanwhile: it has nothing left to protect
            sources.append(os.stat(source))
    if any(os.path.samestat(old, source) for source in sources):
        return True
    owners = {os.lstat(dest).st_uid, old.st_uid}
    return all(owner == os.geteuid() or all(owner == s.st_uid for s in sources) for owner in owners)


def _copy_attributes(dest: Path, tmp: Path) -> None:
    """The old file's access ACL and user.* attributes (a desktop's tags, the URL it came from),
    as editors and `cp -a` keep them: the ACL was lost, so the users it named could no longer
    open the file and its group got the mask's access (setfacl's). Others (security.*, trusted.*)
    are not the user's to carry over. Where a file system has none, there is nothing to copy."""
    if not hasattr(os, "listxattr"):  # Linux only
        return
    try:
        names = os.listxattr(dest)
    except OSError:
        return
    for name in names:
        if name == "system.posix_acl_access" or name.startswith("user."):
            with contextlib.suppress(OSError):  # gone meanwhile, or the new file cannot take it
                os.setxattr(tmp, name, os.getxattr(dest, name))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class WriteGuard:
    """What interrupts_until_written saw: `finished` is set by the caller when its output is final
    without a write; `held` is whether an interrupt came too late to stop it."""

    finished: bool = False
    held: bool = field(default=False, init=False)


@contextlib.contextmanager
def interrupts_until_written(dest: Path, on_late: Callable[[], None] | None = None) -> Iterator[WriteGuard]:
    """Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt as usual until `dest` is replaced (or the caller
    sets `finished`); from then on they are held (`on_late` is called), so that the files that go
    with it (its sidecar) are written too: stopping there would leave a written PDF without its
    sidecar, and a message saying nothing was written. The caller decides what a held interrupt
    means once its block is done. Outside the main thread, signals cannot be caught: no change."""
    guard = WriteGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    before = replacements(dest)

    def interrupt(signum: int, frame: Any) -> None:
        if not guard.finished and replacements(dest) == before:
            raise KeyboardInterrupt
        guard.held = True
        if on_late is not None:
            on_late()

    previous = on_stop_signals(interrupt)
    try:
        yield guard
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
