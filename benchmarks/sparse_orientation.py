"""Page orientation on sparse pages: one to three lines cut from real pages, upright and upside down.

    python benchmarks/sparse_orientation.py [--sets tess:0:8,docbank:0:10,sroie:0:10] [--seed 7]
                                            [--keep DIR]

For each page of the chosen ranges (SET:FIRST:END, files sorted by name; the rotated phototest
copies are left out) with at least four lines, `ocr image` finds the lines; then, for 1, 2 and 3
consecutive lines from two random starting lines, the lines' box (plus 8 px) is pasted at its
place on a white page of the original's size, saved upright and turned 180 degrees. All those
pages go through one `ocr image --json -` call, and the script counts the orientation decided
against the true one. The bar: no upright page turned. The classifier sees a nearly blank centre
on such pages, and fewer than four lines cannot outvote it (see ocrcli.orientation).

The thresholds (ocrcli.orientation.turned_by_reading) were set on the default ranges and on
`--sets docbank:10:30,sroie:10:30 --seed 11`; `--sets docbank:30:60,sroie:30:40 --seed 23` was
kept apart to check them. Not a test: quote the output in notes.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OCR = [sys.executable, "-m", "ocrcli", "image"]


def source_pages(specs: str) -> list[Path]:
    pages = []
    for spec in specs.split(","):
        name, first, end = spec.split(":")
        files = sorted((DATA / name / "img").iterdir())[int(first) : int(end)]
        pages += [f for f in files if "rotated" not in f.name]
    return pages


def read(paths: list[Path]) -> list[dict]:
    run = subprocess.run([*OCR, *map(str, paths), "--json", "-"], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in run.stdout.splitlines()]


def cut_pages(pages: list[Path], seed: int, out: Path) -> list[tuple[Path, int]]:
    """(page file, its true orientation) for every cut page, written into `out`."""
    rng = random.Random(seed)
    made = []
    for path, doc in zip(pages, read(pages), strict=True):
        page, lines = doc["pages"][0], doc["pages"][0]["lines"]
        if len(lines) < 4:
            continue
        with Image.open(path) as image:
            image.seek(0)
            original = image.convert("RGB")
        for count in (1, 2, 3):
            for start in rng.sample(range(len(lines) - count), min(2, len(lines) - count)):
                chosen = lines[start : start + count]
                box = [
                    round(f(line["box"][k] for line in chosen) + pad)
                    for k, f, pad in ((0, min, -8), (1, min, -8), (2, max, 8), (3, max, 8))
                ]
                sheet = Image.new("RGB", original.size, "white")
                sheet.paste(original.crop(box), box[:2])
                for degrees in (0, 180):
                    name = out / f"{path.stem}_{count}lines_{start}_{degrees}.png"
                    sheet.rotate(degrees).save(name, dpi=(page["dpi"] or 300,) * 2)
                    made.append((name, degrees))
    return made


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--sets", default="tess:0:8,docbank:0:10,sroie:0:10")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the cut pages here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        made = cut_pages(source_pages(args.sets), args.seed, out)
        decided = [doc["pages"][0]["orientation"] for doc in read([path for path, _ in made])]
    counts = collections.Counter((truth, got) for (_, truth), got in zip(made, decided, strict=True))
    print(f"# sparse pages: {len(made)} from {args.sets}, seed {args.seed}")
    for truth in (0, 180):
        total = sum(n for (t, _), n in counts.items() if t == truth)
        right = counts[(truth, truth)]
        print(
            f"- {'upright' if truth == 0 else 'upside down'}: {right} of {total} read as such; "
            f"decided: {dict(sorted((g, n) for (t, g), n in counts.items() if t == truth))}"
        )


if __name__ == "__main__":
    main()
