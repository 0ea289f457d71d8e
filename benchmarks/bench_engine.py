"""Speed and memory of the OCR engine on real pages: figures to quote in issue notes, never a test.

Four measurements, run from the project root:

    python benchmarks/bench_engine.py [--set docbank|sroie|tess] [--limit 20] [--tier fast|accurate]
                                      [--huge] [--repeat 3] [--json FILE]
                                      [--data ../shared/data]

1. Whole command: `ocr image <N files> --json -` as one subprocess; its user+sys CPU seconds, wall
   time and peak RSS come from os.wait4, so model loading, imports and JSON writing are included.
   It runs --repeat times (default 3); the run with the median CPU time is reported.
   This is the figure of the bar "<= 1.6 CPU s per page over 20 docbank pages, in one call".
2. In process: Engine construction (model loading), image decoding, and Engine.read_page per page,
   with CPU time per pipeline stage and per model's inference (ocrcli.runtime.Model.__call__ is
   patched at class level, so the lazily loaded reviewer is covered too).
3. Memory: peak RSS of a fresh process that loads the engine and reads one docbank page.
4. --huge: `ocr image` on a synthetic 9000 x 9000 px page (a docbank page tiled).

--limit counts image files (the first ones by name); figures are per page (a TIFF may hold several).
The machine may be shared: every figure is one noisy sample. Check the load average in the header.
See benchmarks/README.md for what each figure means. Quote them in issue notes; never assert them
in unit tests.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import onnxruntime
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ocrcli  # noqa: E402
from ocrcli import pipeline, runtime  # noqa: E402
from ocrcli.imageio import SUPPORTED_SUFFIXES, count_pages, load_pages  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = ("docbank", "sroie", "tess")
HUGE_SIDE = 9000
MODEL_ATTRIBUTES = ("page_classifier", "line_classifier", "detector", "recognizer")

# Run in a fresh interpreter: load the engine, read every page of one file, print peak RSS (KB).
ONE_PAGE_SCRIPT = """
import json, resource, sys
from ocrcli.imageio import load_pages
from ocrcli.pipeline import Engine
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
imported = peak()
engine = Engine(sys.argv[2])
loaded = peak()
lines = sum(len(engine.read_page(f.image, f.index + 1, f.dpi).lines) for f in load_pages(sys.argv[1]))
print(json.dumps({"after_imports_kb": imported, "after_engine_kb": loaded, "peak_kb": peak(),
                  "lines": lines}))
