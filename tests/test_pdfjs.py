"""A fourth extractor that no one here wrote: Mozilla pdf.js (Firefox's viewer), run with node,
reads the text layer of the tess and docbank outputs with word recall >= 0.98."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from common import DATA
from pdfjs import pdfjs_page_texts

IMAGES = sorted((DATA / "tess" / "img").iterdir()) + sorted((DATA / "docbank" / "img").iterdir())[:10]


def tokens(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).split()


@pytest.mark.parametrize("image", IMAGES, ids=lambda p: p.stem[:24])
def test_pdfjs_finds_the_words(tmp_path: Path, image: Path) -> None:
    out = tmp_path / "out.pdf"
    run = subprocess.run(
        [sys.executable, "-m", "ocrcli", "image", str(image), "--pdf", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    sidecar = json.loads(out.with_suffix(".json").read_text())
    expected = Counter(
        t for page in sidecar["pages"] for ln in page["lines"] for w in ln["words"] for t in tokens(w["text"])
    )
    assert sum(expected.values()) > 20
    # pdf.js's text items in order, a space between items and a newline where it marks a line end.
    found = Counter(t for page in pdfjs_page_texts(out) for t in tokens(page))
    recall = sum((expected & found).values()) / sum(expected.values())
    assert recall >= 0.98, f"recall {recall:.3f}"
