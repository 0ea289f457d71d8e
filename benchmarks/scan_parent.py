"""How much of `ocr scan`'s work its parent process does, and how long the workers wait for it.

    python benchmarks/scan_parent.py FOLDER [--work /tmp/scan_parent] [--repeat 1] [-- SCAN OPTIONS]

`ocr scan FOLDER -o WORK/out --quiet` runs in a fresh process (`--repeat` times, into a fresh
output folder each), here under a wrapper that times two of the parent's methods: Scan._start,
which opens each document (an image's PDF is made here, black-and-white pages JBIG2-coded) while
the worker that asked for its first page waits, and Scan._arrived, which grafts each page and
spools its JSON. Reported per run: wall time; the CPU (user + sys) of the parent and of each
descendant (the forkserver, the workers), from /proc every 50 ms (Linux only); the parent's
share of all CPU; and the wall and CPU time in _start and _arrived. On a machine with as many
workers as cores, the parent's CPU is taken from the workers; a worker waiting in _start is idle.

For example, with scans from ../shared/data (a black-and-white folder: the parent made each page's
PDF in about 0.5 s of a 300 dpi letter page, the workers read it in 0.6):

    mkdir -p /tmp/bw && cp ../shared/data/tess/img/linn.png ../shared/data/tess/img/eurotext.tif /tmp/bw
    python benchmarks/scan_parent.py /tmp/bw

Single noisy samples: quote them with the machine and its load, never assert them in tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
TIMED = ("_start", "_arrived")

# Run in the child: ocr's entry point, with Scan._start and Scan._arrived timed; the figures go to
# stderr when the command ends. Guarded: the forkserver imports __main__.
WRAPPER = """
import sys, time
if __name__ == "__main__":
    from ocrcli import scan
    import ocrcli.__main__ as entry
    spent = {}
    def timed(name, original):
        def wrapper(self, *args):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(self, *args)
            finally:
                total = spent.setdefault(name, [0.0, 0.0])
                total[0] += time.perf_counter() - wall
                total[1] += time.process_time() - cpu
        return wrapper
    for name in TIMED_NAMES:
        setattr(scan.Scan, name, timed(name, getattr(scan.Scan, name)))
    exit_now = entry._exit
    def report(code):
        for name, (wall, cpu) in spent.items():
            sys.stderr.write(f"TIMED {name} {wall} {cpu}\\n")
        exit_now(code)
    entry._exit = report
    sys.argv[0] = "ocr"
    entry.main()
""".replace("TIMED_NAMES", repr(TIMED))


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds so far) of every process."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return found


def run_once(command: list[str]) -> dict:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    cpu: dict[int, float] = {}
    while child.poll() is None:
        processes = _processes()
        tree, grown = {child.pid}, True
        while grown:
            grown = False
            for pid, (ppid, _) in processes.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grown = True
        cpu.update({pid: processes[pid][1] for pid in tree if pid in processes})
        time.sleep(0.05)
    wall = time.perf_counter() - started
    stderr = child.stderr.read() if child.stderr else ""
    timed = {}
    for line in stderr.splitlines():
        if line.startswith("TIMED "):
            _, name, spent_wall, spent_cpu = line.split()
            timed[name] = (float(spent_wall), float(spent_cpu))
        else:
            print(line, file=sys.stderr)
    parent = cpu.pop(child.pid, 0.0)
    return {
        "code": child.returncode,
        "wall": wall,
        "parent": parent,
        "others": sorted(cpu.values()),
        "timed": timed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scan_parent")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("scan_options", nargs="*", help="after --: more options for ocr scan")
    args = parser.parse_args()
    out = args.work / "out"
    # The child and its workers import this checkout's ocrcli
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  load average {os.getloadavg()[0]:.2f}  cores {os.cpu_count()}")
    columns = ["run", "wall s", "parent CPU s", "descendants' CPU s", "parent share"]
    columns += [f"{name} wall / CPU s" for name in TIMED]
    print("| " + " | ".join(columns) + " |\n" + "|---" * len(columns) + "|")
    for number in range(1, args.repeat + 1):
        shutil.rmtree(out, ignore_errors=True)
        command = [sys.executable, "-c", WRAPPER, "scan", str(args.folder), "-o", str(out), "--quiet"]
        result = run_once(command + args.scan_options)
        others = result["others"]
        share = result["parent"] / max(1e-9, result["parent"] + sum(others))
        spent = [result["timed"].get(name, (0.0, 0.0)) for name in TIMED]
        cells = [
            str(number),
            f"{result['wall']:.2f}",
            f"{result['parent']:.2f}",
            " + ".join(f"{value:.2f}" for value in others),
            f"{100 * share:.1f} %",
            *(f"{wall:.2f} / {cpu:.2f}" for wall, cpu in spent),
        ]
        print("| " + " | ".join(cells) + " |" + ("" if result["code"] == 0 else f"  exit {result['code']}"))
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
