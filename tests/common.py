"""What the test files share: where things are, the `ocr` command run as a user runs it, poppler's
pdftotext and file hashes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
DATA = ROOT.parent / "shared" / "data"  # the shared evaluation data, beside the repository
TESS = DATA / "tess" / "img"
OCR = [sys.executable, "-m", "ocrcli"]
SCHEMA = json.loads((ROOT / "ocrcli" / "document.schema.json").read_text())  # of the JSON document


def ocr(
    *args: object, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    """`ocr ARGS...` in a process of its own, its stdout and stderr as text."""
    return subprocess.run(
        [*OCR, *map(str, args)], capture_output=True, text=True, input=stdin, env=env, timeout=timeout
    )


def pdftotext(path: Path, *options: str, page: int | None = None) -> str:
    """The text poppler's pdftotext extracts (of one page, if given), with `options`."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    run = subprocess.run(
        ["pdftotext", *options, *pages, str(path), "-"], capture_output=True, text=True, check=True
    )
    return run.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(folder: Path) -> dict[str, str]:
    """Each file under `folder` (by its relative path) with its sha256."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def raised_as_another_user(folder: Path, read: Callable[[], object]) -> str:
    """What `read` raises (its str), run in a child process that has become user nobody in
    `folder`: a permission test must not be skipped when the suite runs as root, who reads
    anything. `read` names its files relative to `folder`: the folders above are root's alone."""
    folder.chmod(0o755)
    told = folder / "raised.txt"
    told.touch()
    told.chmod(0o666)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(folder)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                read()
            except Exception as exc:  # noqa: BLE001 - the test judges what was raised
                Path("raised.txt").write_text(f"{type(exc).__name__}: {exc}")
                code = 0
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, "nothing was raised"
    return told.read_text()
