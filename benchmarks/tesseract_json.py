"""Tesseract's reading of images as ocrcli-style JSON Lines, for ../shared/tools/score_ocr.py.

    score_ocr.py ../shared/data/docbank --limit 20 --cmd 'python benchmarks/tesseract_json.py {paths}'

Runs `tesseract IMAGE - tsv` (the same engine OCRmyPDF drives; default settings, `-l eng`) and
groups its words into lines by (block, paragraph, line), so the scorer sees what Tesseract read,
with its boxes, in its own order. Needs `tesseract` on PATH.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys


def tesseract_document(path: str) -> dict:
    tsv = subprocess.run(
        ["tesseract", path, "-", "-l", "eng", "tsv"], capture_output=True, text=True, check=True
    ).stdout
    lines: dict[tuple[str, ...], list[dict]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row["level"] != "5" or not text:
            continue
        x, y, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        lines.setdefault(key, []).append(
            {"text": text, "box": [x, y, x + w, y + h], "confidence": float(row["conf"]) / 100}
        )
    return {
        "source": {"path": path},
        "pages": [
            {
                "lines": [
                    {
                        "text": " ".join(w["text"] for w in words),
                        "box": [
                            min(w["box"][0] for w in words),
                            min(w["box"][1] for w in words),
                            max(w["box"][2] for w in words),
                            max(w["box"][3] for w in words),
                        ],
                        "words": words,
                    }
                    for words in lines.values()
                ]
            }
        ],
    }


if __name__ == "__main__":
    for image in sys.argv[1:]:
        print(json.dumps(tesseract_document(image), ensure_ascii=False), flush=True)
