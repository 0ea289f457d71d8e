"""What a re-run of `ocr scan` costs when every document is current (the nightly run over an archive).

    python benchmarks/rerun_scan.py [--work /tmp/rerun_scan] [--docs 2000] [--big 640,200,200]
                                    [--repeat 2] [--cold] [--json] [--in-place | --scan-outputs]
                                    [--data DIR]

It OCRs a few real pages once (tess/img and one docbank image of ../shared/data: ~20 s), then
stages an archive whose outputs are all current without OCRing it: `--docs` hard links of those
inputs under other names (in year/month folders, names with spaces and accents), their PDFs and
sidecars (each sidecar the seed's, naming its own paths and recording its input's stat), and one
image PDF per `--big` count of docbank pages, each with a sidecar of as many pages (a docbank
page's entry repeated), laid out as ocrcli writes them. Then it runs `ocr scan ARCHIVE -o OUT -q`
`--repeat` times and reports wall time, CPU (user + sys) and peak RSS (ru_maxrss via os.wait4) of
each run, which must find every document current. `--cold` first drops the archive and its outputs
from the page cache (posix_fadvise DONTNEED on each file: only these files, not the machine's
cache); `--json` adds `--json /dev/null` (a current document streams its sidecar again).
`--scan-outputs` times `ocr scan ARCHIVE-ocr` instead: a folder of an earlier scan's outputs,
each told from a document by its sidecar, as when a scan of a parent folder meets them; none is
read as a document. `--in-place` stages the archive as `ocr scan --in-place ARCHIVE` leaves it,
and times that command:
the documents are PDFs holding our output at their own path (`--docs` hard links of one-page image
PDFs of the same pages, OCRed in place once, and the `--big` PDFs), each with its sidecar beside
it. Single noisy samples: quote them with the machine and its load, never assert them in tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import img2pdf

from ocrcli.fingerprint import file_sha256, stat_record
from ocrcli.scan import _document_chunks

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OCR = [sys.executable, "-m", "ocrcli"]


def sidecar_text(record: dict) -> str:
    """A sidecar as ocr scan writes it (the head on one line, then a page per line)."""
    head = {k: v for k, v in record.items() if k != "pages"}
    pages = (json.dumps(page, ensure_ascii=False) for page in record["pages"])
    return "".join(_document_chunks(head, pages, separator=",\n")) + "\n"


def _linked(archive: Path, number: int, source: Path) -> Path:
    """Document `number` of the archive: a hard link of `source` in a year/month folder, named
    with spaces and an accent."""
    year, month = 2000 + number % 25, 1 + number // 25 % 12
    path = archive / str(year) / f"{month:02d} März" / f"Scan {number:05d} {source.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, path)
    return path


def _book(archive: Path, number: int, count: int, images: list[str]) -> Path:
    """An image PDF of `count` docbank pages in the archive's books folder."""
    path = archive / "books" / f"book {number} ({count} pages).pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(img2pdf.convert([images[i % len(images)] for i in range(count)]))
    return path