"""


# --- subprocesses ---------------------------------------------------------------------------------


@dataclass
class CommandRun:
    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float  # ru_maxrss of the child (KB on Linux)
    stderr_tail: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


# Measured commands are started by this small, fresh interpreter, never by the benchmark itself: on
# Linux exec() records the high-water RSS of the address space it replaces, so a child forked from a
# process that has loaded models and decoded pages would report that process's peak as its own.
RUNNER_SCRIPT = """
import json, os, subprocess, sys, time
argv = json.loads(sys.argv[1])
with open(sys.argv[2], "wb") as out:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
print(json.dumps({"returncode": proc.returncode, "wall_s": wall, "user_s": usage.ru_utime,
                  "sys_s": usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def run_measured(argv: list[str], stdout: Path) -> CommandRun:
    """Run argv with stdout into a file; resource usage of exactly that child (os.wait4)."""
    with tempfile.TemporaryFile() as err:
        runner = [sys.executable, "-c", RUNNER_SCRIPT, json.dumps(argv), str(stdout)]
        done = subprocess.run(runner, stdout=subprocess.PIPE, stderr=err, check=True)
        err.seek(0)
        stderr_tail = err.read().decode(errors="replace")[-2000:]
    return CommandRun(argv=argv, stderr_tail=stderr_tail, **json.loads(done.stdout))


def ocr_command() -> str:
    found = shutil.which("ocr", path=str(Path(sys.executable).parent)) or shutil.which("ocr")
    if found is None:
        sys.exit("bench_engine: the `ocr` command is not installed (pip install -e . in this venv)")
    return found


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summarise_documents(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Pages, lines and errors in `ocr image` output, plus the engine's own wall timings per stage."""
    pages = [page for doc in docs for page in doc.get("pages", [])]
    stages: dict[str, float] = defaultdict(float)
    for page in pages:
        for stage, seconds in page.get("timings", {}).items():
            stages[stage] += seconds
    return {
        "documents": len(docs),
        "errors": [doc["error"]["message"] for doc in docs if "error" in doc],
        "pages": len(pages),
        "lines": sum(len(page["lines"]) for page in pages),
        "stage_wall_s": dict(stages),
    }


def bench_command(
    ocr: str, paths: Sequence[Path], tier: str, pages: int, workdir: Path, repeat: int
) -> dict[str, Any]:
    """The command run `repeat` times; figures are those of the run with the median CPU time (the
    upper middle one for an even count: a shared machine's speed drifts by 10 % from one minute to
    the next)."""
    out = workdir / "command.jsonl"
    argv = [ocr, "image", *map(str, paths), "--tier", tier, "--json", "-"]
    runs = sorted((run_measured(argv, out) for _ in range(repeat)), key=lambda r: r.cpu_s)
    run = runs[len(runs) // 2]
    docs = summarise_documents(read_jsonl(out)) if out.stat().st_size else {}
    return {
        "run": asdict(run),
        "runs_cpu_s_per_page": [r.cpu_s / pages for r in runs],
        "pages": pages,
        "cpu_s_per_page": run.cpu_s / pages,
        "user_s_per_page": run.user_s / pages,
        "sys_s_per_page": run.sys_s / pages,
        "wall_s_per_page": run.wall_s / pages,
        "output": docs,
    }


def bench_one_page_memory(page: Path, tier: str, workdir: Path) -> dict[str, Any]:
    out = workdir / "one_page.json"
    run = run_measured([sys.executable, "-c", ONE_PAGE_SCRIPT, str(page), tier], out)
    printed = json.loads(out.read_text()) if run.returncode == 0 else {}
    return {"page": page.name, "run": asdict(run), **{k: v for k, v in printed.items()}}


def bench_huge(ocr: str, source: Path, tier: str, workdir: Path) -> dict[str, Any]:
    """Tile one page into a HUGE_SIDE x HUGE_SIDE PNG and OCR it in one `ocr image` call."""
    tile = load_pages(source)[0].image
    reps = (math.ceil(HUGE_SIDE / tile.shape[0]), math.ceil(HUGE_SIDE / tile.shape[1]), 1)
    big = np.tile(tile, reps)[:HUGE_SIDE, :HUGE_SIDE]
    huge = workdir / "huge.png"
    Image.fromarray(big).save(huge, compress_level=1)
    del big
    out = workdir / "huge.jsonl"
    run = run_measured([ocr, "image", str(huge), "--tier", tier, "--json", "-"], out)
    docs = summarise_documents(read_jsonl(out)) if out.stat().st_size else {}
    return {"source": source.name, "side_px": HUGE_SIDE, "run": asdict(run), "output": docs}


# --- in-process profile ---------------------------------------------------------------------------


class Probe:
    """CPU time per read_page stage, and inside each model's inference, via class-level patches.

    Stages come from the engine's own `with clock("stage"):` blocks (pipeline._Clock, subclassed so
    the engine's wall timings stay as they are); inference is Model.__call__; model loading is
    Model.__init__ (the reviewer is loaded lazily, inside the recognition stage).
    """

    def __init__(self) -> None:
        self.engine: pipeline.Engine | None = None
        self.stage: str | None = None
        self.stage_cpu: dict[str, float] = defaultdict(float)
        self.inference_cpu: dict[tuple[str, str], float] = defaultdict(float)  # (stage, model) -> s
        self.calls: dict[str, int] = defaultdict(int)
        self.load_cpu: dict[str, float] = defaultdict(float)  # stage ("engine" outside) -> s
        self.names: dict[int, str] = {}

    def attach(self, engine: pipeline.Engine) -> None:
        self.engine = engine
        self.names = {id(getattr(engine, name)): name for name in MODEL_ATTRIBUTES}

    def model_name(self, model: runtime.Model) -> str:
        name = self.names.get(id(model))
        if name is None:
            name = "other"
            for cjk, (reviewer, _) in getattr(self.engine, "_reviewers", {}).items():
                if reviewer is model:
                    name = "reviewer, all classes" if cjk else "reviewer"
            self.names[id(model)] = name
        return name

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        probe = self
        original_call = runtime.Model.__call__
        original_init = runtime.Model.__init__

        def call(model: runtime.Model, batch: np.ndarray) -> np.ndarray:
            start = time.process_time()
            try:
                return original_call(model, batch)
            finally:
                name = probe.model_name(model)
                probe.inference_cpu[(probe.stage or "outside", name)] += time.process_time() - start
                probe.calls[name] += 1

        def init(model: runtime.Model, *args: Any, **kwargs: Any) -> None:
            start = time.process_time()
            original_init(model, *args, **kwargs)
            probe.load_cpu[probe.stage or "engine"] += time.process_time() - start

        class Clock(pipeline._Clock):
            def __call__(self, stage: str) -> Clock:
                self.probe_stage = stage
                super().__call__(stage)
                return self

            def __enter__(self) -> None:
                probe.stage = self.probe_stage
                self.cpu_start = time.process_time()
                super().__enter__()

            def __exit__(self, *exc: object) -> None:
                super().__exit__(*exc)
                probe.stage_cpu[self.probe_stage] += time.process_time() - self.cpu_start
                probe.stage = None

        with (
            mock.patch.object(runtime.Model, "__call__", call),
            mock.patch.object(runtime.Model, "__init__", init),
            mock.patch.object(pipeline, "_Clock", Clock),
        ):
            yield


def bench_in_process(paths: Sequence[Path], tier: str) -> dict[str, Any]:
    probe = Probe()
    with probe.installed():
        cpu, wall = time.process_time(), time.perf_counter()
        engine = pipeline.Engine(tier)
        load = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
        probe.attach(engine)

        decode_cpu = decode_wall = 0.0
        per_page: list[dict[str, Any]] = []
        for path in paths:
            cpu, wall = time.process_time(), time.perf_counter()
            frames = load_pages(path)
            decode_cpu += time.process_time() - cpu
            decode_wall += time.perf_counter() - wall
            for frame in frames:
                cpu, wall = time.process_time(), time.perf_counter()
                page = engine.read_page(frame.image, frame.index + 1, frame.dpi)
                per_page.append(
                    {
                        "file": path.name,
                        "page": frame.index + 1,
                        "pixels": int(frame.image.shape[0] * frame.image.shape[1]),
                        "cpu_s": time.process_time() - cpu,
                        "wall_s": time.perf_counter() - wall,
                        "lines": len(page.lines),
                        "stage_wall_s": dict(page.timings),
                    }
                )

    n = len(per_page)
    read_cpu = sum(p["cpu_s"] for p in per_page)
    stage_names = list(dict.fromkeys(s for p in per_page for s in p["stage_wall_s"]))
    stages: dict[str, dict[str, float]] = {}
    for stage in stage_names:
        cpu_s = probe.stage_cpu.get(stage, 0.0)
        inference = sum(s for (st, _), s in probe.inference_cpu.items() if st == stage)
        stages[stage] = {
            "wall_s_per_page": sum(p["stage_wall_s"].get(stage, 0.0) for p in per_page) / n,
            "cpu_s_per_page": cpu_s / n,
            "inference_cpu_s_per_page": inference / n,
            "inference_share": inference / cpu_s if cpu_s else 0.0,
            "model_loading_cpu_s": probe.load_cpu.get(stage, 0.0),
        }
    models: dict[str, dict[str, Any]] = {}
    for (stage, name), seconds in sorted(probe.inference_cpu.items(), key=lambda kv: -kv[1]):
        entry = models.setdefault(name, {"stages": [], "cpu_s_per_page": 0.0, "calls_per_page": 0.0})
        entry["stages"].append(stage)
        entry["cpu_s_per_page"] += seconds / n
    for name, entry in models.items():
        entry["calls_per_page"] = probe.calls[name] / n
        entry["share_of_read_page_cpu"] = entry["cpu_s_per_page"] * n / read_cpu if read_cpu else 0.0
    inference_total = sum(probe.inference_cpu.values())
    page_cpus = [p["cpu_s"] for p in per_page]
    return {
        "pages": n,
        "engine_load": load,
        "decode": {"cpu_s_per_page": decode_cpu / n, "wall_s_per_page": decode_wall / n},
        "read_page": {
            "cpu_s_per_page": read_cpu / n,
            "wall_s_per_page": sum(p["wall_s"] for p in per_page) / n,
            "cpu_s_median": statistics.median(page_cpus),
            "cpu_s_min": min(page_cpus),
            "cpu_s_max": max(page_cpus),
            "inference_share": inference_total / read_cpu if read_cpu else 0.0,
            "outside_stages_cpu_s_per_page": (read_cpu - sum(probe.stage_cpu.values())) / n,
        },
        "stages": stages,
        "models": models,
        "per_page": per_page,
    }


# --- report ---------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table with aligned columns (first column left, the others right)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def environment(args: argparse.Namespace, files: int, pages: int) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "ocrcli": ocrcli.__version__,
        "threads_env": os.environ.get(runtime.THREADS_ENV, "unset (1 thread)"),
        "tier": args.tier,
        "set": args.set,
        "files": files,
        "pages": pages,
    }


def f3(seconds: float) -> str:
    return f"{seconds:.3f}"


def print_header(env: dict[str, Any]) -> None:
    print("# ocrcli engine benchmark\n")
    for key, value in env.items():
        print(f"- {key}: {value}")


def print_command(command: dict[str, Any]) -> None:
    run, out = command["run"], command["output"]
    print(f"\n## 1. Whole command, one call over {command['pages']} pages (model loading included)\n")
    print(
        f"`ocr image <{command['pages']} files> --tier {run['argv'][-3]} --json -`: "
        f"exit {run['returncode']}, {out.get('lines', '?')} lines, {len(out.get('errors', []))} errors\n"
    )
    rows = [
        ["CPU (user+sys)", f"{run['user_s'] + run['sys_s']:.2f}", f3(command["cpu_s_per_page"])],
        ["  user", f"{run['user_s']:.2f}", f3(command["user_s_per_page"])],
        ["  sys", f"{run['sys_s']:.2f}", f3(command["sys_s_per_page"])],
        ["wall", f"{run['wall_s']:.2f}", f3(command["wall_s_per_page"])],
    ]
    each = command["runs_cpu_s_per_page"]
    print(f"The run with the median CPU time of {len(each)} (CPU s / page: {', '.join(map(f3, each))}):\n")
    print(table(["", "total s", "s / page"], rows))
    print(f"\npeak RSS: {run['peak_rss_mb']:.0f} MB")
    if run["returncode"] != 0:
        print(f"\nstderr (tail):\n{run['stderr_tail']}")


def print_in_process(prof: dict[str, Any]) -> None:
    read, load, decode = prof["read_page"], prof["engine_load"], prof["decode"]
    print(f"\n## 2. In process, {prof['pages']} pages (CPU = time.process_time)\n")
    print(f"Engine() (model loading): {load['cpu_s']:.2f} s CPU, {load['wall_s']:.2f} s wall")
    print(
        f"read_page CPU per page: mean {f3(read['cpu_s_per_page'])} s, median {f3(read['cpu_s_median'])}, "
        f"min {f3(read['cpu_s_min'])}, max {f3(read['cpu_s_max'])}; wall mean {f3(read['wall_s_per_page'])} s"
    )
    print(f"inside ONNX inference: {pct(read['inference_share'])} of read_page CPU\n")

    headers = ["s / page", "wall (engine timings)", "CPU", "inference CPU", "inference", "outside"]
    rows: list[list[object]] = [
        [
            "image decoding (load_pages)",
            f3(decode["wall_s_per_page"]),
            f3(decode["cpu_s_per_page"]),
            "",
            "",
            "",
        ]
    ]
    for stage, s in prof["stages"].items():
        share = s["inference_share"]
        inside = f3(s["inference_cpu_s_per_page"])
        rows.append(
            [stage, f3(s["wall_s_per_page"]), f3(s["cpu_s_per_page"]), inside, pct(share), pct(1 - share)]
        )
    rows.append(["read_page, outside the stages", "", f3(read["outside_stages_cpu_s_per_page"]), "", "", ""])
    share = read["inference_share"]
    inside = f3(read["cpu_s_per_page"] * share)
    total = ["read_page total", f3(read["wall_s_per_page"]), f3(read["cpu_s_per_page"]), inside]
    rows.append([*total, pct(share), pct(1 - share)])
    print(table(headers, rows))
    for stage, s in prof["stages"].items():
        if s["model_loading_cpu_s"]:
            seconds = s["model_loading_cpu_s"]
            print(f"\n{stage} includes {seconds:.2f} s CPU (once, not per page) of lazy model loading")

    headers = ["model", "stage", "calls / page", "inference CPU s / page", "share of read_page CPU"]
    rows = []
    for name, m in prof["models"].items():
        calls = f"{m['calls_per_page']:.1f}"
        rows.append(
            [name, ",".join(m["stages"]), calls, f3(m["cpu_s_per_page"]), pct(m["share_of_read_page_cpu"])]
        )
    print()
    print(table(headers, rows))


def print_memory(memory: dict[str, Any]) -> None:
    print(f"\n## 3. Memory: one fresh process reading one docbank page ({memory['page']})\n")
    if memory["run"]["returncode"] != 0:
        print(f"failed (exit {memory['run']['returncode']}):\n{memory['run']['stderr_tail']}")
        return
    rows = [
        ["imports", f"{memory['after_imports_kb'] / 1024:.0f}"],
        ["Engine() (models loaded)", f"{memory['after_engine_kb'] / 1024:.0f}"],
        [f"reading the page ({memory['lines']} lines)", f"{memory['peak_kb'] / 1024:.0f}"],
    ]
    print(table(["peak RSS after", "MB"], rows))


def print_huge(huge: dict[str, Any]) -> None:
    run, out, side = huge["run"], huge["output"], huge["side_px"]
    print(f"\n## 4. Huge page: {side} x {side} px ({huge['source']} tiled), `ocr image` in one process\n")
    headers = ["exit", "lines", "wall s", "CPU s (user+sys)", "user s", "sys s", "peak RSS MB"]
    cpu = run["user_s"] + run["sys_s"]
    row = [run["returncode"], out.get("lines", "?"), f"{run['wall_s']:.1f}", f"{cpu:.1f}"]
    row += [f"{run['user_s']:.1f}", f"{run['sys_s']:.1f}", f"{run['peak_rss_mb']:.0f}"]
    print(table(headers, [row]))
    if out.get("stage_wall_s"):
        print("\nengine wall timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in out["stage_wall_s"].items()))
    if run["returncode"] != 0:
        print(f"\nstderr (tail):\n{run['stderr_tail']}")


def print_report(results: dict[str, Any]) -> None:
    print_header(results["environment"])
    print_command(results["command"])
    print_in_process(results["in_process"])
    print_memory(results["one_page_memory"])
    if "huge" in results:
        print_huge(results["huge"])


# --- main -----------------------------------------------------------------------------------------


def image_files(data: Path, name: str, limit: int) -> list[Path]:
    folder = data / name / "img"
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not files:
        sys.exit(f"bench_engine: no images in {folder}")
    return files[:limit]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=SETS, default="docbank", help="data set (default docbank)")
    parser.add_argument("--limit", type=int, default=20, help="number of image files (default 20)")
    parser.add_argument("--tier", choices=("fast", "accurate"), default="fast")
    parser.add_argument(
        "--huge", action="store_true", help=f"also OCR a synthetic {HUGE_SIDE} px square page"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the whole command; the median is reported (default 3)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="save every number to FILE")
    parser.add_argument("--data", type=Path, default=DATA, help=f"data folder (default {DATA})")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    paths = image_files(args.data, args.set, args.limit)
    pages = sum(count_pages(p) for p in paths)
    docbank_page = image_files(args.data, "docbank", 1)[0]
    ocr = ocr_command()
    results: dict[str, Any] = {"environment": environment(args, len(paths), pages)}
    with tempfile.TemporaryDirectory(prefix="bench_engine_") as tmp:
        workdir = Path(tmp)
        print(f"bench_engine: whole command over {pages} pages, {args.repeat} times ...", file=sys.stderr)
        results["command"] = bench_command(ocr, paths, args.tier, pages, workdir, args.repeat)
        print("bench_engine: in-process profile ...", file=sys.stderr)
        results["in_process"] = bench_in_process(paths, args.tier)
        print("bench_engine: one-page memory ...", file=sys.stderr)
        results["one_page_memory"] = bench_one_page_memory(docbank_page, args.tier, workdir)
        if args.huge:
            print(f"bench_engine: {HUGE_SIDE} px page ...", file=sys.stderr)
            results["huge"] = bench_huge(ocr, docbank_page, args.tier, workdir)

    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(f"\nsaved to {args.json}")


if __name__ == "__main__":
    main()
