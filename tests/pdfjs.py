"""Text of a PDF as Mozilla's pdf.js (Firefox's PDF viewer) extracts it: a helper for the tests.

Runs tests/js/pdfjs_text.mjs with node; pdfjs-dist is installed by `npm ci --prefix tests/js`.
A missing node or pdfjs-dist is an error, never a skip: the tests that use this must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Literal

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "pdfjs_text.mjs"
PDFJS_DIR = JS_DIR / "node_modules" / "pdfjs-dist"
TIMEOUT_S = 120
INSTALL_HINT = "run `npm ci --prefix tests/js` from the repository root (needs node and npm)"


def pdfjs_page_texts(
    pdf_path: str | os.PathLike[str], *, join: Literal["spaced", "firefox"] = "spaced"
) -> list[str]:
    """The text of each page of `pdf_path` as pdf.js extracts it, one string per page.

    Items of a page's text content are joined in order with a newline where pdf.js marks an end of
    line; `join` says what goes between other items: "spaced", a single space (none where either side
    already has whitespace or an item is empty); "firefox", nothing, as Firefox's find and copy do.
    pdf.js normalizes ligatures and other compatibility characters ("ﬁ" comes out as "fi").

    Raises RuntimeError if node or pdfjs-dist is missing, or if pdf.js cannot open the PDF or
    extract a page (the message has the script's one-line error).
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(f"pdf.js text extraction needs node on PATH; install Node.js, then {INSTALL_HINT}")
    if not (PDFJS_DIR / "package.json").is_file():
        raise RuntimeError(f"pdf.js text extraction needs pdfjs-dist in {PDFJS_DIR}: {INSTALL_HINT}")
    command = [node, str(SCRIPT), f"--join={join}", os.fspath(pdf_path)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(f"pdf.js text extraction of {pdf_path} took over {TIMEOUT_S} s") from err
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit code {result.returncode}"
        raise RuntimeError(f"pdf.js text extraction of {pdf_path} failed: {message}")
    try:
        pages = json.loads(result.stdout)["pages"]
    except (ValueError, KeyError, TypeError):
        pages = None
    if not isinstance(pages, list) or not all(isinstance(page, str) for page in pages):
        raise RuntimeError(
            f"pdf.js text extraction of {pdf_path} printed no page list: {result.stdout[:200]!r}"
        )
    return pages