def seed(work: Path, data: Path) -> tuple[Path, Path]:
    folder, out = work / "seed", work / "seed-ocr"
    if not (out / "page.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for image in sorted((data / "tess" / "img").iterdir()):
            shutil.copy(image, folder / image.name)
        shutil.copy(sorted((data / "docbank" / "img").iterdir())[0], folder / "page.jpg")
        subprocess.run([*OCR, "scan", folder, "-o", out, "-q"], check=True)
    return folder, out


def stage(work: Path, data: Path, docs: int, big: list[int]) -> tuple[Path, Path]:
    folder, seed_out = seed(work, data)
    archive, out = work / "archive", work / "archive-ocr"
    shutil.rmtree(archive, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    seeds = sorted(folder.iterdir())
    sidecars: list[tuple[Path, dict, Path]] = []  # written once every link is made (links set ctime)

    def add(source: Path, path: Path, record: dict, pdf: Path) -> None:
        mirror = out / path.relative_to(archive).with_suffix(".pdf")
        mirror.parent.mkdir(parents=True, exist_ok=True)
        os.link(pdf, mirror)
        record["source"]["path"] = str(path)
        record["output"].update(pdf=str(mirror), sidecar=str(mirror.with_suffix(".json")))
        sidecars.append((path, record, mirror.with_suffix(".json")))

    for number in range(docs):
        source = seeds[number % len(seeds)]
        path = _linked(archive, number, source)
        record = json.loads((seed_out / f"{source.stem}.json").read_text(encoding="utf-8"))
        add(source, path, record, seed_out / f"{source.stem}.pdf")
    images = sorted(str(p) for p in (data / "docbank" / "img").iterdir())
    page = json.loads((seed_out / "page.json").read_text(encoding="utf-8"))
    for number, count in enumerate(big):
        path = _book(archive, number, count, images)
        # A PDF's run record (its options differ from an image's), this PDF's hash and pages.
        sha256 = file_sha256(path)
        record = {**page, "source": {"path": str(path), "sha256": sha256}}
        record["output"] = {**page["output"], "sha256": sha256}  # its "output" is a link of it
        record["run"] = _pdf_run(seed_out)
        record["pages"] = [{**page["pages"][0], "page": n + 1} for n in range(count)]
        add(path, path, record, path)
    time.sleep(0.1)  # the sidecars are written after the PDFs, in a later timestamp tick
    for path, record, sidecar in sidecars:
        record["source"]["stat"] = stat_record(path.stat())  # the file as it was hashed
        record["output"]["stat"] = stat_record(sidecar.with_suffix(".pdf").stat())  # as ocr scan records it
        sidecar.write_text(sidecar_text(record), encoding="utf-8")
    return archive, out


def stage_in_place(work: Path, data: Path, docs: int, big: list[int]) -> Path:
    """The archive after `ocr scan --in-place ARCHIVE` (see the docstring)."""
    seeds = work / "seed-in-place"
    if not (seeds / "page.json").exists():
        shutil.rmtree(seeds, ignore_errors=True)
        seeds.mkdir(parents=True)
        images = [
            *sorted((data / "tess" / "img").glob("*.png")),
            sorted((data / "docbank" / "img").iterdir())[0],
        ]
        for image in images:
            name = "page" if image.suffix == ".jpg" else image.stem
            (seeds / f"{name}.pdf").write_bytes(img2pdf.convert(str(image)))
        subprocess.run([*OCR, "scan", seeds, "--in-place", "-q"], check=True)
    archive = work / "archive-in-place"
    shutil.rmtree(archive, ignore_errors=True)
    pdfs = sorted(seeds.glob("*.pdf"))
    page = json.loads((seeds / "page.json").read_text(encoding="utf-8"))
    sidecars: list[tuple[Path, dict]] = []
    for number in range(docs):
        seed_pdf = pdfs[number % len(pdfs)]
        path = _linked(archive, number, seed_pdf)
        sidecars.append((path, json.loads(seed_pdf.with_suffix(".json").read_text(encoding="utf-8"))))
    images = sorted(str(p) for p in (data / "docbank" / "img").iterdir())
    for number, count in enumerate(big):
        path = _book(archive, number, count, images)
        # The scanned PDF as it was is gone: its hash is made up; the file there is our output.
        record = {**page, "source": {"path": str(path), "sha256": hashlib.sha256(bytes(path)).hexdigest()}}
        record["output"] = {**page["output"], "sha256": file_sha256(path)}
        record["pages"] = [{**page["pages"][0], "page": n + 1} for n in range(count)]
        sidecars.append((path, record))
    time.sleep(0.1)  # the sidecars are written after the PDFs, in a later timestamp tick
    for path, record in sidecars:
        record["source"]["path"] = str(path)
        record["output"].update(pdf=str(path), sidecar=str(path.with_suffix(".json")))
        record["output"]["stat"] = stat_record(path.stat())  # as ocr scan records its output
        path.with_suffix(".json").write_text(sidecar_text(record), encoding="utf-8")
    return archive


def _pdf_run(seed_out: Path) -> dict:
    record = json.loads((seed_out / "page.json").read_text(encoding="utf-8"))["run"]
    return {**record, "options": {**record["options"], "pages": None, "existing_text": "skip"}}


def evict(*folders: Path) -> None:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                fd = os.open(path, os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)


def timed(command: list) -> tuple[float, float, int, int, str]:
    """Wall s, CPU s, peak RSS (MB) and bytes read (rchar, MB) of `command` (its workers are not
    counted: a re-run with nothing to do starts none), and its exit code and stderr."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped: its /proc stays
    wall = time.perf_counter() - started
    with open(f"/proc/{process.pid}/io") as io:
        rchar = next(int(line.split()[1]) for line in io if line.startswith("rchar:"))
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stderr is not None
    told = f"exit {os.waitstatus_to_exitcode(status)}\n{process.stderr.read()}" if status else ""
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, rchar // 2**20, told


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/rerun_scan"))
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--big", default="640,200,200", help="page counts of the big PDFs")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--in-place", action="store_true")
    parser.add_argument("--scan-outputs", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--stage-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    big = [int(n) for n in args.big.split(",") if n]
    archive, out = args.work / "archive", args.work / "archive-ocr"
    if args.in_place:
        archive = out = args.work / "archive-in-place"
    if args.stage_only:
        if args.in_place:
            stage_in_place(args.work, args.data, args.docs, big)
        else:
            stage(args.work, args.data, args.docs, big)
        return
    # Staged by a process of its own: a child forked from this one after it held the big sidecars
    # would report this process's peak RSS as its own.
    subprocess.run([sys.executable, __file__, "--stage-only", *sys.argv[1:]], check=True)
    size = sum(p.stat().st_size for p in archive.rglob("*") if p.is_file())
    size -= sum(p.stat().st_size for p in archive.rglob("*.json")) if args.in_place else 0
    sidecars = sum(p.stat().st_size for p in out.rglob("*.json"))
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    documents = args.docs + len(big)
    print(f"{documents} documents, {size / 2**20:.0f} MB of inputs, {sidecars / 2**20:.0f} MB of sidecars")
    where = ["--in-place"] if args.in_place else ["-o", out]
    command = [*OCR, "scan", archive, *where, "-q"] + (["--json", "/dev/null"] if args.json else [])
    if args.scan_outputs:  # nothing is written: every PDF there is an output of another file
        command = [*OCR, "scan", out, "-o", args.work / "outputs-scanned", "-q"]
    for run in range(args.repeat):
        if args.cold:
            evict(archive, out)
        wall, cpu, rss, read, stderr = timed(command)
        print(
            f"re-run {run + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss} MB, read {read} MB"
            + (f"\n{stderr}" if stderr else "")
        )


if __name__ == "__main__":
    main()
