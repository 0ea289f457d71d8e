"""`ocr scan` against OCRmyPDF 17 on the same batch of PDFs: pages/s, wall time, peak RSS of the run.

    python benchmarks/bench_scan.py [--work /tmp/bench_scan] [--ocr PATH] [--ocrmypdf PATH]
                                    [--cores N] [--ocrmypdf-jobs 1] [--scaling [--repeat N]] [--long [N]]
                                    [--accuracy] [--skip-ocrmypdf] [--skip-ocrcli] [--json FILE]
                                    [--data DIR]

For example, with OCRmyPDF in a venv of its own (`pip install "ocrmypdf>=17,<18"`, and Debian's
tesseract-ocr, tesseract-ocr-eng and parallel):

    .venv/bin/python benchmarks/bench_scan.py --ocrmypdf /path/to/venv/bin/ocrmypdf --scaling --long

The batch (built in WORK/batch/in, 60 pages): the first 20 docbank and the first 20 sroie images (by
name) of ../shared/data, each wrapped by img2pdf as a one-page image PDF, plus one 20-page PDF of
docbank images 21-40, so that no page is read twice. Every image is wrapped at 200 dpi (docbank's
nominal resolution; many sroie files have no or a wrong DPI), so both tools OCR each image at its
own pixel size, without resampling.

- OCRmyPDF, driven as its batch docs say (one process per file under GNU parallel, `-j CORES`):
  `parallel --tag -j CORES ocrmypdf --output-type pdf --jobs 1 IN OUT`. `--ocrmypdf-jobs 0` drops
  `--jobs 1`, as in the docs' example, and oversubscribes the cores (see run_ocrmypdf). Needs
  `parallel` and `tesseract` on PATH and ocrmypdf>=17 (`--ocrmypdf`, default: the one on PATH).
  Ghostscript is not used for `--output-type pdf`: OCRmyPDF 17 rasterizes with pypdfium2.
- ocrcli: `ocr scan IN -o OUT --quiet` with its default workers (one per core), into a fresh folder.
- `--scaling`: `ocr scan --jobs 1` and `--jobs 2` on the same batch; `--repeat N` runs N such
  pairs, alternating which of the two runs first, and judges the median ratio (the CPU time of
  the same pages drifts by +-15 % over minutes on a shared VM, so one pair is noisy).
- `--long [N]`: `ocr scan` on one N-page PDF (default 200, docbank images in turn); the peak total
  RSS in each tenth of the run (~ up to page N/10, 2N/10 ... N, if the rate is steady).
- `--accuracy`: order-free bag-of-words F1 (NFKC, whitespace split) of `pdftotext` on each tool's
  one-page outputs against gt.jsonl; a rough check that both did the work, not a quality score.

Peak RSS is the largest sum, over samples every 0.1 s, of the RSS of the command and all its
descendants (read from /proc, Linux only). Pages shared between processes count once per process,
so it overstates the memory in use; peak PSS (smaps_rollup) shares them out. PSS is sampled only
every 2 s: reading smaps_rollup of a few large processes costs ~15 ms of CPU, which at 10 samples
a second took 15 % of a core from the command, and so from --jobs 2 but not from --jobs 1, whose
second core was idle (the sampler's own CPU time is in the JSON as sampler_cpu_s). CPU s/page is user +
sys of the command and all its descendants (os.wait4, this process being their subreaper). "other
load" is the mean CPU use of everything else on the machine during the run, in cores: well above
0, the wall times are not comparable. Timings are single noisy samples (+-15% seen between runs):
quote them with the header, never assert them in tests.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import cycle, islice
from pathlib import Path

import img2pdf
import pikepdf

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = ("docbank", "sroie")
PER_SET = 20
WRAP_DPI = 200
SAMPLE_S = 0.1
PSS_EVERY = 20  # samples
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024
PR_SET_CHILD_SUBREAPER = 36  # prctl option, linux/prctl.h
BARS = {"speed": 2.0, "scaling": 1.8, "memory_mb": 1536}


@dataclass
class Batch:
    folder: Path
    pages: int
    singles: dict[str, tuple[str, str]]  # one-page PDF name -> (set, image path as in gt.jsonl)


@dataclass
class Run:
    label: str
    argv: list[str]
    pages: int
    returncode: int
    wall_s: float
    cpu_s: float  # user + sys of the command and all its descendants (see measure)
    other_cores: float  # mean CPU use of everything else on the machine meanwhile, in cores
    peak_rss_mb: float
    peak_pss_mb: float
    pages_out: int
    out_dir: str
    log: str
    sampler_cpu_s: float = 0.0  # CPU time this script spent sampling memory during the run
    # (elapsed s, RSS MB, PSS MB or None where not sampled)
    samples: list[tuple[float, float, float | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.pages_out == self.pages and not self.problems

    @property
    def problems(self) -> list[str]:
        """Log lines that say a page was not done (OCRmyPDF skips a page whose Tesseract times out)."""
        lines = Path(self.log).read_text(errors="replace").splitlines()
        return [line for line in lines if re.search(r"took too long|skipping|error", line, re.IGNORECASE)]

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s

    def peak_rss_between(self, start: float, end: float) -> float:
        """Peak total RSS (MB) between these fractions of the wall time."""
        return max(
            (rss for t, rss, _ in self.samples if start * self.wall_s <= t <= end * self.wall_s), default=0
        )


# --- measuring ------------------------------------------------------------------------------------


def tree_memory(root: int, pss: bool) -> tuple[float, float | None]:
    """Total RSS and (if `pss`) PSS in MB of process `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # exited meanwhile
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # from field 3 (state) on: comm may hold spaces
        pid = int(entry.name)
        children[int(fields[1])].append(pid)
        rss[pid] = int(fields[21]) * PAGE_BYTES  # field 24: resident pages
    total_rss, total_pss_kb, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        total_rss += rss.get(pid, 0)
        total_pss_kb += pss_kb(pid) if pss else 0
        stack.extend(children.get(pid, ()))
    return total_rss / MB, total_pss_kb / 1024 if pss else None


def pss_kb(pid: int) -> int:
    """Proportional set size: each shared page counted as a share, so a sum over processes adds up."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            return next((int(line.split()[1]) for line in f if line.startswith(b"Pss:")), 0)
    except OSError:
        return 0


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat: all but idle and iowait)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def reap() -> Iterator[tuple[int, int, float]]:
    """(pid, status, CPU s of it and of the descendants it reaped) for each child that has exited."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:  # no children left
            return
        if not pid:
            return
        yield pid, status, usage.ru_utime + usage.ru_stime


def has_children() -> bool:
    return bool(Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split())


def measure(label: str, argv: list[str], pages: int, out_dir: Path, log: Path) -> Run:
    """Run argv into a fresh out_dir, sampling the total memory of its process tree until it exits.

    This process is a child subreaper, so descendants orphaned on the way (a multiprocessing
    forkserver and its workers, say) come back to it, and os.wait4 gives the CPU time of all of them.
    """
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    print(f"bench_scan: {label}: {' '.join(argv[:8])}{' ...' if len(argv) > 8 else ''}", file=sys.stderr)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    samples: list[tuple[float, float, float | None]] = []
    cpu, status, sampler_cpu = 0.0, None, time.process_time()
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}  # OCRmyPDF sets its own
    with open(log, "wb") as out:
        busy, start = busy_cpu_s(), time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        while status is None:  # wall time is exact to SAMPLE_S
            for pid, exited, cpu_s in reap():
                cpu += cpu_s
                status = exited if pid == proc.pid else status
            if status is None:
                memory = tree_memory(proc.pid, pss=len(samples) % PSS_EVERY == 0)
                samples.append((time.perf_counter() - start, *memory))
                time.sleep(SAMPLE_S)
        wall = time.perf_counter() - start
        sampler_cpu = time.process_time() - sampler_cpu
        deadline = time.monotonic() + 60  # orphans still running: wait for them, for their CPU time
        while has_children() and time.monotonic() < deadline:
            cpu += sum(cpu_s for _, _, cpu_s in reap())
            time.sleep(SAMPLE_S / 2)
        busy = busy_cpu_s() - busy
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return Run(
        label=label,
        argv=argv,
        pages=pages,
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=cpu,
        other_cores=max(busy - cpu, 0.0) / wall,
        peak_rss_mb=max((rss for _, rss, _ in samples), default=0.0),
        peak_pss_mb=max((pss for _, _, pss in samples if pss is not None), default=0.0),
        sampler_cpu_s=sampler_cpu,
        pages_out=count_pages(sorted(out_dir.rglob("*.pdf"))),
        out_dir=str(out_dir),
        log=str(log),
        samples=samples,
    )


def count_pages(pdfs: list[Path]) -> int:
    total = 0
    for path in pdfs:
        with pikepdf.open(path) as pdf:
            total += len(pdf.pages)
    return total


def version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"unavailable ({exc})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else f"exit {done.returncode}"


# --- the batch ------------------------------------------------------------------------------------


def images(data: Path, name: str) -> list[Path]:
    return sorted(p for p in (data / name / "img").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def wrap(sources: list[Path], target: Path) -> None:
    """One image PDF page per source image, losslessly (img2pdf passes JPEG through), at WRAP_DPI."""
    layout = img2pdf.get_fixed_dpi_layout_fun((WRAP_DPI, WRAP_DPI))
    target.write_bytes(img2pdf.convert([str(p) for p in sources], layout_fun=layout))


def build_batch(data: Path, folder: Path) -> Batch:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    singles: dict[str, tuple[str, str]] = {}
    for name in SETS:
        for i, image in enumerate(images(data, name)[:PER_SET], 1):
            pdf = f"{name}-{i:02d}.pdf"
            wrap([image], folder / pdf)
            singles[pdf] = (name, f"img/{image.name}")
    wrap(images(data, "docbank")[PER_SET : 2 * PER_SET], folder / f"docbank-pages-{PER_SET}.pdf")
    return Batch(folder, len(singles) + PER_SET, singles)


def build_long(data: Path, folder: Path, pages: int) -> Batch:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    wrap(list(islice(cycle(images(data, "docbank")), pages)), folder / f"docbank-{pages}-pages.pdf")
    return Batch(folder, pages, {})


# --- the tools ------------------------------------------------------------------------------------


def run_ocrmypdf(ocrmypdf: str, batch: Batch, work: Path, cores: int, jobs: int) -> Run:
    # OCRmyPDF's batch docs (docs/batch.md) run one process per file under GNU parallel:
    #     parallel --tag -j 2 ocrmypdf '{}' 'output/{}' ::: *.pdf
    # and say that both parallel and ocrmypdf try to use all processors. So that the total is the
    # cores, each ocrmypdf gets --jobs 1 (`jobs`; 0 leaves OCRmyPDF's default, all cores). That also
    # keeps Tesseract single-threaded: left alone, OCRmyPDF gives Tesseract on a one-page file
    # cores // pages OpenMP threads, so 4 threads spin on 2 cores; on this batch that took 6.6x the
    # wall time and 7x the CPU. --will-cite only silences parallel's citation notice.
    out = work / "ocrmypdf-out"
    inputs = sorted(str(p) for p in batch.folder.glob("*.pdf"))
    per_file = ["--jobs", str(jobs)] if jobs else []
    each = [ocrmypdf, "--output-type", "pdf", *per_file, "{}", f"{out}/{{/}}"]
    argv = ["parallel", "--will-cite", "--tag", "-j", str(cores), *each, ":::", *inputs]
    label = f"OCRmyPDF, parallel -j {cores}" + (f", ocrmypdf --jobs {jobs}" if jobs else "")
    return measure(label, argv, batch.pages, out, work / "ocrmypdf.log")


def run_ocrcli(ocr: str, batch: Batch, work: Path, jobs: int | None = None, tag: str = "default") -> Run:
    out = work / f"ocrcli-{tag}-out"
    argv = [ocr, "scan", str(batch.folder), "-o", str(out), "--quiet"]
    argv += ["--jobs", str(jobs)] if jobs else []
    label = f"ocr scan {f'--jobs {jobs}' if jobs else '(default jobs)'}"
    label += "" if batch.singles else f", one {batch.pages}-page PDF"
    return measure(label, argv, batch.pages, out, work / f"ocrcli-{tag}.log")


def scan_available(ocr: str) -> bool:
    try:
        return subprocess.run([ocr, "scan", "--help"], capture_output=True, timeout=120).returncode == 0
    except OSError:
        return False


# --- accuracy (optional) --------------------------------------------------------------------------


def words(text: str) -> Counter[str]:
    text = re.sub(r"\(cid:\d+\)", " ", unicodedata.normalize("NFKC", text))
    return Counter(text.split())


def f1(found: Counter[str], truth: Counter[str]) -> float:
    hits = sum((found & truth).values())
    total = sum(found.values()) + sum(truth.values())
    return 2 * hits / total if total else 1.0


def accuracy(run: Run, batch: Batch, data: Path) -> dict[str, float]:
    """Mean bag-of-words F1 per set of pdftotext on the run's one-page outputs (found by name)."""
    truth: dict[tuple[str, str], Counter[str]] = {}
    for name in SETS:
        for line in (data / name / "gt.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            truth[name, record["image"]] = words(record["text"])
    outputs = {p.name: p for p in Path(run.out_dir).rglob("*.pdf")}
    scores: dict[str, list[float]] = defaultdict(list)
    for pdf, key in batch.singles.items():
        if pdf in outputs:
            text = subprocess.run(
                ["pdftotext", str(outputs[pdf]), "-"], capture_output=True, text=True
            ).stdout
            scores[key[0]].append(f1(words(text), truth[key]))
    return {name: sum(s) / len(s) for name, s in scores.items()}


# --- report ---------------------------------------------------------------------------------------


def header(args: argparse.Namespace) -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = version(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    threads = os.environ.get("OCRCLI_THREADS", "(unset)")
    return [
        f"# bench_scan {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- CPU: {cpu}; cores used: {args.cores}; load average at start: {load}",
        f"- ocrmypdf: {version([args.ocrmypdf, '--version'])}; {version(['tesseract', '--version'])}; "
        f"{version(['parallel', '--version'])}; Python {platform.python_version()}",
        f"- ocr: {args.ocr}; repository at {commit}; OCRCLI_THREADS={threads}",
    ]


def verdict(run: Run) -> str:
    if run.ok:
        return "yes"
    return (
        f"NO: exit {run.returncode}, {run.pages_out} pages out, {len(run.problems)} log lines "
        f"with errors or skipped pages ({run.log})"
    )


def row(cells: list[object]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def table(runs: list[Run], base: Run | None, ratio_name: str) -> list[str]:
    names = ["run", "pages", "wall s", "pages/s", ratio_name, "CPU s/page", "peak RSS MB", "peak PSS MB"]
    rows = [row([*names, "other load", "ok"]), row(["---"] + ["--:"] * (len(names) - 1) + ["--:", "---"])]
    for run in runs:
        ratio = f"{run.pages_per_s / base.pages_per_s:.2f}" if base else "-"
        figures = [
            run.wall_s,
            run.pages_per_s,
            ratio,
            run.cpu_s / run.pages,
            run.peak_rss_mb,
            run.peak_pss_mb,
        ]
        formats = ["{:.1f}", "{:.3f}", "{}", "{:.2f}", "{:.0f}", "{:.0f}"]
        cells = [fmt.format(x) for fmt, x in zip(formats, figures, strict=True)]
        rows.append(row([run.label, run.pages, *cells, f"{run.other_cores:.2f}", verdict(run)]))
    return rows


def bar(what: str, value: float, limit: float, at_least: bool = True) -> str:
    passed = value >= limit if at_least else value <= limit
    return (
        f"- bar: {what} = {value:.2f} ({'>=' if at_least else '<='} {limit}): {'PASS' if passed else 'FAIL'}"
    )


def memory_bar(run: Run, workers: int) -> str:
    return bar(f"peak total RSS MB, {workers} workers", run.peak_rss_mb, BARS["memory_mb"], at_least=False)


def rss_over_time(run: Run) -> list[str]:
    """Peak total RSS in each tenth of the wall time: with a steady rate, pages up to the one named."""
    tenths = [run.peak_rss_between((t - 1) / 10, t / 10) for t in range(1, 11)]
    return [
        row(["tenth of the run (~ up to page)", *(t * run.pages // 10 for t in range(1, 11))]),
        row(["---"] + ["--:"] * 10),
        row(["peak total RSS MB", *(f"{rss:.0f}" for rss in tenths)]),
        "",
        f"- RSS near page {run.pages // 10}: {tenths[0]:.0f} MB; near page {run.pages}: {tenths[-1]:.0f} MB "
        f"(peak in the first and last tenth of the run); peak {run.peak_rss_mb:.0f} MB",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_scan"), help="scratch folder")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--ocr", default=str(Path(sys.executable).parent / "ocr"))
    parser.add_argument("--ocrmypdf", default=shutil.which("ocrmypdf") or "ocrmypdf")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--ocrmypdf-jobs", type=int, default=1, help="--jobs of each ocrmypdf (0: its default)"
    )
    parser.add_argument("--scaling", action="store_true", help="also ocr scan --jobs 1 and --jobs 2")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of scaling runs (median reported)")
    parser.add_argument("--long", type=int, nargs="?", const=200, help="also one N-page PDF (default 200)")
    parser.add_argument("--accuracy", action="store_true", help="bag-of-words F1 of the one-page outputs")
    parser.add_argument("--skip-ocrmypdf", action="store_true")
    parser.add_argument("--skip-ocrcli", action="store_true")
    parser.add_argument("--json", type=Path, help="save every figure and RSS sample here")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    head = header(args)
    print("\n".join(head), file=sys.stderr)
    batch = build_batch(args.data, args.work / "batch" / "in")
    head.append(
        f"- batch: {len(batch.singles)} one-page PDFs ({PER_SET} docbank, {PER_SET} sroie) + one PDF of "
        f"docbank pages {PER_SET + 1}-{2 * PER_SET}: {batch.pages} pages; img2pdf at {WRAP_DPI} dpi"
    )
    ocrcli = not args.skip_ocrcli and scan_available(args.ocr)
    if not args.skip_ocrcli and not ocrcli:
        head.append(f"- `{args.ocr} scan --help` failed: the ocrcli runs are skipped")
    theirs = (
        None
        if args.skip_ocrmypdf
        else run_ocrmypdf(args.ocrmypdf, batch, args.work, args.cores, args.ocrmypdf_jobs)
    )
    ours = run_ocrcli(args.ocr, batch, args.work) if ocrcli else None

    runs = [run for run in (theirs, ours) if run]
    report = ["", "## Batch", "", *table(runs, theirs, "x OCRmyPDF")]
    if theirs and ours:
        report.append(
            bar("ocrcli pages/s / OCRmyPDF pages/s", ours.pages_per_s / theirs.pages_per_s, BARS["speed"])
        )
    if ours:
        report.append(memory_bar(ours, args.cores))
    if args.accuracy:
        report += ["", "## Bag-of-words F1 of pdftotext on the one-page outputs", ""]
        for run in runs:
            report.append(
                f"- {run.label}: "
                + ", ".join(f"{k} {v:.3f}" for k, v in accuracy(run, batch, args.data).items())
            )
    if ocrcli and args.scaling:
        # Pairs of runs, --jobs 1 and --jobs 2: on a shared VM the CPU time of the same pages drifts
        # by +-15 % over minutes, so one pair's ratio is noisy. The order alternates from pair to
        # pair, so that a drift does not favour one side, and the bar is judged on the median.
        ratios = []
        report += ["", "## Scaling", ""]
        for pair in range(args.repeat):
            order = (1, 2) if pair % 2 == 0 else (2, 1)
            ran = {jobs: run_ocrcli(args.ocr, batch, args.work, jobs, f"jobs{jobs}") for jobs in order}
            one, two = ran[1], ran[2]
            runs += [one, two]
            ratios.append(two.pages_per_s / one.pages_per_s)
            report += [*table([one, two], one, "x --jobs 1"), ""]
        report += [
            f"- ratio of each pair: {', '.join(f'{r:.2f}' for r in ratios)}",
            bar("pages/s --jobs 2 / --jobs 1 (median)", statistics.median(ratios), BARS["scaling"]),
            memory_bar(two, 2),
        ]
    if ocrcli and args.long:
        long = run_ocrcli(
            args.ocr,
            build_long(args.data, args.work / "long" / "in", args.long),
            args.work,
            tag=f"long{args.long}",
        )
        runs.append(long)
        report += [
            "",
            f"## One {args.long}-page PDF",
            "",
            *table([long], None, "-"),
            "",
            *rss_over_time(long),
        ]

    print("\n".join(head + report))
    if args.json:
        figures = [asdict(run) | {"pages_per_s": run.pages_per_s} for run in runs]
        args.json.write_text(json.dumps({"header": head, "report": report, "runs": figures}, indent=1))


if __name__ == "__main__":
    main()
