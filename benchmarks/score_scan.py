"""Accuracy of `ocr scan`'s own output on bench_scan.py's batch, next to Tesseract's on the same pages.

    python benchmarks/score_scan.py OUT_DIR [--tesseract]

OUT_DIR is where bench_scan.py's `ocr scan` wrote the batch (e.g. /tmp/bench_scan/ocrcli-default-out):
the sidecars of docbank-NN.pdf and sroie-NN.pdf are scored with ../shared/tools/score_ocr.py
(`--predictions`) against the ground truth of the first 20 images of each set, the images those
PDFs wrap (at their own pixel size, so the sidecars' pixel boxes are the images'). `--tesseract`
also scores Tesseract 5 (benchmarks/tesseract_json.py, the engine OCRmyPDF runs) on those images.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_scan import DATA, PER_SET, SETS, images

ROOT = Path(__file__).resolve().parents[1]
SCORER = ROOT.parent / "shared" / "tools" / "score_ocr.py"
sys.path.insert(0, str(SCORER.parent))
from score_ocr import normalize  # noqa: E402 - the scorer's own reading of a JSON document


def score(name: str, how: list[str]) -> dict:
    argv = [sys.executable, str(SCORER), str(DATA / name), "--limit", str(PER_SET), "--json", *how]
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def scan_predictions(out_dir: Path, name: str, target: Path) -> None:
    with open(target, "w", encoding="utf-8") as f:
        for number, image in enumerate(images(DATA, name)[:PER_SET], 1):
            sidecar = out_dir / f"{name}-{number:02d}.json"
            pred = normalize(json.loads(sidecar.read_text(encoding="utf-8")))
            f.write(json.dumps({"image": f"img/{image.name}", "pred": pred}, ensure_ascii=False) + "\n")


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--tesseract", action="store_true")
    args = parser.parse_args()
    tesseract = [sys.executable, str(ROOT / "benchmarks" / "tesseract_json.py")]
    print("| set | tool | " + " | ".join(["metrics (score_ocr.py --json)"]) + " |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in SETS:
            predictions = Path(tmp) / f"{name}.jsonl"
            scan_predictions(args.out_dir, name, predictions)
            results = {"ocr scan": score(name, ["--predictions", str(predictions)])}
            if args.tesseract:
                results["tesseract 5"] = score(name, ["--cmd", " ".join(tesseract) + " {paths}"])
            for tool, metrics in results.items():
                shown = {k: v for k, v in metrics.items() if isinstance(v, float | int)}
                print(f"| {name} | {tool} | {json.dumps(shown)} |")


if __name__ == "__main__":
    main()
