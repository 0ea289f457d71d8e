"""Score examples/receipt_totals.py against SROIE's key fields (total and date), on ocrcli's JSON
Lines of the receipts, as produced by:

    ocr image ../shared/data/sroie/img/*.jpg --json - > sroie.jsonl
    python benchmarks/receipt_totals_score.py sroie.jsonl

Prints each receipt the script gets wrong, then how many totals and dates it got right. An amount
counts as right when it is the same number ("RM7.70" is 7.70); a date when its day, month and year
are (25/12/2018, 25-12-18).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT.parent / "shared" / "data" / "sroie" / "gt.jsonl"


def number(text: str | None) -> float | None:
    digits = re.sub(r"[^\d.,]", "", text or "")
    if not digits:
        return None
    try:
        return float(re.sub(r"[.,](?=\d{3}\b)", "", digits).replace(",", "."))
    except ValueError:
        return None


def day(text: str | None) -> tuple[int, int, int] | None:
    found = re.search(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", text or "")
    if not found:
        return None
    d, m, y = (int(part) for part in found.groups())
    return d, m, y % 100


def main() -> None:
    truth = {Path(r["image"]).name: r["key"] for r in map(json.loads, TRUTH.read_text().splitlines())}
    found = subprocess.run(
        [sys.executable, ROOT / "examples" / "receipt_totals.py"],
        stdin=open(sys.argv[1]),  # noqa: SIM115 - closed with the process
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    totals = dates = count = 0
    for result in map(json.loads, found.splitlines()):
        key = truth[Path(result["source"]).name]
        count += 1
        right_total = number(result["total"]) == number(key["total"])
        right_date = day(result["date"]) == day(key["date"])
        totals += right_total
        dates += right_date
        if not (right_total and right_date):
            print(
                f"{Path(result['source']).name}: total {result['total']} (truth {key['total']}), "
                f"date {result['date']} (truth {key['date']})"
            )
    print(f"totals right: {totals} of {count}; dates right: {dates} of {count}")


if __name__ == "__main__":
    main()
