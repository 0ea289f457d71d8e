"""ocrcli's CPU time per page as a share of Tesseract's on the same pages and the same machine.

    python benchmarks/vs_tesseract.py [--set docbank] [--limit 20] [--rounds 3] [--tier fast]

This machine's speed drifts: the same build of ocrcli measured 1.37 to 1.75 CPU s/page over 20
docbank pages on one day. A ratio to a fixed reference program run at the same time does not
drift with it. Each round runs, one after the other:
  1. `ocr image <the N files> --json -` in one call (model loading included, as bench_engine.py's
     whole-command figure);
  2. `tesseract FILE - -l eng tsv` once per file, single-threaded (OMP_THREAD_LIMIT=1: with its
     default OpenMP threads Tesseract spins and used 13 CPU s/page here instead of 2).
CPU is user+sys of each command alone (os.wait4, through bench_engine.run_measured). The median
ratio over the rounds is reported, and what it makes of the issue's reference figure for Tesseract
(2.5 CPU s/page on docbank), i.e. ocrcli's CPU s/page on a machine where Tesseract takes that long.
Needs `tesseract` (apt: tesseract-ocr).
Not a test: quote the output in notes.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench_engine import DATA, image_files, ocr_command, run_measured

TESSERACT_REFERENCE = 2.5  # CPU s/page on docbank, as the engine issue quotes it


def cpu_s(commands: list[list[str]]) -> float:
    """User+sys CPU seconds of running `commands` one after the other, each measured as
    bench_engine measures its whole command (os.wait4 on exactly that process)."""
    total = 0.0
    for command in commands:
        run = run_measured(command, Path(os.devnull))
        if run.returncode != 0:
            sys.exit(f"vs_tesseract: {command[0]} exited {run.returncode}: {run.stderr_tail[-300:]}")
        total += run.cpu_s
    return total


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
    files = [str(p) for p in image_files(args.data, args.set, args.limit)]
    ocr = [[ocr_command(), "image", *files, "--tier", args.tier, "--json", "-"]]
    # `env` execs tesseract, so os.wait4 still measures tesseract itself.
    tesseract = [["env", "OMP_THREAD_LIMIT=1", "tesseract", f, "-", "-l", "eng", "tsv"] for f in files]

    print(f"# ocrcli against Tesseract, {len(files)} {args.set} files, tier {args.tier}")
    print(f"- date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    print(f"- load average: {[round(v, 2) for v in os.getloadavg()]}")
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split()
    print(f"- tesseract: {version[1] if len(version) > 1 else 'unknown'}")
    print("\n| round | ocrcli CPU s/page | Tesseract CPU s/page | ratio |\n|---|---:|---:|---:|")
    ratios = []
    for k in range(args.rounds):
        ours = cpu_s(ocr) / len(files)
        theirs = cpu_s(tesseract) / len(files)
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
