"""ocrcli's CPU time per page as a share of Tesseract's on the same pages and the same machine.

    python benchmarks/vs_tesseract.py [--set docbank] [--limit 20] [--rounds 3] [--tier fast]

This machine's speed drifts: the same build of ocrcli measured 1.37 to 1.75 CPU s/page over 20
docbank pages on one day. A ratio to a fixed reference program run at the same time does not
drift with it. Each round runs, one after the other:
  1. `ocr image <the N files> --json -` in one call (model loading included, as bench_engine.py's
     whole-command figure);
  2. `tesseract FILE - -l eng tsv` once per file, single-threaded (OMP_THREAD_LIMIT=1: with its
     default OpenMP threads Tesseract spins and used 13 CPU s/page here instead of 2).
CPU is user+sys of the children (getrusage). The median ratio over the rounds is reported, and what
it makes of the issue's reference figure for Tesseract (2.5 CPU s/page on docbank), i.e. ocrcli's
CPU s/page on a machine where Tesseract takes that long. Needs `tesseract` (apt: tesseract-ocr).
Not a test: quote the output in notes.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TESSERACT_REFERENCE = 2.5  # CPU s/page on docbank, as the engine issue quotes it


def children_cpu(commands: list[list[str]], env: dict[str, str] | None = None) -> float:
    """User+sys CPU seconds of running `commands` one after the other."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for command in commands:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="docbank")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tier", default="fast")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if shutil.which("tesseract") is None:
        print("vs_tesseract: tesseract is not on PATH (apt-get install tesseract-ocr)", file=sys.stderr)
        return 2
    files = sorted(str(p) for p in (args.data / args.set / "img").iterdir() if p.is_file())[: args.limit]
    ocr = [[sys.executable, "-m", "ocrcli", "image", *files, "--tier", args.tier, "--json", "-"]]
    tesseract = [["tesseract", f, "-", "-l", "eng", "tsv"] for f in files]
    single_thread = dict(os.environ, OMP_THREAD_LIMIT="1")

    print(f"# ocrcli against Tesseract, {len(files)} {args.set} files, tier {args.tier}")
    print(f"- date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    print(f"- load average: {[round(v, 2) for v in os.getloadavg()]}")
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split()
    print(f"- tesseract: {version[1] if len(version) > 1 else 'unknown'}")
    print("\n| round | ocrcli CPU s/page | Tesseract CPU s/page | ratio |\n|---|---:|---:|---:|")
    ratios = []
    for k in range(args.rounds):
        ours = children_cpu(ocr) / len(files)
        theirs = children_cpu(tesseract, single_thread) / len(files)
        ratios.append(ours / theirs)
        print(f"| {k + 1} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3f} |", flush=True)
    ratio = statistics.median(ratios)
    print(
        f"\nmedian ratio {ratio:.3f}: at the issue's Tesseract figure ({TESSERACT_REFERENCE} CPU s/page) "
        f"ocrcli would use {ratio * TESSERACT_REFERENCE:.2f} CPU s/page"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
