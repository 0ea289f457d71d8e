"""What the test files share: where things are, the `ocr` command run as a user runs it, poppler's
pdftotext and file hashes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
DATA = ROOT.parent / "shared" / "data"  # the shared evaluation data, beside the repository
TESS = DATA / "tess" / "img"
OCR = [sys.executable, "-m", "ocrcli"]


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
