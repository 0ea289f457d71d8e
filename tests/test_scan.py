"""`ocr scan` as users run it on folders: good files done, bad ones reported while the batch goes
on, JSON Lines on stdout only, resume, Ctrl-C, a worker killed mid-document, in-place safety."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import resource
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import img2pdf
import jsonschema
import pikepdf
import pytest
from common import (
    DATA,
    OCR,
    SCHEMA,
    TESS,
    damaged_scan_pdf,
    hashes,
    ocr,
    ocr_on_a_terminal,
    pdftotext,
    raised_as_another_user,
)
from PIL import Image

from ocrcli import cpus, discover, errors, fingerprint, models
from ocrcli.errors import WorkerStartError
from ocrcli.pool import EngineSpec, PageTask, TaskFailed, WorkerPool

TEMP_SUFFIX = ".ocrcli-tmp"


def image_pdf(path: Path, image: Path, copies: int) -> Path:
    """A scanned-style PDF (no text) made by img2pdf, `copies` pages of `image`."""
    path.write_bytes(img2pdf.convert([str(image)] * copies))
    return path


def pages_without_timings(sidecar: Path) -> list[dict]:
    pages = json.loads(sidecar.read_text(encoding="utf-8"))["pages"]
    for page in pages:
        page.pop("timings")
    return pages


def temporaries(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob(f"*{TEMP_SUFFIX}")]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A nested folder of good and bad files, and a hidden folder that must be left alone."""
    root = tmp_path_factory.mktemp("mixed") / "in"
    (root / "scans" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    Image.open(TESS / "phototest.tif").save(root / "phototest.tif")
    Image.open(TESS / "eurotext.tif").save(root / "scans" / "eurotext.tif")
    image_pdf(root / "scans" / "deeper" / "scan.pdf", TESS / "phototest-rotated-R.png", 1)
    Image.open(TESS / "phototest.tif").save(root / ".hidden" / "secret.png")
    (root / "empty.pdf").write_bytes(b"")
    (root / "notes.png").write_text("this is not an image\n")
    corrupt = root / "scans" / "corrupt.jpg"
    Image.open(TESS / "phototest.tif").convert("RGB").save(corrupt, quality=90)
    corrupt.write_bytes(corrupt.read_bytes()[: corrupt.stat().st_size // 3])
    locked = root / "scans" / "locked.pdf"
    with pikepdf.open(image_pdf(root / "plain.tmp", TESS / "phototest.tif", 1)) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    (root / "plain.tmp").unlink()
    return root


GOOD = ["phototest.tif", "scans/eurotext.tif", "scans/deeper/scan.pdf"]
BAD = {  # the reason in words, and as the error's kind
    "empty.pdf": ("empty", "corrupt"),
    "notes.png": ("not an image", "unsupported"),
    "scans/corrupt.jpg": ("truncated", "corrupt"),
    "scans/locked.pdf": ("encrypted", "encrypted"),
}


@pytest.fixture(scope="module")
def mixed_run(mixed: Path) -> tuple[subprocess.CompletedProcess, Path, dict[str, str]]:
    before = hashes(mixed)
    out = mixed.parent / "out"
    return ocr("scan", mixed, "-o", out, "--json", "-"), out, before


def test_mixed_folder_good_done_bad_reported(mixed: Path, mixed_run: tuple) -> None:
    run, out, before = mixed_run
    assert run.returncode == 3, run.stderr  # documented: some documents failed
    assert "Traceback" not in run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]  # stdout: JSON Lines only
    by_path = {Path(d["source"]["path"]).as_posix(): d for d in lines}
    root = mixed.as_posix() + "/"
    assert sorted(p.removeprefix(root) for p in by_path) == sorted([*GOOD, *BAD])  # hidden skipped
    for name, (reason, kind) in BAD.items():
        doc = by_path[root + name]
        assert doc["status"] == "failed" and reason in doc["error"]["message"], doc
        assert doc["error"]["kind"] == kind, doc
        jsonschema.validate(doc, SCHEMA)  # a failure record is a valid document without pages
        errors = [line for line in run.stderr.splitlines() if name in line and "error" in line]
        assert len(errors) == 1 and reason in errors[0], run.stderr
        assert not (out / name).with_suffix(".pdf").exists()
    for name in GOOD:
        doc = by_path[root + name]
        assert doc["status"] == "done" and doc["pages"][0]["lines"], doc
        jsonschema.validate(doc, SCHEMA)
        # "models" names the model of each role, as in ocr image and ocr pdf (README, schema); the
        # models' hashes are the run record's
        assert doc["models"] == models.select("fast").names(), doc["models"]
        pdf, sidecar = (out / name).with_suffix(".pdf"), (out / name).with_suffix(".json")
        assert doc["output"]["pdf"] == str(pdf) and json.loads(sidecar.read_text())["pages"] == doc["pages"]
    assert "quick brown dog" in " ".join(pdftotext(out / "phototest.pdf").split())
    assert "quick brown dog" in " ".join(pdftotext(out / "scans/deeper/scan.pdf").split())
    assert hashes(mixed) == before  # originals untouched
    assert not temporaries(out, mixed)


def test_rerun_skips_current_outputs_and_force_redoes(mixed: Path, mixed_run: tuple) -> None:
    _, out, _ = mixed_run
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = ocr("scan", mixed, "-o", out, "--json", "-")
    assert again.returncode == 3  # the bad files are still bad
    statuses = sorted(json.loads(line)["status"] for line in again.stdout.splitlines())
    assert statuses == ["current"] * len(GOOD) + ["failed"] * len(BAD)
    assert {p: p.stat().st_mtime_ns for p in written} == written  # nothing rewritten
    assert "up to date" in again.stderr

    forced = ocr("scan", mixed, "-o", out, "--force", "--include", "phototest.tif", "--json", "-")
    assert forced.returncode == 0, forced.stderr
    assert [json.loads(line)["status"] for line in forced.stdout.splitlines()] == ["done"]
    assert (out / "phototest.pdf").stat().st_mtime_ns > written[out / "phototest.pdf"]

    # --pages applies to PDFs: other pages redo the PDF, and leave the images current.
    paged = ocr("scan", mixed, "-o", out, "--pages", "1", "--json", "-")
    statuses = {
        json.loads(line)["source"]["path"]: json.loads(line)["status"] for line in paged.stdout.splitlines()
    }
    assert statuses[str(mixed / "scans/deeper/scan.pdf")] == "done"
    assert statuses[str(mixed / "phototest.tif")] == statuses[str(mixed / "scans/eurotext.tif")] == "current"


def test_head_closes_the_pipe_without_a_traceback(mixed: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*OCR, "scan", mixed, "-o", tmp_path / "out", "--json", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()
    process.stdout.close()  # what `| head -1` does
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 141, stderr  # documented: stdout closed by its reader
    assert json.loads(first)["source"]["path"]
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert not temporaries(tmp_path)


def test_an_os_error_of_the_scan_itself_is_not_told_as_the_streams(tmp_path: Path) -> None:
    """An OSError the batch raises other than in writing the JSON stream (the workers' fork failing
    under a process limit, EAGAIN) was reported as 'cannot write stdout: ...', exit 5, as if the
    output had failed; with --json - and without. It is an unexpected error (exit 1) now."""
    (tmp_path / "in").mkdir()
    Image.new("L", (64, 32), 255).save(tmp_path / "in" / "blank.png")
    script = (
        "import errno, sys, ocrcli.scan\n"
        "def run(self): raise OSError(errno.EAGAIN, 'Resource temporarily unavailable')\n"
        "ocrcli.scan.Scan.run = run\n"
        "from ocrcli.__main__ import main\n"
        "sys.argv = ['ocr', *sys.argv[1:]]\n"
        "main()\n"
    )
    for json_out in ([], ["--json", "-"], ["--json", tmp_path / "stream.jsonl"]):
        args = ["scan", tmp_path / "in", "-o", tmp_path / "out", "-q", *json_out]
        run = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True)
        assert run.returncode == 1, run.stderr
        assert "cannot write" not in run.stderr and "Resource temporarily unavailable" in run.stderr
        assert len(run.stderr.splitlines()) == 1, run.stderr  # one line, as ocr image's and pdf's
        assert "the documents done are written" in run.stderr


def _wait_for(condition, timeout: float = 300, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        assert process is None or process.poll() is None, "the command finished first"
        time.sleep(0.05)


def test_sigint_then_rerun_gives_the_clean_runs_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # a is one quick upright page and b has many, so Ctrl-C lands while b is still being read.
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    image_pdf(folder / "b.pdf", TESS / "phototest.tif", 24)
    Image.open(TESS / "phototest-rotated-L.png").save(folder / "c.png")
    before = hashes(folder)
    out = tmp_path / "out"
    temp = tmp_path / "temp"  # the runs' $TMPDIR: multiprocessing's pymp-* folders were left there
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    # A shell's background job (`cmd &`, nohup) starts with SIGINT ignored, and Python keeps it so:
    # give the command the default disposition that a terminal's foreground job has.
    process = subprocess.Popen(
        [*OCR, "scan", folder, "-o", out, "--jobs", "2"],  # b's pages on 2 workers, whatever the cores
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        env=env,
    )
    _wait_for(lambda: (out / "a.json").exists(), process=process)
    stopped = time.monotonic()
    for _ in range(3):  # as Ctrl-C pressed three times in a terminal: to the whole process group
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - stopped < 3, "Ctrl-C took too long"
    assert process.returncode == 130, stderr  # the later ones used to kill the shutdown (-2)
    assert "interrupted" in stderr and "Traceback" not in stderr and "Exception ignored" not in stderr
    assert not (out / "b.pdf").exists() and not (out / "b.json").exists()  # nothing half-written
    assert not temporaries(out, folder)
    assert not [p for p in temp.iterdir() if p.name.startswith("pymp-")]

    resumed = ocr("scan", folder, "-o", out, "-v", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "a.png: up to date" in resumed.stderr
    assert not [p for p in temp.iterdir() if p.name.startswith("pymp-")]
    clean = ocr("scan", folder, "-o", tmp_path / "clean")
    assert clean.returncode == 0, clean.stderr
    for name in ("a", "b", "c"):
        assert pages_without_timings(out / f"{name}.json") == pages_without_timings(
            tmp_path / "clean" / f"{name}.json"
        )
        assert pdftotext(out / f"{name}.pdf") == pdftotext(tmp_path / "clean" / f"{name}.pdf")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (tmp_path / "clean").iterdir())
    assert hashes(folder) == before


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_pids(pid: int) -> list[int]:
    """The pool's workers: processes multiprocessing spawned that have loaded models."""
    return [p for p in _descendants(pid) if "multiprocessing.spawn" in _cmdline(p) and _cpu_seconds(p) > 0.3]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


BUSY_PAGES = 40


def _scan_in_place_until_busy(folder: Path) -> subprocess.Popen:
    """`ocr scan --in-place --json -` started, returned once a worker has its models loaded and
    is into the first document's pages. Two workers whatever the machine's cores, and a first
    document of BUSY_PAGES pages, so that it is far from done then even on a CPU several times
    faster than ours (here a worker is at 1 CPU s after about 2 pages of phototest, and 40 pages
    take each of two workers about 7 CPU s)."""
    process = subprocess.Popen(
        [*OCR, "scan", folder, "--in-place", "--json", "-", "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: any(_cpu_seconds(p) > 1.0 for p in _worker_pids(process.pid)), process=process)
    return process


def test_killed_worker_fails_only_its_document_and_in_place_original_survives(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    long_pdf = image_pdf(folder / "long.pdf", TESS / "phototest.tif", BUSY_PAGES)
    short_pdf = image_pdf(folder / "m.pdf", TESS / "eurotext.tif", 1)
    Image.open(TESS / "phototest.tif").save(folder / "z.tif")
    long_before = long_pdf.read_bytes()
    # Once the workers are into long.pdf's pages (it comes first), kill one as the OOM killer would.
    process = _scan_in_place_until_busy(folder)
    victim = max(_worker_pids(process.pid), key=_cpu_seconds)
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 3, stderr
    docs = {Path(d["source"]["path"]).name: d for d in map(json.loads, stdout.splitlines())}
    assert docs["long.pdf"]["status"] == "failed", docs["long.pdf"]
    assert "killed by SIGKILL" in docs["long.pdf"]["error"]["message"]
    assert docs["long.pdf"]["error"]["kind"] == "crashed"
    assert any("long.pdf" in line and "SIGKILL" in line for line in stderr.splitlines())
    assert long_pdf.read_bytes() == long_before  # in place, but failed: byte-identical
    assert not (folder / "long.json").exists()
    # The pool carried on with a fresh worker: the other documents are done.
    assert docs["m.pdf"]["status"] == "done" and docs["z.tif"]["status"] == "done"
    assert "quick" in pdftotext(short_pdf)  # replaced in place: now searchable
    assert "quick brown dog" in " ".join(pdftotext(folder / "z.pdf").split())
    assert (folder / "z.json").exists() and (folder / "m.json").exists()
    assert not temporaries(folder)


def test_workers_of_a_scan_killed_outright_end_quietly(tmp_path: Path) -> None:
    """The main process killed outright (kill -9, the OOM killer, a crash in a PDF library):
    its workers, each finishing its page, found the pipe to it closed and printed two
    BrokenPipeError tracebacks apiece on the user's terminal. They end quietly."""
    folder = tmp_path / "in"
    folder.mkdir()
    image_pdf(folder / "long.pdf", TESS / "phototest.tif", BUSY_PAGES)
    process = subprocess.Popen(
        [*OCR, "scan", folder, "-o", tmp_path / "out", "--jobs", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: any(_cpu_seconds(p) > 1.0 for p in _worker_pids(process.pid)), process=process)
    workers = _worker_pids(process.pid)
    process.kill()
    _, stderr = process.communicate(timeout=120)  # its end: when every worker has closed stderr too
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), timeout=60)


def test_a_page_over_the_time_limit_fails_its_document_and_the_batch_goes_on(tmp_path: Path) -> None:
    """A worker stuck on a page (a pathological file) is stopped; here every page is "stuck"."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.tif")
    image_pdf(folder / "b.pdf", TESS / "eurotext.tif", 2)
    run = ocr("scan", folder, "-o", tmp_path / "out", "--page-timeout", "0.01", "--json", "-")
    assert run.returncode == 3, run.stderr
    docs = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(Path(d["source"]["path"]).name for d in docs) == ["a.tif", "b.pdf"]
    for doc in docs:
        assert doc["status"] == "failed" and "not done after 0.01 s; stopped" in doc["error"]["message"]
        assert doc["error"]["kind"] == "timeout"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.pdf"))
    assert not temporaries(tmp_path)


def test_a_batch_stopped_longer_than_the_page_time_limit_goes_on_when_continued(tmp_path: Path) -> None:
    """Ctrl-Z (or SIGSTOP) stops the scan and its workers; `fg` continues them. The page time
    limit counted the stop too: stopped longer than --page-timeout (600 s by default: a lunch
    break), every page in flight failed its document, "not done after 3 s; stopped", exit 3,
    though none took a second (found by a fresh-eyes audit of ocr scan)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for number in range(12):  # one worker, kept busy: a page is in flight when the batch stops
        Image.open(TESS / "phototest.tif").crop((0, 40 * number, 640, 40 * number + 120)).save(
            folder / f"p{number:02}.png"
        )
    args = ["scan", folder, "-o", tmp_path / "out", "--jobs", "1", "--page-timeout", "3", "--json", "-"]
    process = subprocess.Popen(
        [*OCR, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines = [process.stdout.readline()]  # a document done: the worker has its models, and a page
    os.killpg(process.pid, signal.SIGSTOP)
    time.sleep(5)  # longer than the limit
    os.killpg(process.pid, signal.SIGCONT)
    lines += process.stdout.read().splitlines()
    stderr = process.stderr.read()
    assert process.wait(timeout=600) == 0, stderr
    assert [json.loads(line)["status"] for line in lines] == ["done"] * 12, stderr


def test_pages_past_a_pdfs_end_are_reported_as_ocr_pdf_reports_them(tmp_path: Path) -> None:
    """--pages 2,9 over a 1-page and a 6-page PDF: both were "done", exit 0, not a word (the
    1-page one written as a copy). As ocr pdf does, and as README says of a batch: the PDF with no
    page selected fails, kind options (exit 2), nothing written for it; the other is OCRed, and a
    line names the pages it lacks."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.pdf").write_bytes((DATA / "pdfs" / "pikepdf_congress.pdf").read_bytes())
    (folder / "six.pdf").write_bytes((DATA / "pdfs" / "ocrmypdf_multipage.pdf").read_bytes())
    run = ocr("scan", folder, "-o", tmp_path / "out", "--pages", "2,9", "--json", "-", "-q")
    assert run.returncode == 2, run.stderr
    docs = {Path(doc["source"]["path"]).name: doc for doc in map(json.loads, run.stdout.splitlines())}
    refused = f"{folder / 'one.pdf'}: --pages 2,9: it has 1 page"
    assert docs["one.pdf"]["error"] == {"message": refused, "kind": "options"}
    assert docs["six.pdf"]["status"] == "done"
    assert [p["page"] for p in docs["six.pdf"]["pages"] if not p.get("skipped")] == [2]
    assert f"ocr: {folder / 'six.pdf'}: --pages 9: past its last page (6)" in run.stderr.splitlines()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["six.json", "six.pdf"]


def test_a_page_timeout_of_0_is_no_limit_and_one_too_long_is_a_usage_error(tmp_path: Path) -> None:
    """--page-timeout inf, 1e10 or 3e6 (over the 24.8 days a wait takes) ended in "unexpected
    OverflowError ... please report this", exit 1, and the obvious "no limit", 0, was refused. 0
    is no limit now (ocr pdf: no worker, as without the option), and over 1,000,000 s a usage error."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.tif")
    pdf = DATA / "pdfs" / "ocrmypdf_jbig2.pdf"
    for value in ("inf", "1e10", "3e6", "nan", "-1", "ten"):  # nan was "less than or equal to 1000000"
        for command in (("scan", folder), ("pdf", pdf, "-o", tmp_path / "x.pdf")):
            run = ocr(*command, "--page-timeout", value)
            told = f"{value!r} is not a number of seconds from 0 (no limit) to 1000000"
            assert run.returncode == 2 and told in run.stderr, (value, run.stderr)
    run = ocr("scan", folder, "-o", tmp_path / "out", "--page-timeout", "0", "--json", "-", "-q")
    assert run.returncode == 0 and json.loads(run.stdout)["status"] == "done", run.stderr
    run = ocr("pdf", pdf, "-o", tmp_path / "x.pdf", "--page-timeout", "0")
    assert run.returncode == 0, run.stderr


def test_a_page_too_complex_to_rewrite_is_named_on_stderr_and_the_batch_goes_on(tmp_path: Path) -> None:
    """The page is skipped while grafting (see pdfgraft.MAX_CONTENT_TOKENS), and that was said
    only in the summary, by reason, and in the JSON: a line now names the file and the page, as
    ocr pdf's does. Its document is done, the next page and the other documents OCRed."""
    import zlib

    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.tif")
    bomb = image_pdf(folder / "b.pdf", TESS / "phototest.tif", 2)
    with pikepdf.open(bomb, allow_overwriting_input=True) as pdf:
        content = pdf.make_stream(b"")
        content.write(zlib.compress(b"BT ET\n" * 6_000_000, 9), filter=pikepdf.Name.FlateDecode)
        pdf.pages[0].contents_add(content)
        pdf.save(bomb)
    run = ocr("scan", folder, "-o", tmp_path / "out", "--jobs", "1", "--json", "-")
    assert run.returncode == 0, run.stderr
    assert f"ocr: {bomb}: page 1 skipped: page content too complex to rewrite" in run.stderr
    docs = {Path(d["source"]["path"]).name: d for d in map(json.loads, run.stdout.splitlines())}
    assert [d["status"] for d in docs.values()] == ["done", "done"]
    assert "too complex" in docs["b.pdf"]["pages"][0]["skipped"] and docs["b.pdf"]["pages"][1]["lines"]


def test_a_damaged_page_is_named_and_skipped_with_or_without_the_pdf(tmp_path: Path) -> None:
    """A page that renders blank because its content cannot be decoded is skipped as damaged and
    named on stderr, the next page OCRed. With --no-pdf it read as a blank page, without a word:
    the PDF was closed once its pages were counted, and only the grafter looked at content."""
    folder = tmp_path / "in"
    folder.mkdir()
    damaged = damaged_scan_pdf(folder / "d.pdf")
    line = f"ocr: {damaged}: page 1 skipped: its content cannot be decoded"
    for name, more in (("out", []), ("sidecars", ["--no-pdf"])):
        run = ocr("scan", folder, "-o", tmp_path / name, "--jobs", "1", "--json", "-", *more)
        assert run.returncode == 0 and line in run.stderr.splitlines(), run.stderr
        pages = json.loads(run.stdout)["pages"]
        assert pages[0]["skip_kind"] == "damaged" and "skipped" not in pages[1] and pages[1]["lines"]
        assert json.loads((tmp_path / name / "d.json").read_text())["pages"] == pages


def test_the_page_time_limit_does_not_count_loading_the_models(tmp_path: Path) -> None:
    """A worker loads its models (about 1 s) before its first page; that used to count against
    the page's limit, and a worker started to replace a stopped one failed the next page too."""
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        # Blank pages: detection only, under 0.3 s a page on a machine loaded 2x over, while
        # starting a worker (imports, models) takes 1.5 s or more. A limit of 0.5 s on pages with
        # text (0.1 s each) failed on such a machine with the fix in place.
        Image.new("L", (640, 640), 255).save(folder / f"blank{k}.png")
    run = ocr("scan", folder, "--page-timeout", "1", "--jobs", "1", "--json", "-", "-q")
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["status"] for line in run.stdout.splitlines()] == ["done"] * 3


def test_exit_code_is_the_worst_failure_as_in_ocr_image(tmp_path: Path) -> None:
    """A failed document's exit code counted as 3 whatever its kind: an output that could not be
    written (5) or a bad setting (2) looked like a bad file. Bad files alone are 3."""
    folder, out = tmp_path / "in", tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").save(folder / "sub" / "a.tif")
    (folder / "bad.png").write_bytes(b"x")
    out.mkdir()
    (out / "sub").write_bytes(b"")  # a file where the output folder goes: a.pdf cannot be written

    def failed(*env: str) -> tuple[int, dict[str, dict[str, str]]]:
        """The scan's exit code and each input's error, with `env` ("NAME=VALUE") set."""
        settings = dict(e.split("=") for e in env)
        run = ocr("scan", folder, "-o", out, "--json", "-", "-q", env={**os.environ, **settings})
        records = map(json.loads, run.stdout.splitlines())
        return run.returncode, {Path(r["source"]["path"]).name: r["error"] for r in records}

    code, errors = failed()
    assert (code, errors["bad.png"]["kind"], errors["a.tif"]["kind"]) == (5, "unsupported", "output")
    # It said "cannot write out/sub/a.pdf: [Errno 17] File exists: 'out/sub'"
    assert (
        errors["a.tif"]["message"]
        == f"cannot write {out / 'sub' / 'a.pdf'}: {out / 'sub'} is a file, not a folder"
    )
    (out / "sub").unlink()
    code, errors = failed("OCRCLI_MAX_PIXELS=many")
    assert (code, errors["bad.png"]["kind"], errors["a.tif"]["kind"]) == (
        2,
        "options",
        "options",
    )  # read first
    (folder / "sub" / "a.tif").unlink()
    assert ocr("scan", folder, "-o", out, "-q").returncode == 3


def test_a_temporary_folder_that_cannot_take_the_json_fails_as_an_output(tmp_path: Path) -> None:
    """Each page's JSON is spooled to $TMPDIR: a full one ("No space left on device"; here a file
    size limit, "File too large") failed the document as unreadable, exit 3, without naming the
    temporary folder, as if the input were at fault; or stopped the batch with "unexpected
    OSError", exit 1, when the spool, closed, failed again."""
    import resource

    folder, temp = tmp_path / "in", tmp_path / "temp"
    folder.mkdir()
    temp.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.tif")

    def limit_file_size() -> None:  # the page's JSON is over 8 KB, its spool the first file written
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    run = subprocess.run(
        [*OCR, "scan", str(folder), "-o", str(tmp_path / "out"), "--json", "-", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        preexec_fn=limit_file_size,  # noqa: PLW1509 - no threads here
        timeout=300,
    )
    assert run.returncode == 5
    error = json.loads(run.stdout)["error"]
    assert error["kind"] == "output"
    assert error["message"] == f"cannot write {temp}: File too large, spooling the JSON of {folder / 'a.tif'}"
    assert list(temp.iterdir()) == []


def test_never_overwrites_what_it_did_not_make(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.tif")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.pdf").write_bytes(b"%PDF-1.4 the user's own file")
    run = ocr("scan", folder, "-o", out, "--json", "-")
    assert run.returncode == 3
    error = json.loads(run.stdout)["error"]
    assert "exists and was not made by ocrcli" in error["message"] and error["kind"] == "output"
    assert (out / "a.pdf").read_bytes() == b"%PDF-1.4 the user's own file"
    # An empty file there is replaced, as a sidecar's is and any output's is (it was refused)
    (out / "a.pdf").write_bytes(b"")
    assert ocr("scan", folder, "-o", out, "-q").returncode == 0
    assert (out / "a.pdf").read_bytes().startswith(b"%PDF") and "quick brown" in pdftotext(out / "a.pdf")
    # An output folder holding the input folder would put outputs on the originals.
    refused = ocr("scan", folder, "-o", tmp_path)
    assert refused.returncode == 2 and "contains the input folder" in refused.stderr


def test_outputs_without_a_text_layer_written_without_sidecars_are_ours_to_redo(tmp_path: Path) -> None:
    """After `ocr scan IN -o OUT --no-sidecar`, `ocr scan IN -o OUT` (now wanting the JSON too)
    failed every document whose PDF has no text layer of ours: a PDF whose pages all have text
    (its output is an exact copy) and a blank page ('OUT/x.pdf exists and was not made by
    ocrcli; leaving it', exit 3, on every run after). Both are ocrcli's outputs and are redone."""
    folder = tmp_path / "in"
    folder.mkdir()
    with pikepdf.open(DATA / "pdfs" / "pdfjs_sizes.pdf") as pdf:  # three pages, all with text
        pdf.save(folder / "typed.pdf")
    Image.new("L", (300, 200), 255).save(folder / "blank.png")
    out = tmp_path / "out"
    first = ocr("scan", folder, "-o", out, "--no-sidecar", "-q")
    assert first.returncode == 0, first.stderr
    assert (out / "typed.pdf").read_bytes() == (folder / "typed.pdf").read_bytes()
    second = ocr("scan", folder, "-o", out, "--json", "-", "-q")
    assert second.returncode == 0, second.stderr
    assert sorted(json.loads(line)["status"] for line in second.stdout.splitlines()) == ["done", "done"]
    assert (out / "typed.json").exists() and (out / "blank.json").exists()


def test_no_sidecar_removes_the_sidecar_its_new_pdf_makes_wrong(tmp_path: Path) -> None:
    """`ocr scan --no-sidecar` after a run with sidecars, the input since changed, left the old
    sidecar beside the new PDF: another input's text and the replaced PDF's hash, read as the
    new PDF's. A file of the user's at that name is not touched."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    page = Image.open(TESS / "phototest.tif")
    page.save(folder / "a.png")
    assert ocr("scan", folder, "-o", out, "-q").returncode == 0
    assert json.loads((out / "a.json").read_text())["output"]["pdf"] == str(out / "a.pdf")
    page.crop((0, 0, page.width, page.height // 2)).save(folder / "a.png")
    run = ocr("scan", folder, "-o", out, "--no-sidecar", "-q")
    assert run.returncode == 0, run.stderr
    assert (out / "a.pdf").exists() and not (out / "a.json").exists()
    (out / "a.json").write_text('{"my": "notes"}')
    page.crop((0, 0, page.width // 2, page.height)).save(folder / "a.png")
    assert ocr("scan", folder, "-o", out, "--no-sidecar", "-q").returncode == 0
    assert (out / "a.json").read_text() == '{"my": "notes"}'
    # In place, a PDF OCRed before is left as it is (its pages have an OCR layer): its sidecar,
    # which records it, is still right and stays.
    image_pdf(folder / "b.pdf", TESS / "phototest.tif", 1)
    assert ocr("scan", folder, "--in-place", "--include", "*.pdf", "-q").returncode == 0
    sidecar = (folder / "b.json").read_bytes()
    assert ocr("scan", folder, "--in-place", "--include", "*.pdf", "--no-sidecar", "-q").returncode == 0
    assert (folder / "b.json").read_bytes() == sidecar


def test_models_missing_is_one_line_and_exit_4(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    Image.open(TESS / "phototest.tif").save(tmp_path / "in" / "a.tif")
    run = ocr("scan", tmp_path / "in", "--models", tmp_path / "nowhere")
    assert run.returncode == 4, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 2


def test_in_place_rerun_with_other_options_keeps_the_sidecar(tmp_path: Path) -> None:
    """Our PDF, redone with other options, would have every page skipped as having an OCR layer
    and its sidecar emptied: it counts as current unless --redo or --force."""
    folder = tmp_path / "in"
    folder.mkdir()
    image_pdf(folder / "a.pdf", TESS / "phototest.tif", 1)
    assert ocr("scan", folder, "--in-place").returncode == 0
    before = (folder / "a.json").read_text()
    again = ocr("scan", folder, "--in-place", "--tier", "accurate", "--json", "-")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "current"
    assert (folder / "a.json").read_text() == before
    assert json.loads(before)["pages"][0]["lines"]


def test_in_place_rerun_with_other_pages_ocrs_them_and_keeps_the_first(tmp_path: Path) -> None:
    """--in-place --pages 1, then --pages 2: page 2 is OCRed (it was called current before and
    never OCRed) and the sidecar keeps page 1's entry; the same --pages again is current."""
    folder = tmp_path / "in"
    folder.mkdir()
    image_pdf(folder / "a.pdf", TESS / "phototest.tif", 2)
    assert ocr("scan", folder, "--in-place", "--pages", "1").returncode == 0
    first = json.loads((folder / "a.json").read_text())["pages"]
    run = ocr("scan", folder, "--in-place", "--pages", "2", "--json", "-")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "done"
    pages = json.loads((folder / "a.json").read_text())["pages"]
    assert pages[0] == first[0] and pages[0]["lines"]
    assert [line["text"] for line in pages[1]["lines"]] == [line["text"] for line in first[0]["lines"]]
    page_two = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", folder / "a.pdf", "-"], capture_output=True, text=True
    )
    assert "lazy fox" in page_two.stdout
    again = ocr("scan", folder, "--in-place", "--pages", "2", "--json", "-")
    assert json.loads(again.stdout)["status"] == "current"


def test_in_place_rerun_after_a_page_was_deleted_keeps_the_other_pages_entries(tmp_path: Path) -> None:
    """A PDF OCRed in place, then edited (its first page deleted): the re-run found its other page
    skipped as having an OCR layer and wrote a sidecar without its text. It keeps the entry whose
    layer the page carries, numbered 1 now (see test_searchable's test of `ocr pdf`)."""
    folder = tmp_path / "in"
    folder.mkdir()
    pdf = folder / "a.pdf"
    pdf.write_bytes(img2pdf.convert([str(TESS / "eurotext.tif"), str(TESS / "phototest.tif")]))
    assert ocr("scan", folder, "--in-place", "-q").returncode == 0
    first = json.loads((folder / "a.json").read_text())["pages"]
    with pikepdf.open(pdf, allow_overwriting_input=True) as edited:
        del edited.pages[0]
        edited.save(pdf)
    run = ocr("scan", folder, "--in-place", "--json", "-", "-q")
    assert run.returncode == 0, run.stderr
    (record,) = map(json.loads, run.stdout.splitlines())
    pages = json.loads((folder / "a.json").read_text())["pages"]
    assert record["status"] == "done" and record["pages"] == pages == [{**first[1], "page": 1}]
    assert "lazy fox" in " ".join(line["text"] for line in pages[0]["lines"])


def test_scans_in_formats_not_read_are_reported_not_skipped_silently(tmp_path: Path) -> None:
    """A folder of a phone's HEIC photos said only "0 documents": files in formats scans and
    photos come in that ocr does not read (HEIC, JPEG XL, DjVu, raw, XPS) are counted on stderr,
    each named with -v, as the globs leave them; other files (notes.txt) are not inputs at all."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    for name in ("b.HEIC", "sub/c.heic", "d.jxl", "book.djvu", "notes.txt", ".e.heic"):
        (folder / name).write_bytes(b"\0" * 64)
    run = ocr("scan", folder, "-o", tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert (
        f"ocr: {folder}: left out 4 files in formats ocr does not read (1 .djvu, 2 .heic, 1 .jxl): "
        "convert them to JPEG, PNG, TIFF or PDF to OCR them"
    ) in run.stderr.splitlines()
    assert (tmp_path / "out" / "a.pdf").exists() and len(list((tmp_path / "out").rglob("*.pdf"))) == 1
    heic = ("--exclude", "*.heic", "--exclude", "*.HEIC")
    verbose = ocr("scan", folder, "--no-pdf", "-o", tmp_path / "out2", "-v", *heic)
    lines = verbose.stderr.splitlines()
    named = [f"ocr: {folder / name}: skipped: a format ocr does not read" for name in ("book.djvu", "d.jxl")]
    counted = f"ocr: {folder}: left out 2 files in formats ocr does not read (1 .djvu, 1 .jxl): "
    assert lines[:3] == [*named, counted + "convert them to JPEG, PNG, TIFF or PDF to OCR them"]
    assert "heic" not in verbose.stderr and "notes" not in verbose.stderr
    assert "ocr does not read" not in ocr("scan", folder, "-o", tmp_path / "out3", "-q").stderr


def test_in_place_leaves_a_pdf_edited_during_its_ocr_and_one_with_nothing_to_add(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    edited = image_pdf(folder / "a.pdf", TESS / "phototest.tif", BUSY_PAGES)
    born_digital = folder / "b.pdf"  # every page has text: nothing to add, so not rewritten
    born_digital.write_bytes((DATA / "pdfs" / "pypdf_sample_files_crazyones-pdfa.pdf").read_bytes())
    digital_before = born_digital.read_bytes()
    process = _scan_in_place_until_busy(folder)
    with open(edited, "ab") as f:  # the user saves the file meanwhile (an incremental update)
        f.write(b"\n% edited by the user\n")
    users_version = edited.read_bytes()
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 3, stderr
    docs = {Path(d["source"]["path"]).name: d for d in map(json.loads, stdout.splitlines())}
    assert "changed while it was being OCRed" in docs["a.pdf"]["error"]["message"]
    assert docs["a.pdf"]["error"]["kind"] == "changed"
    assert edited.read_bytes() == users_version  # the user's save wins
    assert docs["b.pdf"]["status"] == "done" and docs["b.pdf"]["pages"][0]["skipped"]
    assert born_digital.read_bytes() == digital_before
    assert not temporaries(folder)


def test_discovery_skips_hidden_and_output_folders_and_names_outputs(tmp_path: Path) -> None:
    root = tmp_path / "in"
    names = ["a.png", "a.pdf", "b.JPG", "sub/c.tiff", "sub/c.png", ".h.png", ".git/d.png", "out/e.png"]
    names.append("notes.txt")
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    found = discover.find_files(root, skip=[root / "out"])
    assert [p.relative_to(root).as_posix() for p in found] == [
        "a.pdf",
        "a.png",
        "b.JPG",
        "sub/c.png",
        "sub/c.tiff",
    ]
    assert [p.name for p in discover.find_files(root, include=["*.png", "sub/*"])] == [
        "a.png",
        "e.png",
        "c.png",
        "c.tiff",
    ]
    assert [p.name for p in discover.find_files(root, exclude=["sub/*", "a.*"], skip=[root / "out"])] == [
        "b.JPG"
    ]
    assert [p.name for p in discover.find_files(root, recursive=False)] == ["a.pdf", "a.png", "b.JPG"]

    out = tmp_path / "out"
    items = {i.path.name: i for i in discover.plan(found, root, out)}
    assert items["a.pdf"].pdf == out / "a.pdf" and items["a.pdf"].sidecar == out / "a.json"
    assert items["a.png"].pdf == out / "a.png.pdf"  # a.pdf is taken by the PDF of the same name
    assert items["a.png"].sidecar == out / "a.png.json"
    # Two images of one stem: each keeps its extension, neither overwrites the other.
    assert items["c.tiff"].pdf == out / "sub" / "c.tiff.pdf"
    assert items["c.png"].pdf == out / "sub" / "c.png.pdf"
    in_place = {i.path.name: i for i in discover.plan(found, root, None, sidecar=False)}
    assert in_place["a.pdf"].pdf == root / "a.pdf" and in_place["a.pdf"].sidecar is None
    assert in_place["b.JPG"].pdf == root / "b.pdf"
    assert discover.plan(found, root, out, pdf=False)[0].pdf is None


def test_progress_on_a_terminal_goes_to_stderr_and_stdout_stays_json(tmp_path: Path) -> None:
    """stderr on a terminal (a pty) gets the live progress; stdout, a pipe, only JSON Lines."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.tif")
    Image.open(TESS / "eurotext.tif").save(folder / "b.tif")
    code, stdout, screen = ocr_on_a_terminal(
        "scan", folder, "-o", tmp_path / "out", "--json", "-", columns=200
    )
    assert code == 0
    lines = stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["status"] == "done" for line in lines)
    assert "pages/s" in screen and "docs" in screen and "ETA" in screen  # the live display
    assert "\x1b[" not in stdout  # no terminal codes leak into the JSON


def test_json_lines_on_the_terminal_of_the_progress_display_stand_on_lines_of_their_own(
    tmp_path: Path,
) -> None:
    """`ocr scan DIR --json -` in a terminal printed each document's JSON line right after the
    progress line, on the same row ("OCR ━━━ 0/2 docs, ... in/a.tif{"schema_version": ...), and
    left that row behind. As in ocr image, results printed to the terminal as they come have no
    progress display over them (found by a fresh-eyes audit of ocr scan)."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "a.tif")
    Image.open(TESS / "phototest.tif").crop((0, 120, 640, 240)).save(folder / "b.tif")
    code, _, screen = ocr_on_a_terminal(
        "scan", folder, "-o", tmp_path / "out", "--json", "-", columns=200, stdout_too=True
    )
    assert code == 0, screen
    printed = [line.strip("\r") for line in screen.split("\n") if '"schema_version"' in line]
    assert len(printed) == 2 and all(json.loads(line)["status"] == "done" for line in printed), screen
    assert " docs, " not in screen, screen  # no progress line


INTERRUPT_AFTER_REPLACING = """
import os, signal, sys
from pathlib import Path
from ocrcli import cli, fingerprint, models, safewrite
hash_file = fingerprint.file_sha256
def hash_then_interrupt(path):
    # Ctrl-C exactly between the PDF's rename and its sidecar: the output is hashed there.
    if str(path).endswith(".pdf") and safewrite.replacements(path):
        os.kill(os.getpid(), signal.SIGINT)
        if os.environ.get("BLOCK_SIDECAR"):  # a folder where the sidecar goes: its write fails
            Path(path).with_suffix(".json").mkdir()
    return hash_file(path)
fingerprint.file_sha256 = hash_then_interrupt
sys.argv = ["ocr", *sys.argv[1:]]
cli.main()
"""


def test_ctrl_c_once_the_pdf_is_replaced_still_writes_its_sidecar(tmp_path: Path) -> None:
    """An in-place PDF replaced just before Ctrl-C used to be left without its sidecar, and the run
    said "documents in progress were not written"; a re-run then saw only an OCR layer to skip."""
    folder = tmp_path / "scans"
    folder.mkdir()
    pdf = image_pdf(folder / "page.pdf", TESS / "phototest.tif", 1)
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AFTER_REPLACING, "scan", folder, "--in-place", "-q"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 130, result.stderr
    record = json.loads((folder / "page.json").read_text())
    assert record["output"]["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert "lazy fox" in pdftotext(pdf) and "lazy fox" in json.dumps(record)
    rerun = ocr("scan", folder, "--in-place", "--json", "-", "-q")
    assert [json.loads(line)["status"] for line in rerun.stdout.splitlines()] == ["current"]


def test_file_names_that_are_not_utf8_are_read_written_and_reported_as_valid_json(tmp_path: Path) -> None:
    """A name made on another system (latin-1 bytes) used to fail PDFs with 'unexpected TypeError'
    (pikepdf takes only UTF-8 paths) and put a raw 0xff byte into the JSON stream."""
    folder = tmp_path / "scans"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9")  # a lone surrogate in Python
    image_pdf(folder / f"{name}.pdf", TESS / "phototest.tif", 1)
    result = subprocess.run([*OCR, "scan", folder, "--json", "-", "-q"], capture_output=True, timeout=900)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.decode("utf-8").splitlines()  # strict UTF-8
    document = json.loads(line)
    assert document["status"] == "done" and document["source"]["path"] == str(folder / f"{name}.pdf")
    out = folder.parent / "scans-ocr" / f"{name}.pdf"
    assert "lazy fox" in pdftotext(out)
    again = ocr("pdf", out, "-o", tmp_path / f"{name}-again.pdf", "--redo")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / f"{name}-again.json").read_bytes().decode("utf-8"))["pages"][0]["lines"]


def test_an_images_pdf_written_beside_it_is_no_input_of_a_later_scan(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    receipt = Image.open(Path(__file__).resolve().parents[1] / "examples" / "scans" / "receipt.jpg")
    receipt.crop((0, 0, receipt.width, receipt.height // 4)).save(folder / "r.png")
    assert ocr("scan", folder, "--in-place", "-q").returncode == 0
    assert (folder / "r.pdf").exists()
    run = ocr("scan", folder, "-o", tmp_path / "out", "--json", "-", "-q")
    assert run.returncode == 0, run.stderr
    assert [Path(json.loads(line)["source"]["path"]).name for line in run.stdout.splitlines()] == ["r.png"]
    # A PDF that `ocr pdf -o` made from another PDF is a document: it is read.
    made = ocr("pdf", folder / "r.pdf", "-o", tmp_path / "m" / "report.pdf", "--redo")
    assert made.returncode == 0, made.stderr
    run = ocr("scan", tmp_path / "m", "-o", tmp_path / "m2", "--json", "-", "-q", "--redo")
    assert [Path(json.loads(line)["source"]["path"]).name for line in run.stdout.splitlines()] == [
        "report.pdf"
    ]


def test_in_place_without_sidecars_a_rerun_skips_the_images_pdfs_it_wrote(tmp_path: Path) -> None:
    """`ocr scan DIR --in-place --no-sidecar`, run again (nightly, say), read the PDFs it had
    written beside the images as new documents: a.png's output was then named a.png.pdf, a
    second PDF of it, and the third run failed every image ('its output a.png.pdf is also that
    of a.png.pdf'). Without a sidecar, the image's PDF itself says which image it was made from."""
    folder = tmp_path / "in"
    folder.mkdir()
    receipt = Image.open(Path(__file__).resolve().parents[1] / "examples" / "scans" / "receipt.jpg")
    receipt.crop((0, 0, receipt.width, receipt.height // 4)).save(folder / "r.png")
    Image.new("L", (300, 200), 255).save(folder / "blank.tif")  # no text: its PDF gets no layer
    runs = [ocr("scan", folder, "--in-place", "--no-sidecar", "--json", "-", "-q") for _ in range(3)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["blank.pdf", "blank.tif", "r.pdf", "r.png"]
    for run, status in zip(runs, ["done", "current", "current"], strict=True):
        records = [json.loads(line) for line in run.stdout.splitlines()]
        assert sorted((Path(r["source"]["path"]).name, r["status"]) for r in records) == [
            ("blank.tif", status),
            ("r.png", status),
        ]


def test_in_place_an_images_pdf_beside_its_no_pdf_sidecar_is_the_images(tmp_path: Path) -> None:
    """`ocr scan DIR --in-place --no-pdf`, then `--no-sidecar`: the PDF written beside the image,
    whose sidecar (still right: the image's text) names no PDF, was read by the next run as a new
    document; the image's output became a.png.pdf and a.png.json, a second PDF of it, and its
    sidecar a.json was replaced by the PDF's."""
    folder = tmp_path / "in"
    folder.mkdir()
    receipt = Image.open(Path(__file__).resolve().parents[1] / "examples" / "scans" / "receipt.jpg")
    receipt.crop((0, 0, receipt.width, receipt.height // 4)).save(folder / "r.png")
    for only in ("--no-pdf", "--no-sidecar"):
        assert ocr("scan", folder, "--in-place", only, "-q").returncode == 0
    run = ocr("scan", folder, "--in-place", "--json", "-", "-q")
    assert run.returncode == 0, run.stderr
    assert [Path(json.loads(line)["source"]["path"]).name for line in run.stdout.splitlines()] == ["r.png"]
    assert sorted(p.name for p in folder.iterdir()) == ["r.json", "r.pdf", "r.png"]
    assert json.loads((folder / "r.json").read_text())["output"]["pdf"] == str(folder / "r.pdf")


def test_ctrl_c_held_while_a_sidecar_fails_still_stops_the_batch(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    first = image_pdf(folder / "a.pdf", TESS / "phototest.tif", 1)
    second = image_pdf(folder / "b.pdf", TESS / "phototest.tif", 1)
    untouched = second.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AFTER_REPLACING, "scan", folder, "--in-place", "-q", "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "BLOCK_SIDECAR": "1"},
    )
    assert result.returncode == 130, result.stderr  # it went on to b.pdf and exited 3
    assert "lazy fox" in pdftotext(first) and second.read_bytes() == untouched


def test_outputs_of_inputs_sharing_a_stem_in_any_case_keep_their_extension() -> None:
    """X.jpg beside x.png: X.json and x.json are one file where case is ignored."""
    files = [Path("d/X.jpg"), Path("d/x.png"), Path("e/x.tif"), Path("d/y.png")]
    assert discover.output_names(files, by_folder=True) == ["X.jpg", "x.png", "x", "y"]
    assert discover.output_names(files, by_folder=False) == ["X.jpg", "x.png", "x.tif", "y"]


def test_a_sidecar_edited_out_of_shape_is_the_users_not_a_crash(tmp_path: Path) -> None:
    """A hand-edited sidecar (its source made a string, its pages dropped) failed the resume check
    with 'unexpected KeyError' or AttributeError, and `--in-place` died with a traceback before any
    work; streamed again as "current", `"pages": "none"` broke the schema."""
    (tmp_path / "a.png").write_bytes(b"x")
    sidecar = tmp_path / "a.json"
    ours = {"tool": {"name": "ocrcli"}, "source": {"path": "a.png"}, "pages": [], "output": {"pdf": "a.pdf"}}
    sidecar.write_text(json.dumps(ours))
    assert discover.read_sidecar(sidecar) == ours and discover.made_by_us(tmp_path / "a.pdf")
    for edit in ({"source": "a.png"}, {"pages": "none"}, {"output": "a.pdf"}, {"run": None}):
        sidecar.write_text(json.dumps({**ours, **edit}))
        assert discover.read_sidecar(sidecar) is None, edit
        assert not discover.made_by_us(tmp_path / "a.pdf")
        assert "no ocrcli sidecar" in (discover.foreign_sidecar(sidecar) or "")
    sidecar.write_text(json.dumps({key: value for key, value in ours.items() if key != "pages"}))
    assert discover.read_sidecar(sidecar) is None


def test_a_named_pipe_or_a_link_to_a_device_fails_instead_of_hanging_the_batch(tmp_path: Path) -> None:
    """Hashing a FIFO named .pdf, or a link to /dev/zero named .png, blocked the batch for ever."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "good.png")
    os.mkfifo(folder / "pipe.pdf")
    (folder / "zero.png").symlink_to("/dev/zero")
    with socket.socket(socket.AF_UNIX) as listening:  # a socket named .png was called a pipe
        listening.bind(str(folder / "socket.png"))
    run = subprocess.run(
        [*OCR, "scan", folder, "-o", tmp_path / "out", "--json", "-", "-q", "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 3, run.stderr
    docs = {Path(d["source"]["path"]).name: d for d in map(json.loads, run.stdout.splitlines())}
    assert docs["good.png"]["status"] == "done"
    for name, what in (("pipe.pdf", "a named pipe"), ("zero.png", "a device"), ("socket.png", "a socket")):
        assert f"not a regular file ({what})" in docs[name]["error"]["message"]
        assert docs[name]["error"]["kind"] == "unreadable"


def test_a_file_gone_or_unreadable_fails_as_ocr_image_and_ocr_pdf_say_it(tmp_path: Path) -> None:
    """A link to nothing (as a file gone between listing and reading) failed with Python's
    "[Errno 2] No such file or directory: 'PATH'" and the kind unreadable, where ocr image and ocr
    pdf say (now "a link to a file that is not there"), missing."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "gone.png").symlink_to(tmp_path / "nothing.png")
    (folder / "gone.pdf").symlink_to(tmp_path / "nothing.pdf")
    run = ocr("scan", folder, "-o", tmp_path / "out", "--json", "-", "-q", "--jobs", "1", timeout=120)
    assert run.returncode == 3 and len(run.stdout.splitlines()) == 2, run.stderr
    for doc in map(json.loads, run.stdout.splitlines()):
        jsonschema.validate(doc, SCHEMA)
        said = f"{doc['source']['path']}: a link to a file that is not there"
        assert doc["error"] == {"message": said, "kind": "missing"}


def test_inputs_whose_outputs_clash_are_both_refused() -> None:
    files = [Path(f"in/{name}") for name in ("a.jpg", "a.png", "a.png.pdf", "b.pdf", "x.PDF", "x.pdf")]
    for output_dir in (None, Path("out")):
        items = discover.plan(files, Path("in"), output_dir)
        clashes = discover.clashes(items)
        assert sorted(path.name for path in clashes) == ["a.png", "a.png.pdf", "x.PDF", "x.pdf"]
        assert "a.png.pdf is also that of in/a.png.pdf" in clashes[Path("in/a.png")]
        assert "x.json is also that of in/x.pdf" in clashes[Path("in/x.PDF")]
    assert not discover.clashes(discover.plan(files[:2], Path("in"), None))


def test_an_output_that_would_be_a_folder_of_outputs_is_refused_before_any_work(tmp_path: Path) -> None:
    """a.jpg beside a subfolder a.pdf/ (and x.pdf beside x.json/): a.jpg's PDF and the folder the
    subfolder's outputs go into are one path. Whichever document was done first took it, and the
    other failed as an output that cannot be written (exit 5), after its OCR, on every run. Now the
    file's document is refused before any work, naming the other; the subfolder's are done."""
    folder, out = tmp_path / "in", tmp_path / "out"
    (folder / "a.pdf").mkdir(parents=True)
    (folder / "x.json").mkdir()
    line = Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).convert("RGB")
    for path in (folder / "a.jpg", folder / "a.pdf" / "in.png", folder / "x.json" / "y.png"):
        line.save(path)
    (folder / "x.pdf").write_bytes((DATA / "pdfs" / "pdfjs_hello_world_rotated.pdf").read_bytes())
    run = ocr("scan", folder, "-o", out, "--json", "-", "-q", "--jobs", "1")
    assert run.returncode == 3, run.stderr
    docs = {
        Path(d["source"]["path"]).relative_to(folder).as_posix(): d
        for d in map(json.loads, run.stdout.splitlines())
    }
    assert {name: d["status"] for name, d in docs.items()} == {
        "a.jpg": "failed",
        "a.pdf/in.png": "done",
        "x.json/y.png": "done",
        "x.pdf": "failed",
    }
    assert {docs[name]["error"]["kind"] for name in ("a.jpg", "x.pdf")} == {"output"}
    assert docs["a.jpg"]["error"]["message"] == (
        f"{folder / 'a.jpg'}: its output {out / 'a.pdf'} is also the folder of "
        f"{folder / 'a.pdf' / 'in.png'}'s outputs: rename one"
    )
    assert docs["x.pdf"]["error"]["message"].endswith(f"{folder / 'x.json' / 'y.png'}'s outputs: rename one")
    assert (out / "a.pdf" / "in.pdf").is_file() and (out / "x.json" / "y.json").is_file()


def test_inputs_whose_outputs_names_are_too_long_are_refused(tmp_path: Path) -> None:
    """An image named with 251 bytes + ".jpg" has a 255-byte PDF but a 256-byte sidecar: it failed
    with "[Errno 36] File name too long" only after its OCR, its PDF written and left without its
    sidecar. Now it fails before any work, saying why; the name it would need is the limit."""
    folder = tmp_path / "in"
    folder.mkdir()
    line = Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).convert("RGB")
    long, fits = "a" * 251 + ".jpg", "b" * 250 + ".jpg"  # sidecars of 256 and 255 bytes
    for name in (long, fits):
        line.save(folder / name)
    items = discover.plan(sorted(folder.iterdir()), folder, tmp_path / "out")
    assert list(discover.too_long(items)) == [folder / long]
    run = ocr("scan", folder, "-o", tmp_path / "out", "--json", "-", "-q", "--jobs", "1")
    assert run.returncode == 3, run.stderr
    docs = {Path(d["source"]["path"]).name: d for d in map(json.loads, run.stdout.splitlines())}
    assert docs[fits]["status"] == "done"
    message = docs[long]["error"]["message"]
    assert "a name of 256 bytes, over the file system's 255" in message and "rename it" in message
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        fits.removesuffix(".jpg") + ".json",
        fits.removesuffix(".jpg") + ".pdf",
    ]
    assert "Errno" not in run.stderr and "Traceback" not in run.stderr


def test_an_images_pdf_never_lands_on_a_pdf_of_that_name(tmp_path: Path) -> None:
    """a.png beside a.jpg writes a.png.pdf: in place, a second run replaced the user's own PDF
    named a.png.pdf (OCRed in place by the first) with the image's."""
    folder = tmp_path / "in"
    folder.mkdir()
    line = Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120))
    line.save(folder / "a.png")
    line.save(folder / "a.jpg")
    users = image_pdf(folder / "a.png.pdf", TESS / "phototest.tif", 2).read_bytes()
    run = ocr("scan", folder, "--in-place", "--json", "-", "-q", "--jobs", "1")
    assert run.returncode == 3, run.stderr
    docs = {Path(d["source"]["path"]).name: d for d in map(json.loads, run.stdout.splitlines())}
    assert docs["a.jpg"]["status"] == "done"
    for name in ("a.png", "a.png.pdf"):
        assert "rename one" in docs[name]["error"]["message"]
    assert (folder / "a.png.pdf").read_bytes() == users


UNLISTABLE_FOLDER = """
import os, sys
from ocrcli import cli
listing = os.scandir
def refuse(path="."):
    # A folder without read permission; chmod would not do: the tests may run as root.
    if os.fspath(path).endswith("locked"):
        raise PermissionError(13, "Permission denied", path)
    return listing(path)
os.scandir = refuse
sys.argv = ["ocr", *sys.argv[1:]]
cli.main()
"""


def test_a_folder_deeper_than_path_max_is_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    """A folder whose path is over PATH_MAX (4096 bytes) raised ENAMETOOLONG while the folders
    were looked through: a traceback (exit 1) and nothing scanned, the other files neither."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "ok.png")
    below = os.open(folder, os.O_RDONLY)
    for letter in "abcdefghijklmnopq":  # 17 names of 250 bytes: made one inside the other by handle
        os.mkdir(letter * 250, dir_fd=below)
        below, above = os.open(letter * 250, os.O_RDONLY, dir_fd=below), below
        os.close(above)
    os.close(below)
    run = ocr("scan", "in", "--json", "-", cwd=tmp_path)  # -q does not look for links
    assert run.returncode == 3, run.stderr
    records = {Path(r["source"]["path"]).name[:1]: r for r in map(json.loads, run.stdout.splitlines())}
    assert records["o"]["status"] == "done" and (tmp_path / "in-ocr" / "ok.pdf").exists()
    (deep,) = [r for name, r in records.items() if name != "o"]
    assert deep["status"] == "failed" and "(File name too long)" in deep["error"]["message"], deep
    assert "Traceback" not in run.stderr


def test_a_folder_that_cannot_be_listed_is_reported_not_skipped_silently(tmp_path: Path) -> None:
    """os.walk drops a folder it cannot list without a word: its files were missing from the
    batch, and with nothing else wrong the run exited 0."""
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "locked" / "a.png")
    command = [sys.executable, "-c", UNLISTABLE_FOLDER, "scan", folder, "--json", "-", "--jobs", "1"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 3, run.stderr
    (record,) = map(json.loads, run.stdout.splitlines())
    jsonschema.validate(record, SCHEMA)
    assert record["status"] == "failed" and record["source"]["path"] == str(folder / "locked")
    assert "cannot list this folder (Permission denied)" in record["error"]["message"]
    assert record["error"]["kind"] == "unreadable"
    assert f"error: {folder / 'locked'}: cannot list" in run.stderr


def test_a_full_disk_is_the_outputs_error_whatever_file_it_names(tmp_path: Path) -> None:
    """pikepdf names its stream, not a path, when the disk fills while it saves: the error was
    taken for another file's, and ocr pdf ended in 'unexpected OSError ... (please report this)',
    exit 1, ocr scan in an input error naming the temporary file."""
    from ocrcli.errors import EXIT_OUTPUT, OutputError
    from ocrcli.safewrite import write_atomically

    def fill_the_disk(tmp: Path) -> None:
        raise OSError(28, "No space left on device", f"<_io.BufferedWriter name='{tmp}'>")

    with pytest.raises(OutputError) as caught:
        write_atomically(tmp_path / "out.pdf", fill_the_disk)
    assert caught.value.exit_code == EXIT_OUTPUT
    assert str(caught.value) == f"cannot write {tmp_path / 'out.pdf'}: No space left on device"
    assert not temporaries(tmp_path)


def test_an_output_named_near_the_file_systems_limit_is_written(tmp_path: Path) -> None:
    """A scan named with 244 bytes failed its document: the temporary file beside its output,
    .NAME.xxxxxxxx.ocrcli-tmp, is longer than the 255 bytes a name may take."""
    from ocrcli.safewrite import write_bytes_atomically

    for name in ("x" * 251 + ".pdf", "é" * 125 + ".pdf"):  # 255 and 254 bytes
        write_bytes_atomically(tmp_path / name, b"%PDF")
        assert (tmp_path / name).read_bytes() == b"%PDF"
    assert not temporaries(tmp_path)


def test_a_double_star_folder_in_a_glob_also_matches_no_folder(tmp_path: Path) -> None:
    """`--include '**/*.png'` skipped the PNGs at the top of the folder, without a word."""
    for name in ("a.png", "b.pdf", "sub/c.png", "sub/deep/d.png", "sub/deep/e.pdf"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")

    def found(**globs: list[str]) -> list[str]:
        return [p.relative_to(tmp_path).as_posix() for p in discover.find_files(tmp_path, **globs)]

    assert found(include=["**/*.png"]) == ["a.png", "sub/c.png", "sub/deep/d.png"]
    assert found(include=["sub/**/*.png"]) == ["sub/c.png", "sub/deep/d.png"]
    assert found(exclude=["**/deep/**"]) == ["a.png", "b.pdf", "sub/c.png"]
    # A folder's name or path excludes all in it ("--exclude drafts" excluded nothing, silently).
    assert found(exclude=["deep"]) == found(exclude=["sub/deep/"]) == ["a.png", "b.pdf", "sub/c.png"]
    assert found(exclude=["s*"]) == ["a.png", "b.pdf"]


def test_a_json_stream_that_cannot_be_written_stops_the_batch_without_blaming_a_document(
    tmp_path: Path,
) -> None:
    """Disk full on the stream: the document being streamed, its outputs written, was reported as
    failed ("a.png: [Errno 28] No space left on device"), then the batch stopped on "cannot write -"."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "a.png")
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [*OCR, "scan", folder, "--json", "-", "-q", "--jobs", "1"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert run.returncode == 5, run.stderr
    assert run.stderr.splitlines() == ["ocr: error: cannot write stdout: [Errno 28] No space left on device"]
    assert (tmp_path / "in-ocr" / "a.json").exists()


def test_a_sidecar_someone_else_left_for_a_private_scan_does_not_give_them_its_text(tmp_path: Path) -> None:
    """A shared scan folder that root OCRs in place: another user left a sidecar-shaped NAME.json
    of their own (with an ACL naming them) where a private scan's sidecar goes, and the new
    sidecar, the scan's whole text, became theirs, as a replaced file keeps its owner and ACL."""
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    scan = tmp_path / "private.png"
    scan.write_bytes((TESS / "phototest-rotated-180.png").read_bytes())
    os.chown(scan, 1234, 1234)
    scan.chmod(0o640)  # its group may read it; others, nobody among them, may not
    left = tmp_path / "private.json"
    left.write_text(json.dumps({"tool": {"name": "ocrcli"}, "source": {}, "pages": []}))
    os.chown(left, 65534, 65534)
    left.chmod(0o666)
    everyone = 2**32 - 1  # no id: the file's owner, group, mask, others
    entries = [(0x01, everyone), (0x02, 65534), (0x04, everyone), (0x10, everyone), (0x20, everyone)]
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, 6, user) for tag, user in entries)
    try:
        os.setxattr(left, "system.posix_acl_access", acl)
    except OSError:
        acl = None  # no ACLs here: the owner is still checked
    result = ocr("scan", tmp_path, "--in-place", "-j", "1")
    assert result.returncode == 0, result.stderr
    assert "a lot of 12 point text" in left.read_text()  # replaced, with the scan's text
    st = left.stat()
    assert 65534 not in (st.st_uid, st.st_gid), (st.st_uid, st.st_gid)
    assert st.st_mode & 0o007 == 0
    if acl is not None:
        with pytest.raises(OSError):
            os.getxattr(left, "system.posix_acl_access")


def test_in_place_rerun_with_no_pdf_keeps_the_sidecar(tmp_path: Path) -> None:
    """Sidecars refreshed with --no-pdf after an --in-place run: the PDF, ours by then, was read
    again, every page skipped as having an OCR layer, and the sidecar's lines wiped ("done")."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(tmp_path / "line.png")
    image_pdf(folder / "a.pdf", tmp_path / "line.png", 1)
    assert ocr("scan", folder, "--in-place", "-q", "--jobs", "1").returncode == 0
    before = (folder / "a.json").read_text()
    assert json.loads(before)["pages"][0]["lines"]
    again = ocr("scan", folder, "--in-place", "--no-pdf", "--json", "-", "-q", "--jobs", "1")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "current"
    assert (folder / "a.json").read_text() == before


def test_a_link_to_a_folder_is_reported_not_followed(tmp_path: Path) -> None:
    """os.walk does not follow a link to a folder, and its files were left out without a word."""
    folder, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(elsewhere / "b.png")
    (folder / "linked").symlink_to(elsewhere)
    (folder / "b-link.png").symlink_to(elsewhere / "b.png")  # a link to a file is read
    run = ocr("scan", folder, "--json", "-", "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["source"]["path"] for line in run.stdout.splitlines()] == [
        str(folder / "b-link.png")
    ]
    assert f"{folder / 'linked'}: a link to a folder, not followed" in run.stderr
    quiet = ocr("scan", folder, "--json", "-", "--jobs", "1", "--quiet")
    assert quiet.returncode == 0 and "link to a folder" not in quiet.stderr


def test_include_and_exclude_do_not_change_output_names(tmp_path: Path) -> None:
    """a.png beside a.pdf writes a.png.pdf; with --include '*.png' only a.png was an input, so it
    was named a.pdf: in place, its PDF replaced the user's a.pdf (exit 0, nothing said), and with
    -o it overwrote a.pdf's outputs."""
    folder = tmp_path / "in"
    folder.mkdir()
    image_pdf(folder / "report.pdf", TESS / "eurotext.tif", 1)
    Image.open(TESS / "phototest.tif").save(folder / "report.png")
    out = tmp_path / "out"
    assert ocr("scan", folder, "-o", out, "-q").returncode == 0
    assert ocr("scan", folder, "--in-place", "-q").returncode == 0
    document = (folder / "report.pdf").read_bytes()
    for args in (["-o", out], ["--in-place"]):
        for pattern in (["--include", "*.png"], ["--exclude", "*.pdf"]):
            run = ocr("scan", folder, *args, *pattern, "-q", "--force")
            assert run.returncode == 0, run.stderr
    assert (folder / "report.pdf").read_bytes() == document  # the user's document, as OCRed
    lines = json.loads((folder / "report.png.json").read_text())["pages"][0]["lines"]
    assert "quick brown" in " ".join(line["text"] for line in lines)
    for sidecar in (out / "report.json", folder / "report.json"):
        assert Path(json.loads(sidecar.read_text())["source"]["path"]).name == "report.pdf"
    assert Path(json.loads((out / "report.png.json").read_text())["source"]["path"]).name == "report.png"


def test_a_scan_that_finds_nothing_says_so(tmp_path: Path) -> None:
    """--include '*.PNG' over .png files (globs match case as it is) found nothing, and the scan
    said only "0 documents", exit 0. It now says no images or PDFs were found, and why that may be
    with --include; an empty folder is still no error."""
    folder = tmp_path / "in"
    folder.mkdir()
    run = ocr("scan", folder)
    assert run.returncode == 0 and f"{folder}: no images or PDFs found\n" in run.stderr, run.stderr
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    run = ocr("scan", folder, "--include", "*.PNG")
    assert run.returncode == 0 and "no images or PDFs found matching --include" in run.stderr, run.stderr
    assert not (tmp_path / "in-ocr").exists() or not any((tmp_path / "in-ocr").iterdir())
    # A folder of ocrcli's outputs only (its PDFs are skipped): "no images or PDFs found" was false
    run = ocr("scan", folder, "-o", tmp_path / "out", "-q")
    assert run.returncode == 0 and (tmp_path / "out" / "a.pdf").exists(), run.stderr
    run = ocr("scan", tmp_path / "out", "-o", tmp_path / "again")
    assert run.returncode == 0, run.stderr
    said = f"{tmp_path / 'out'}: no images or PDFs found but ocrcli's outputs (1 PDF, not read as inputs)"
    assert f"ocr: {said}\n" in run.stderr, run.stderr


def test_a_hidden_file_that_include_names_is_said_to_be_left_out(tmp_path: Path) -> None:
    """Hidden files are not scanned (as documented); --include '.scan.png' named one, and the scan
    said only that no file matched the glob. Without --include, hidden files are still left out
    without a word (macOS leaves ._NAME files beside the real ones)."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / ".scan.png")
    run = ocr("scan", folder, "--include", ".scan.png")
    said = "1 hidden file (.scan.png) matched, but files and folders whose names start with '.' are not"
    assert run.returncode == 0 and said in run.stderr, run.stderr
    run = ocr("scan", folder)
    assert run.returncode == 0 and f"{folder}: no images or PDFs found\n" in run.stderr, run.stderr
    assert "hidden file" not in run.stderr  # (the test's folder has "hidden" in its name)


def test_an_output_folder_that_cannot_be_made_stops_before_any_work(tmp_path: Path) -> None:
    """A read-only output folder (or one under a file) was found out only when each document,
    OCRed, was written: every one failed with its own error about a temporary file."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    run = ocr("scan", folder, "-o", tmp_path / "notes.txt" / "out", "--json", "-")
    assert run.returncode == 2, run.stderr
    notes = tmp_path / "notes.txt"
    expected = f"ocr: error: -o {notes / 'out'}: {notes} is a file, not a folder"
    assert run.stderr.strip() == expected
    assert run.stdout == ""  # nothing was OCRed


def test_a_file_where_the_default_output_folder_goes_is_named_without_an_option(tmp_path: Path) -> None:
    """`ocr scan in` with a file named in-ocr beside it: the error named an option not given,
    "-o .../in-ocr: .../in-ocr is not a folder that can be written" (found by a bug hunt; a link
    there leading nowhere: see the test of that below)."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    (tmp_path / "in-ocr").write_text("a file, not a folder")
    run = ocr("scan", folder, "--json", "-")
    assert run.returncode == 2 and run.stdout == "", run.stderr
    said = f"{tmp_path / 'in-ocr'}: is a file, not a folder; outputs go into a folder beside the input"
    assert run.stderr == f"ocr: error: {said} (give another with -o DIR)\n"
    (tmp_path / "in-ocr").unlink()
    (tmp_path / "in-ocr").symlink_to(tmp_path / "in" / "a.png")  # a link to a file: the same
    assert ocr("scan", folder).stderr == f"ocr: error: {said} (give another with -o DIR)\n"


def test_an_output_the_user_changed_is_not_overwritten_when_its_input_changes(tmp_path: Path) -> None:
    """The sidecar records the PDF's hash; an output edited since (a title added) was replaced
    without a word once its input changed. It is now left, and the document reported."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    Image.open(TESS / "phototest.tif").save(folder / "b.png")
    out = tmp_path / "out"
    assert ocr("scan", folder, "-o", out, "-q").returncode == 0
    with pikepdf.open(out / "a.pdf", allow_overwriting_input=True) as pdf:
        pdf.docinfo["/Title"] = "my notes"
        pdf.save(out / "a.pdf")
    edited = (out / "a.pdf").read_bytes()
    for name in ("a.png", "b.png"):  # both inputs change: both are to be redone
        Image.open(TESS / "eurotext.tif").save(folder / name)
    run = ocr("scan", folder, "-o", out, "--json", "-", "-q")
    assert run.returncode == 3, run.stderr
    assert (out / "a.pdf").read_bytes() == edited
    assert run.stderr.strip() == (
        f"ocr: error: {folder / 'a.png'}: {out / 'a.pdf'} was changed since ocrcli wrote it; "
        "leaving it (delete it to redo)"
    )
    statuses = {Path(d["source"]["path"]).name: d["status"] for d in map(json.loads, run.stdout.splitlines())}
    assert statuses == {"a.png": "failed", "b.png": "done"}


def test_two_folders_scanned_into_one_output_folder_keep_each_others_outputs(tmp_path: Path) -> None:
    """`ocr scan a -o out`, then `ocr scan b -o out`: b/x.png's outputs would be out/x.pdf and
    out/x.json, which hold a/x.png's OCR. They were replaced without a word; b/x.png now fails,
    naming a/x.png, and a's outputs stay. Run from another folder, with absolute paths, it is
    found all the same. An input moved away since (its folder renamed) or edited where it is
    gets its outputs replaced as before."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    a.mkdir(), b.mkdir()
    Image.open(TESS / "phototest.tif").save(a / "x.png")
    Image.open(TESS / "eurotext.tif").save(b / "x.png")
    assert ocr("scan", "a", "-o", "out", "-q", cwd=tmp_path).returncode == 0
    before = hashes(out)
    for cwd, args in ((tmp_path, ("b", "-o", "out")), (Path("/"), (b, "-o", out))):
        run = ocr("scan", *args, "--json", "-", "-q", cwd=cwd)
        assert run.returncode == 3, run.stderr
        shown = Path("b") if cwd == tmp_path else tmp_path / "b"
        assert run.stderr.strip() == (
            f"ocr: error: {shown / 'x.png'}: {shown.parent / 'out' / 'x.json'} holds the OCR of "
            f"{shown.parent / 'a' / 'x.png'}, another file; leaving it (scan into another folder "
            "with -o, or delete it to replace it)"
        )
        (record,) = map(json.loads, run.stdout.splitlines())
        assert (record["status"], record["error"]["kind"]) == ("failed", "output")
        assert hashes(out) == before
    (a / "x.png").rename(tmp_path / "elsewhere.png")  # a's file gone: b's takes the outputs
    assert ocr("scan", "b", "-o", "out", "-q", cwd=tmp_path).returncode == 0
    assert "zorro" in pdftotext(out / "x.pdf")  # eurotext's words
    Image.open(TESS / "phototest.tif").save(b / "x.png")  # edited where it is: redone
    assert ocr("scan", "b", "-o", "out", "-q", cwd=tmp_path).returncode == 0
    assert "quick brown dog" in pdftotext(out / "x.pdf")


@pytest.mark.parametrize("absolute", ["output", "input"])
def test_two_folders_scanned_into_one_output_folder_one_path_absolute(tmp_path: Path, absolute: str) -> None:
    """`ocr scan a -o ~/out` (the shell makes the output absolute), then the same for b: the
    record's source relative and its sidecar absolute (or the other way round) were taken as
    unfindable, so each run replaced the other's outputs, with exit 0."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    a.mkdir(), b.mkdir()
    Image.open(TESS / "phototest.tif").save(a / "x.png")
    Image.open(TESS / "eurotext.tif").save(b / "x.png")
    first = ("a", "-o", out) if absolute == "output" else (a, "-o", "out")
    assert ocr("scan", *first, "-q", cwd=tmp_path).returncode == 0
    before = hashes(out)
    run = ocr("scan", "b", "-o", out if absolute == "output" else "out", "-q", cwd=tmp_path)
    assert run.returncode == 3 and f"holds the OCR of {a / 'x.png'}, another file" in run.stderr, run.stderr
    assert hashes(out) == before


@pytest.mark.parametrize(
    ("glob", "name", "matches"),
    [
        ("[^a]*.png", "b.png", True),  # bash's other spelling of [!a]
        ("[^a]*.png", "a.png", False),
        ("[!a]*.png", "a.png", False),
        ("\\[draft\\]*.png", "[draft] 1.png", True),  # a backslash takes [ as itself
        ("\\[draft\\]*.png", "d 1.png", False),
        ("a\\*.png", "a*.png", True),
        ("a\\*.png", "ab.png", False),
    ],
)
def test_globs_negate_with_a_caret_and_escape_with_a_backslash(glob: str, name: str, matches: bool) -> None:
    """As in bash: `[^a]` was taken as a set of '^' and 'a', and `\\[` did not match a '['."""
    assert discover._matches(name, name, [glob]) is matches


def test_a_star_in_a_glob_does_not_cross_folders_and_a_double_star_does(tmp_path: Path) -> None:
    """`--include 'sub/*.png'` also took sub/deep/d.png: fnmatch's `*` crossed `/`. A glob without
    `/` still matches the name at any depth."""
    folder = tmp_path / "in"
    for name in ("a.png", "sub/c.png", "sub/deep/d.png", "sub/deep/e.pdf"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")  # not images: each fails at once, named in the stream

    def inputs(*globs: str) -> list[str]:
        run = ocr("scan", folder, "--json", "-", "-q", "--no-pdf", *globs)
        assert run.returncode == 3, run.stderr
        paths = [json.loads(line)["source"]["path"] for line in run.stdout.splitlines()]
        return sorted(Path(p).relative_to(folder).as_posix() for p in paths)

    assert inputs("--include", "sub/*.png") == ["sub/c.png"]
    assert inputs("--include", "sub/**/*.png") == ["sub/c.png", "sub/deep/d.png"]
    assert inputs("--include", "sub/**") == ["sub/c.png", "sub/deep/d.png", "sub/deep/e.pdf"]
    assert inputs("--include", "*.png") == ["a.png", "sub/c.png", "sub/deep/d.png"]
    assert inputs("--include", "?.png") == ["a.png", "sub/c.png", "sub/deep/d.png"]
    assert inputs("--exclude", "sub/*.png") == ["a.png", "sub/deep/d.png", "sub/deep/e.pdf"]
    assert inputs("--exclude", "sub/*") == ["a.png"]  # sub/deep is a folder directly in sub
    assert inputs("--include", "[ab].png", "--include", "sub/[!c]*/*") == [
        "a.png",
        "sub/deep/d.png",
        "sub/deep/e.pdf",
    ]


def test_globs_anchored_with_a_slash_or_dot_slash_and_folders_given_to_include(tmp_path: Path) -> None:
    """`--include ./sub/*.png` (a shell's habit) and `--include /a.png` (.gitignore's anchor)
    matched nothing, and `--include sub/` nothing either, where `--exclude sub/` leaves out all
    in sub. Anchored globs match the path from the scanned folder only; a folder given to
    --include takes all in it."""
    folder = tmp_path / "in"
    for name in ("a.png", "sub/a.png", "sub/c.png", "sub/deep/d.png", "subway.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")  # not images: each fails at once, named in the stream

    def inputs(*globs: str) -> list[str]:
        run = ocr("scan", folder, "--json", "-", "-q", "--no-pdf", *globs)
        paths = [json.loads(line)["source"]["path"] for line in run.stdout.splitlines()]
        return sorted(Path(p).relative_to(folder).as_posix() for p in paths)

    assert (
        inputs("--include", "./sub/*.png") == inputs("--include", "/sub/*.png") == ["sub/a.png", "sub/c.png"]
    )
    assert inputs("--include", "/a.png") == ["a.png"]  # anchored: not sub/a.png
    assert inputs("--include", "a.png") == ["a.png", "sub/a.png"]  # a name, at any depth
    assert (
        inputs("--include", "sub/")
        == inputs("--include", "sub")
        == ["sub/a.png", "sub/c.png", "sub/deep/d.png"]
    )
    assert inputs("--include", "deep") == ["sub/deep/d.png"]
    assert inputs("--exclude", "/a.png") == ["sub/a.png", "sub/c.png", "sub/deep/d.png", "subway.png"]
    assert inputs("--exclude", "./sub") == ["a.png", "subway.png"]


def test_earlier_runs_outputs_in_the_folder_are_skipped_and_reported_not_ocred_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ocr scan P/sub` writes P/sub-ocr/; a later `ocr scan P` (-o or in place) OCRed those PDFs
    again as if they were documents. An output is told by its sidecar beside it, which records it
    (with the hash it still has) as the output of another file; a PDF OCRed in place is the user's
    document, and so is an output edited since."""
    folder = tmp_path / "P"
    (folder / "sub").mkdir(parents=True)
    (folder / "docs").mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "sub" / "a.png")
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(tmp_path / "line.png")
    image_pdf(folder / "docs" / "d.pdf", tmp_path / "line.png", 1)
    assert ocr("scan", folder / "sub", "-q").returncode == 0  # writes P/sub-ocr/a.pdf and a.json
    assert ocr("scan", folder / "docs", "--in-place", "-q").returncode == 0
    (folder / "edited").mkdir()
    for name in ("a.pdf", "a.json"):
        (folder / "edited" / name).write_bytes((folder / "sub-ocr" / name).read_bytes())
    with pikepdf.open(folder / "edited" / "a.pdf", allow_overwriting_input=True) as pdf:
        pdf.docinfo["/Title"] = "my notes"
        pdf.save(folder / "edited" / "a.pdf")
    outputs = hashes(folder / "sub-ocr")
    for args in (["-o", tmp_path / "out"], ["--in-place"]):
        run = ocr("scan", folder, *args, "--json", "-", "-v", "--jobs", "1")
        assert run.returncode == 0, run.stderr
        read = sorted(
            Path(json.loads(line)["source"]["path"]).relative_to(folder).as_posix()
            for line in run.stdout.splitlines()
        )
        assert read == ["docs/d.pdf", "edited/a.pdf", "sub/a.png"], run.stderr
        skipped = folder / "sub-ocr" / "a.pdf"
        assert run.stderr.count(f"{skipped}: skipped: ocrcli's output for another file") == 1, run.stderr
        assert "ocrcli outputs of other files" in run.stderr  # the summary's line
        assert hashes(folder / "sub-ocr") == outputs
    assert not (tmp_path / "out" / "sub-ocr").exists()
    # Told without reading it again (each run hashed every earlier output whole): its sidecar
    # records its stat, trusted while the file is not changed after the sidecar was written.
    pdf = folder / "sub-ocr" / "a.pdf"
    hashed = _counted_hashes(monkeypatch)
    assert discover.earlier_output(pdf) and hashed == []
    os.utime(pdf)  # its ctime is now newer than the sidecar: hashed again, and still the output
    assert discover.earlier_output(pdf) and hashed == [pdf]


def test_a_file_name_with_a_newline_is_shown_escaped_on_one_line(tmp_path: Path) -> None:
    """A name holding a newline split the one-line error naming it in two lines, on stderr and in
    the stream's error message; it is shown escaped, as repr does ("\\n"), and the JSON's
    source.path keeps the name as it is."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad\nname.png").write_text("not an image\n")
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "tab\tand\x1b.png")
    run = ocr("scan", folder, "--json", "-", "-v", "--jobs", "1")
    assert run.returncode == 3, run.stderr
    assert "\t" not in run.stderr and "\x1b" not in run.stderr
    bad = str(folder / "bad\\nname.png")
    errors = [line for line in run.stderr.splitlines() if line.startswith("ocr: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"ocr: error: {bad}: not an image"), run.stderr
    done = [line for line in run.stderr.splitlines() if "tab\\tand\\x1b.png: done" in line]
    assert len(done) == 1 and done[0].endswith(str(folder.parent / "in-ocr" / "tab\\tand\\x1b.pdf")), done
    records = {json.loads(line)["source"]["path"]: json.loads(line) for line in run.stdout.splitlines()}
    assert records[str(folder / "bad\nname.png")]["error"]["message"].startswith(f"{bad}: not an image")
    image = ocr("image", folder / "bad\nname.png", "--json", "-")
    assert image.returncode == 3
    (line,) = image.stderr.splitlines()
    assert line.startswith(f"ocr: error: {bad}: not an image"), image.stderr
    assert json.loads(image.stdout)["error"]["message"].startswith(f"{bad}: not an image")


def test_a_file_names_bidirectional_controls_are_shown_escaped(tmp_path: Path) -> None:
    """Unicode's bidirectional controls in a name (U+202E RIGHT-TO-LEFT OVERRIDE, the "Trojan
    Source" characters) reached the terminal as they are, which turns the rest of the line round
    where it shows text both ways: "invoice\u202efdp.png", a PNG, showed as a PDF, and the
    reason after it ran backwards. They are shown escaped, as repr shows them, like the other
    characters a terminal obeys (found by a fresh-eyes audit of ocr scan)."""
    folder = tmp_path / "in"
    folder.mkdir()
    name = "invoice\u202efdp\u2066.png"
    (folder / name).write_text("not an image\n")
    run = ocr("scan", folder, "--json", "-")
    assert run.returncode == 3, run.stderr
    shown = str(folder / "invoice\\u202efdp\\u2066.png")
    assert f"ocr: error: {shown}: not an image" in run.stderr, run.stderr
    assert "\u202e" not in run.stderr and "\u2066" not in run.stderr
    record = json.loads(run.stdout)
    assert record["source"]["path"] == str(folder / name) and record["error"]["message"].startswith(shown)


def test_documents_in_an_output_folder_inside_the_input_are_named_as_not_scanned(tmp_path: Path) -> None:
    # `ocr scan sc -o sc/sub` skips sc/sub, the outputs' folder: b.png there was left out silently.
    folder = tmp_path / "sc"
    (folder / "sub").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    Image.open(TESS / "phototest.tif").save(folder / "sub" / "b.png")
    for _ in range(2):  # the second run finds a.pdf there too: an output, not a document
        run = ocr("scan", folder, "-o", folder / "sub", "-j", "1")
        assert run.returncode == 0, run.stderr
        assert f"{folder / 'sub'}: 1 document there not scanned: it is the output folder" in run.stderr
    assert sorted(p.name for p in (folder / "sub").iterdir()) == ["a.json", "a.pdf", "b.png"]


def test_the_note_on_the_output_folder_counts_what_the_scan_would_have_read(tmp_path: Path) -> None:
    # The count was taken by listing the output folder on its own: its files matched --include and
    # --exclude relative to it, not to the input, and a hidden folder or one below a scan without
    # --recursive counted, though the scan would not have read its files anyway (found by a review).
    folder = tmp_path / "sc"
    for name in ("a.png", "sub/b.png", ".hidden/c.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")
    sub, hidden = folder / "sub", folder / ".hidden"
    assert discover.documents_in_output_folder(folder, sub, None, None, True) == 1
    assert discover.documents_in_output_folder(folder, sub, ["sub/*.png"], None, True) == 1
    assert discover.documents_in_output_folder(folder, sub, None, ["sub"], True) == 0
    assert discover.documents_in_output_folder(folder, sub, None, None, False) == 0
    assert discover.documents_in_output_folder(folder, hidden, None, None, True) == 0


def test_workers_are_started_only_for_tasks_waiting() -> None:
    """Each worker loads the models (about 300 MB): the pool started one per core up front, for a
    re-run with nothing left to do or for one image on a many-core machine alike."""
    with WorkerPool(3, EngineSpec()) as pool:
        assert list(pool.run(iter([]))) == [] and pool.workers == []
        task = PageTask("image", str(TESS / "phototest.tif"), 0)
        ((key, reading),) = pool.run(iter([("a", task)]))
        assert key == "a" and "quick" in reading.page.text
        assert len(pool.workers) == 1
        done = list(pool.run(iter([(n, task) for n in range(5)])))
        assert sorted(key for key, _ in done) == list(range(5)) and len(pool.workers) == 3


@contextlib.contextmanager
def _open_files_refused() -> Iterator[None]:
    """No file can be opened in this process (its limit set at its lowest free descriptor), so the
    pool's next worker cannot get its pipe: a real EMFILE, as under a low `ulimit -n`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.open(os.devnull, os.O_RDONLY)
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_pool_goes_on_with_the_workers_the_system_would_start() -> None:
    """A system that refused another process (`ulimit -u`, a container's pids limit; here open
    files) ended the whole scan as "unexpected BlockingIOError ... please report this", exit 1,
    with one worker running that could have done every page."""
    task = PageTask("image", str(TESS / "phototest.tif"), 0)
    warnings: list[str] = []
    limit = contextlib.ExitStack()

    def tasks() -> Iterator[tuple[int, PageTask]]:
        yield 0, task  # the first worker starts for it
        limit.enter_context(_open_files_refused())  # the second cannot
        yield from ((n, task) for n in range(1, 4))

    # The readings unpickle into ocrcli.searchable, as ocr scan's parent has it: imported under the
    # limit, its files could not be opened, and the worker it came from was taken for dead.
    from ocrcli import searchable  # noqa: F401

    with limit, WorkerPool(3, EngineSpec(), warn=warnings.append) as pool:
        done = list(pool.run(tasks()))
        started = len(pool.workers)
    assert sorted(key for key, _ in done) == [0, 1, 2, 3]
    assert all("quick" in reading.page.text for _, reading in done)
    assert started == 1
    assert len(warnings) == 1 and "Too many open files; a limit on open files" in warnings[0], warnings
    assert warnings[0].endswith("going on with 1, trying again every 30 s")


def test_pool_grows_again_once_the_system_starts_workers_again() -> None:
    """After one refused start the pool stayed at the workers it had for the rest of the batch,
    though a limit on processes is often reached only for a while (other programs end)."""
    task = PageTask("image", str(TESS / "phototest.tif"), 0)
    warnings: list[str] = []
    limit = contextlib.ExitStack()

    def tasks() -> Iterator[tuple[int, PageTask]]:
        yield 0, task  # the first worker starts for it
        limit.enter_context(_open_files_refused())
        yield 1, task  # the second is refused: the first worker reads this page too
        limit.close()  # the limit is gone when the next page is drawn
        yield from ((n, task) for n in range(2, 5))

    from ocrcli import searchable  # noqa: F401  (see the test above)

    with limit, WorkerPool(2, EngineSpec(), warn=warnings.append, retry_start_after=0) as pool:
        done = list(pool.run(tasks()))
        started = len(pool.workers)
    assert sorted(key for key, _ in done) == [0, 1, 2, 3, 4]
    assert all("quick" in reading.page.text for _, reading in done)
    assert started == 2 and len(warnings) == 1, warnings


def test_pool_left_with_no_worker_after_a_refused_start_starts_one_at_once() -> None:
    """Its only worker gone (crashed, or stopped past --page-timeout) within 30 s of a refused
    start, the pool had nothing to wait on and would not start another until then: it spun,
    a core at 100 %, for the rest of the 30 s."""
    task = PageTask("image", str(TESS / "phototest.tif"), 0)
    limit = contextlib.ExitStack()

    def tasks() -> Iterator[tuple[int, PageTask]]:
        yield 0, task  # the first worker starts for it
        limit.enter_context(_open_files_refused())
        yield 1, task  # the second is refused: the first worker reads this page too
        yield from ((n, task) for n in range(2, 4))

    from ocrcli import searchable  # noqa: F401  (see the tests above)

    done = {}
    with limit, WorkerPool(2, EngineSpec(), warn=lambda _: None) as pool:
        for key, result in pool.run(tasks()):
            done[key] = result
            if key == 0:  # the worker has page 1 now: it dies on it, the limit then gone
                limit.close()
                os.kill(pool.workers[0].process.pid, signal.SIGKILL)
    assert isinstance(done[1], TaskFailed) and done[1].failure.kind == "crashed"
    assert all("quick" in done[n].page.text for n in (0, 2, 3))
    # What kept it spinning: no worker left, the refusal recent, and no start allowed
    idle = WorkerPool(2, EngineSpec(), retry_start_after=3600)
    idle._refused_at = time.monotonic()
    assert idle._may_start()


def test_pool_that_can_start_no_worker_says_why() -> None:
    tasks = iter([(0, PageTask("image", str(TESS / "phototest.tif"), 0))])
    refused = pytest.raises(WorkerStartError)
    with _open_files_refused(), WorkerPool(2, EngineSpec()) as pool, refused as raised:
        list(pool.run(tasks))
    assert raised.value.exit_code == 1 and raised.value.kind == "system"
    assert "would not start a worker process ([Errno 24] Too many open files" in str(raised.value)


def test_a_document_that_no_worker_could_read_is_named_with_the_limit_that_stopped_it() -> None:
    """`ocr pdf --page-timeout` reads in a worker: when none could start, its one-line error and
    JSON record said "the system would not start a worker process (...)", naming no file."""
    refused = WorkerStartError(OSError(errno.EAGAIN, os.strerror(errno.EAGAIN)))
    failed = errors.failure("scans/a.pdf", refused)
    assert failed.message.startswith("scans/a.pdf: the system would not start a worker process ([Errno 11]")
    assert "a limit on processes or threads: ulimit -u" in failed.message
    assert (failed.kind, failed.exit_code) == ("system", 1)


def test_rotate_pages_turns_scanned_pages_upright_and_is_part_of_what_makes_outputs_current(
    tmp_path: Path,
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "r.png").write_bytes((TESS / "phototest-rotated-R.png").read_bytes())
    run = ocr("scan", folder, "-o", out, "--rotate-pages", "--json", "-")
    assert run.returncode == 0, run.stderr
    (doc,) = map(json.loads, run.stdout.splitlines())
    assert doc["run"]["options"]["rotate_pages"] is True
    page = doc["pages"][0]
    assert (page["orientation"], page["turned"], page["width"]) == (0, 90, 640)
    jsonschema.validate(doc, SCHEMA)
    with pikepdf.open(out / "r.pdf") as pdf:  # the image drawn upright on a landscape page
        assert pdf.pages[0].obj.Rotate == 0 and pdf.pages[0].mediabox[2] > pdf.pages[0].mediabox[3]
    assert "quick brown dog" in " ".join(pdftotext(out / "r.pdf").split())
    statuses = []
    for options in (["--rotate-pages"], []):
        run = ocr("scan", folder, "-o", out, *options, "--json", "-")
        statuses.append(json.loads(run.stdout)["status"])
    assert statuses == ["current", "done"]
    with pikepdf.open(out / "r.pdf") as pdf:
        assert pdf.pages[0].obj.Rotate == 90  # as the image displays, its user space turned
    run = ocr("scan", folder, "-o", out, "--rotate-pages", "--no-pdf")
    assert run.returncode == 2 and "--rotate-pages" in run.stderr


def test_the_default_output_folder_is_beside_the_folder_as_given_also_a_link(tmp_path: Path) -> None:
    """README: outputs go to a new folder beside the input. Given a link to a folder (~/Scans ->
    /mnt/nas/scans), they went beside the folder it points to, named after it."""
    real, links = tmp_path / "real" / "scans", tmp_path / "links"
    real.mkdir(parents=True)
    links.mkdir()
    Image.open(TESS / "phototest.tif").save(real / "a.png")
    (links / "Scans").symlink_to(real)
    run = ocr("scan", links / "Scans")
    assert run.returncode == 0, run.stderr
    assert (links / "Scans-ocr" / "a.pdf").is_file() and not (tmp_path / "real" / "scans-ocr").exists()


def test_encrypted_outputs_written_without_sidecars_are_ours_to_redo(tmp_path: Path) -> None:
    """A PDF with a user password gets its OCRed output encrypted with it too. Written by
    `ocr scan IN -o OUT --password P --no-sidecar`, that output was read without the password to
    look for our text layer, which failed: `ocr scan IN -o OUT --password P` then refused it on
    every run ('OUT/x.pdf exists and was not made by ocrcli; leaving it', exit 3)."""
    folder = tmp_path / "in"
    folder.mkdir()
    with pikepdf.open(io.BytesIO(img2pdf.convert([str(TESS / "phototest.tif")]))) as pdf:
        pdf.save(folder / "locked.pdf", encryption=pikepdf.Encryption(user="pw", owner="owner"))
    out = tmp_path / "out"
    first = ocr("scan", folder, "-o", out, "--password", "pw", "--no-sidecar", "-q")
    assert first.returncode == 0, first.stderr
    second = ocr("scan", folder, "-o", out, "--password", "pw", "--json", "-", "-q")
    assert second.returncode == 0, second.stderr
    assert [json.loads(line)["status"] for line in second.stdout.splitlines()] == ["done"]
    assert (out / "locked.json").exists()
    # The batch's stream holds the locked PDF's text in the clear, as its sidecar: for the owner only
    stream = tmp_path / "stream.jsonl"
    third = ocr("scan", folder, "-o", out, "--password", "pw", "--force", "--json", stream, "-q")
    assert third.returncode == 0, third.stderr
    assert "quick" in stream.read_text()
    assert stat.S_IMODE(stream.stat().st_mode) == stat.S_IMODE((out / "locked.json").stat().st_mode) == 0o600


def test_a_file_gone_before_its_worker_opened_it_failed_as_changed_not_corrupt(tmp_path: Path) -> None:
    """ocr scan opens a document, then its workers open it again for their pages: one deleted or
    moved meanwhile failed as corrupt ("not a renderable PDF"), not as gone, which a run again
    mends. A corrupt file is still corrupt."""
    from ocrcli.searchable import PdfOptions

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 and nothing else")
    gone, options = tmp_path / "gone.pdf", PdfOptions()
    tasks = [
        ((kind, path.name), PageTask(kind, str(path), 0, options))
        for kind in ("pdf", "image")
        for path in (gone, broken)
    ]
    with WorkerPool(1, EngineSpec()) as pool:
        kinds = {key: task_failed.kind for key, task_failed in pool.run(iter(tasks))}
    assert kinds == {
        ("pdf", "gone.pdf"): "changed",  # was corrupt
        ("image", "gone.pdf"): "changed",  # was unreadable
        ("pdf", "broken.pdf"): "corrupt",
        ("image", "broken.pdf"): "unsupported",
    }


def test_a_worker_stopped_on_the_last_page_is_not_replaced_for_nothing() -> None:
    """A worker stopped past the page time limit (or dead) was replaced at once: after the
    batch's last page, the new one loaded the models (about 300 MB) only to be stopped."""
    task = PageTask("image", str(TESS / "phototest.tif"), 0)
    with WorkerPool(2, EngineSpec(), page_timeout=0.01) as pool:
        ((key, failed),) = pool.run(iter([("a", task)]))
        assert key == "a" and "not done after" in str(failed)
        assert pool.workers == []


def _children() -> set[int]:
    """This process's children, zombies included, but multiprocessing's resource tracker."""
    me = os.getpid()
    return {pid for pid in _descendants(me) if _parent(pid) == me and "resource_tracker" not in _cmdline(pid)}


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def test_a_worker_stopped_past_the_page_time_is_gone_before_the_run_goes_on() -> None:
    """A worker stopped past --page-timeout was killed but not waited for: a zombie, or still
    dying, it held its place under a limit on processes (`ulimit -u`) while its replacement was
    started, which the system refused. With no other worker running, `ocr scan ... --page-timeout`
    as nobody under `ulimit -u 3` ended at the first page over the limit: 'the system would not
    start a worker process', exit 1, the documents left undone, no summary."""
    task = PageTask("image", str(TESS / "phototest.tif"), 0)
    with WorkerPool(1, EngineSpec(), page_timeout=0.01) as pool:
        before = _children()
        ((_, failed),) = pool.run(iter([("a", task)]))
        left = _children() - before
    assert isinstance(failed, TaskFailed) and failed.kind == "timeout"
    assert not left, left  # was the killed worker, dying or a zombie


def _takes_sigint(pid: int) -> bool:
    """Would SIGINT reach the process now, neither blocked nor ignored? (A zombie takes nothing.)"""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except OSError:
        return False
    bit = 1 << (signal.SIGINT - 1)
    held = (int(fields["SigBlk"], 16) | int(fields["SigIgn"], 16)) & bit
    return not held and not fields["State"].strip().startswith("Z")


def test_ctrl_c_while_a_worker_starts_is_the_parents_alone() -> None:
    """Ctrl-C reaches the whole process group. A worker ignores it once _worker_main runs; a
    spawned one first starts an interpreter and imports (about 0.3 s), and took it there: a
    KeyboardInterrupt traceback from multiprocessing's import, or "Fatal Python error:
    init_import_site", on the user's terminal under "ocr: interrupted" (4 Ctrl-C's in 10 sent
    0.4 to 0.8 s into a scan of six pages, --jobs 2). It now starts with SIGINT blocked.
    Only the pool's own children are watched: those already there (multiprocessing's resource
    tracker, started first; any other test left running) are not the pool's, and a full run once
    counted one of them (pid 501, after the pids wrapped) as a worker taking Ctrl-C."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    others = _children()
    seen, exposed, stop = set(), set(), threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in _children() - others:
                seen.add(pid)
                if _takes_sigint(pid):
                    exposed.add(pid)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with WorkerPool(1, EngineSpec()) as pool:
            list(pool.run(iter([(0, PageTask("image", str(TESS / "phototest.tif"), 0))])))
    finally:
        stop.set()
        watcher.join()
    assert seen and not exposed


def test_a_current_record_gives_models_by_role_also_from_an_older_sidecar(tmp_path: Path) -> None:
    """Sidecars written before 0.2.6's fix gave "models" as model name -> sha256; they stay
    current, and a re-run's stream gave that next to new records' role -> model name."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    assert ocr("scan", folder, "-o", out, "-q").returncode == 0
    sidecar = out / "a.json"
    record = json.loads(sidecar.read_text())
    record["models"] = record["run"]["models"]  # as the old builds wrote it
    sidecar.write_text(json.dumps(record))
    run = ocr("scan", folder, "-o", out, "--json", "-")
    doc = json.loads(run.stdout)
    assert doc["status"] == "current" and doc["models"] == models.select("fast").names(), doc["models"]


def test_onnxruntime_sends_and_keeps_nothing_about_the_user(tmp_path: Path) -> None:
    """onnxruntime's builds collect telemetry for Microsoft by default: a device ID and a store
    of events under ~/.cache, a session file in $TMPDIR. ocrcli turns it off, in its workers too."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    cache, temp = tmp_path / "cache", tmp_path / "temp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env |= {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(temp), "HOME": str(tmp_path)}
    run = ocr("scan", folder, "-o", tmp_path / "out", env=env)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "a.pdf").exists()
    assert not (cache / "Microsoft").exists() and not (temp / ".ses").exists()
    assert "telemetry" not in run.stderr


def test_a_current_record_names_the_input_and_outputs_as_this_run_does(tmp_path: Path) -> None:
    """A current document's record is its sidecar again, and the sidecar keeps the paths as the
    run that wrote it was given them: `ocr scan in -o out` run from one folder, then `ocr scan
    /abs/in -o /abs/out` from another (a cron job), streamed "in/a.png" and "out/a.pdf", paths
    that name nothing from there, beside "done" records naming /abs/in/b.png (found by a
    fresh-eyes audit of ocr scan)."""
    folder, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "a.png")
    first = subprocess.run([*OCR, "scan", "in", "-o", "out"], capture_output=True, text=True, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    run = subprocess.run(
        [*OCR, "scan", folder, "-o", out, "--json", "-", "-q"], capture_output=True, text=True, cwd=elsewhere
    )
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["status"] == "current"
    assert record["source"]["path"] == str(folder / "a.png")
    assert record["output"]["pdf"] == str(out / "a.pdf")
    assert record["output"]["sidecar"] == str(out / "a.json")
    jsonschema.validate(record, SCHEMA)
    assert json.loads((out / "a.json").read_text())["source"]["path"] == "in/a.png"  # the sidecar as written


def test_o_dash_is_refused_not_made_a_folder(tmp_path: Path) -> None:
    """`ocr scan in -o -` made a folder named "-" where the user may have meant stdout, as the
    other commands now refuse -o -; a folder of that name is still reachable by its full path."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    run = subprocess.run([*OCR, "scan", folder, "-o", "-"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and "-o -: scan writes files into a folder" in run.stderr, run.stderr
    assert not (tmp_path / "-").exists()
    run = ocr("scan", folder, "-o", tmp_path / "-")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "-" / "a.pdf").exists()


def test_the_summarys_rate_counts_the_pages_ocred() -> None:
    """A 3-page PDF scanned with --pages 3, its last page skipped for its text: no page OCRed,
    yet the summary said 1.99 pages/s, the rate of every page of the documents done."""
    from ocrcli.cli import _plain
    from ocrcli.progress import summary_table
    from ocrcli.scan import Outcome

    item = discover.Item(Path("three.pdf"), "pdf", Path("out/three.pdf"), Path("out/three.json"))
    skipped = {"not in --pages": 2, "page has text": 1}
    other = discover.Item(Path("two.png"), "image", Path("out/two.pdf"), Path("out/two.json"))
    for outcomes, rate in (
        ([Outcome(item, "done", 3, 1.5, skipped_pages=skipped)], "0.00"),
        ([Outcome(item, "done", 3, 1.5, skipped_pages=skipped), Outcome(other, "done", 2, 1.0)], "1.00"),
    ):
        total = _plain(summary_table(outcomes, 2.0)).splitlines()[-1].split()
        assert total[:3] == ["total", str(len(outcomes)), str(sum(o.pages for o in outcomes))]
        assert total[3:] == ["2.0", "s", "wall,", rate, "pages/s", "OCRed"]
    # PDFs left out as outputs of other files, none current: no "skipped 0" row above theirs
    rows = [line.split()[:2] for line in _plain(summary_table(outcomes, 2.0, outputs=2)).splitlines()[2:]]
    assert [row for row in rows if row[0] == "skipped"] == [["skipped", "2"]]


def test_the_summary_counts_failures_that_differ_only_in_details_on_one_row() -> None:
    """Three truncated images failed on three rows, each with its own count of bytes left; the
    two files of a name clash, each naming the other, on two (bug hunt N2). Failures of one kind
    whose reasons differ now share a row that gives the kind; one reason keeps its own words."""
    from ocrcli.cli import _plain
    from ocrcli.errors import Failure
    from ocrcli.progress import summary_table
    from ocrcli.scan import Outcome

    def failed(name: str, reason: str, kind: str) -> Outcome:
        item = discover.Item(Path(name), "image", Path(f"out/{name}.pdf"), Path(f"out/{name}.json"))
        return Outcome(item, "failed", error=Failure(f"{name}: {reason}", kind))

    truncated = "image file is truncated ({} bytes not processed)"
    outcomes = [failed(f"{n}.png", truncated.format(n), "corrupt") for n in (41, 52, 60)]
    outcomes += [failed(f"{n}.pdf", "encrypted: needs its password (--password)", "encrypted") for n in "ab"]
    rows = [line.split(None, 2) for line in _plain(summary_table(outcomes, 1.0)).splitlines()]
    assert [row for row in rows if row[0] == "failed"] == [
        ["failed", "3", "corrupt: truncated, damaged or empty"],
        ["failed", "2", "encrypted: needs its password (--password)"],
    ]


def test_file_names_in_the_progress_and_the_summary_are_not_markup(tmp_path: Path) -> None:
    """A failure naming another file in a folder called "q[" (q[/]x.pdf) ended the scan, its work
    done, in rich's MarkupError traceback from the summary; so did the progress line showing it."""
    import io

    from rich.console import Console

    from ocrcli.cli import _plain
    from ocrcli.errors import Failure
    from ocrcli.progress import ScanDisplay, summary_table
    from ocrcli.scan import Outcome

    item = discover.Item(Path("in/q[/]x.jpg"), "image", Path("out/q[/]x.pdf"), Path("out/q[/]x.json"))
    reason = "its output out/q[/]x.pdf is also the folder of in/q[/]x.pdf/z.png's outputs: rename one"
    failed = Outcome(item, "failed", error=Failure(f"in/q[/]x.jpg: {reason}", "output"))
    assert reason in _plain(summary_table([failed], 1.0))
    shown = io.StringIO()
    console = Console(file=shown, force_terminal=True, width=160)
    with ScanDisplay(console, 1, live=True, verbose=False) as display:
        display.document_started(item, 1)
        display.progress.refresh()
    assert "q[/]x.jpg" in shown.getvalue()


def test_the_summary_on_a_pipe_has_no_trailing_spaces(tmp_path: Path) -> None:
    """Without a terminal the summary table was padded with spaces to its width, on every line."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "a.png")
    (folder / "b.png").write_bytes(b"not a png")
    run = ocr("scan", folder)
    assert run.returncode == 3, run.stderr
    table = run.stderr[run.stderr.index("ocr scan\n") :].splitlines()
    assert [line.split()[0] for line in table[2:]] == ["done", "skipped", "failed", "total"], run.stderr
    assert all(line == line.rstrip() for line in table), run.stderr


def test_the_summary_gives_the_reason_of_a_failure_whatever_the_file_is_named(tmp_path: Path) -> None:
    """The summary's "why" was a failure's message after its first ": ", taken for the end of the
    file's name: for "Meeting: notes.png" it read "notes.png: file is empty (0 bytes)", and two
    files failing alike stood on rows of their own (found by a fresh-eyes audit of ocr scan)."""
    folder = tmp_path / "in"
    (folder / "Q1: reports").mkdir(parents=True)
    for name in ("Meeting: notes.png", "Other: x.png", "Q1: reports/a.png"):
        (folder / name).write_bytes(b"")
    run = ocr("scan", folder)
    assert run.returncode == 3, run.stderr
    table = run.stderr[run.stderr.index("ocr scan\n") :].splitlines()
    failed = [line.split(None, 2) for line in table if line.startswith(" failed")]
    assert failed == [["failed", "3", "file is empty (0 bytes)"]], run.stderr


def test_a_second_scan_of_a_folder_waits_for_the_first_then_finds_its_work_done(tmp_path: Path) -> None:
    """Two scans of one folder at once (a cron job's runs overlapping) both OCRed every document.
    A scan now waits while another holds the folder; the lock is the folder's own flock, which the
    test takes here as a first scan would."""
    import fcntl

    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "a.png")
    held = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    log = tmp_path / "stderr"
    with open(log, "w") as err:
        second = subprocess.Popen([*OCR, "scan", str(folder), "-q"], stderr=err, stdout=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if "waiting" in log.read_text() or second.poll() is not None:
                break
            time.sleep(0.1)
        assert "another ocr scan is working on it" in log.read_text()
        assert second.poll() is None and not (tmp_path / "in-ocr").exists()
    finally:
        os.close(held)  # the first scan ends
    assert second.wait(timeout=600) == 0, log.read_text()
    assert (tmp_path / "in-ocr" / "a.pdf").exists() and (tmp_path / "in-ocr" / "a.json").exists()
    run = ocr("scan", folder, "--json", "-")  # no lock left behind
    assert run.returncode == 0 and json.loads(run.stdout)["status"] == "current", run.stderr


def test_the_output_folder_a_scan_made_goes_when_it_is_left_empty(tmp_path: Path) -> None:
    """A scan interrupted while it waited for another (or listed a big folder) ended at once, and
    left the output folder it had made, empty; one that wrote nothing left the parents it had made
    for its output folder (-o deep/er/out)."""
    import fcntl

    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "a.png")
    run = ocr("scan", folder, "-o", tmp_path / "deep" / "er" / "out", "--include", "none*", "-q")
    assert run.returncode == 0 and sorted(tmp_path.iterdir()) == [folder], run.stderr
    held = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)  # as a first scan holds it
    try:
        log = tmp_path / "stderr"
        with open(log, "w") as err:
            # made before the input folder is locked: it sorts first
            command = [*OCR, "scan", str(folder), "-o", str(tmp_path / "a-made" / "out")]
            waiting = subprocess.Popen(command, stderr=err, stdout=subprocess.DEVNULL)
        _wait_for(lambda: "another ocr scan is working on it" in log.read_text(), process=waiting)
        assert (tmp_path / "a-made" / "out").is_dir()
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(timeout=60) == 130, log.read_text()
    finally:
        os.close(held)
    assert sorted(tmp_path.iterdir()) == [folder, log], list(tmp_path.iterdir())


def test_two_scans_into_one_output_folder_at_once_do_not_overwrite_each_other(tmp_path: Path) -> None:
    """`ocr scan a -o out` and `ocr scan b -o out` at once (two cron jobs), a/x.png and b/x.png
    both giving out/x.pdf: each found the name free and both wrote it, one over the other, both
    reporting "done". A scan now holds its output folder too: the second waits, then finds the
    first's outputs and fails as when run after it. The test holds the output folder first, as a
    third scan would, so that both start waiting before either writes."""
    import fcntl

    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    for folder, name in ((a, "phototest.tif"), (b, "eurotext.tif")):
        folder.mkdir()
        Image.open(TESS / name).crop((0, 0, 640, 120)).save(folder / "x.png")
    out.mkdir()
    held = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    scans = []
    try:
        for folder in (a, b):
            log = tmp_path / f"{folder.name}.err"
            with open(log, "w") as err, open(tmp_path / f"{folder.name}.json", "w") as stream:
                command = [*OCR, "scan", str(folder), "-o", str(out), "--json", "-"]
                scans.append((subprocess.Popen(command, stderr=err, stdout=stream), log))
        for process, log in scans:
            _wait_for(
                lambda log=log: "another ocr scan is writing into it" in log.read_text(), process=process
            )
        assert not any(out.iterdir())
    finally:
        os.close(held)
    codes = sorted(process.wait(timeout=600) for process, _ in scans)
    assert codes == [0, 3], [log.read_text() for _, log in scans]
    records = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("a", "b")]
    done = next(r for r in records if r["status"] == "done")
    failed = next(r for r in records if r["status"] == "failed")
    assert failed["error"]["kind"] == "output" and done["source"]["path"] in failed["error"]["message"]
    assert json.loads((out / "x.json").read_text())["source"]["path"] == done["source"]["path"]


def test_a_display_not_shown_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off a terminal (or with --quiet) the progress is not started: rich before 15 printed an
    empty line when its disabled Progress stopped, a blank line on stderr after the one-line
    error of a refused scan and before the summary."""
    from rich.console import Console
    from rich.progress import Progress

    from ocrcli.progress import ScanDisplay

    def refuse(self: Progress) -> None:
        raise AssertionError("a display not shown was started or stopped")

    monkeypatch.setattr(Progress, "start", refuse)
    monkeypatch.setattr(Progress, "stop", refuse)
    out = io.StringIO()
    with ScanDisplay(Console(file=out), 1, live=False, verbose=False):
        pass
    assert out.getvalue() == ""


def test_the_progress_line_keeps_its_counters_at_80_columns(tmp_path: Path) -> None:
    """At 80 columns the current file's name (up to 40 characters) took the room of the bar, the
    documents done and the ETA ("OCR   docs, 0 pages, - pages/s … ETA  …gz_main_11.jpg"). The name
    now gets what is left beside the counters: none at 80 columns, some at 100, 40 at 130."""
    from rich.console import Console

    from ocrcli.progress import ScanDisplay

    item = discover.Item(tmp_path / "db" / "100.tar_1705.04261.gz_main_11.jpg", "image", None, None)
    for width, name_shown in ((80, ""), (100, "main_11.jpg"), (130, "100.tar_1705.04261.gz_main_11.jpg")):
        out = io.StringIO()
        console = Console(file=out, width=width, force_terminal=True, color_system=None)
        display = ScanDisplay(console, 120, live=True, verbose=False)
        display.progress.update(display.task, completed=40)
        display.document_started(item, 1)
        display.console.print(display.progress.make_tasks_table(display.progress.tasks))
        line = out.getvalue().splitlines()[0]
        assert "40/120 docs" in line and "ETA" in line and "━" in line, (width, line)
        assert name_shown in line and (name_shown or ".jpg" not in line), (width, line)


class _Reporter:
    def __init__(self) -> None:
        self.outcomes: list = []

    def document_started(self, item: discover.Item, pages: int) -> None: ...
    def page_done(self, item: discover.Item) -> None: ...
    def document_finished(self, outcome) -> None:
        self.outcomes.append(outcome)


def _scan_options(in_place: bool = False):
    """ocr scan's options by default, one job (--in-place if asked)."""
    from ocrcli.cli import _pdf_options
    from ocrcli.scan import ScanOptions

    return ScanOptions(
        EngineSpec(), _pdf_options(None, False, False, None, False, False), 1, in_place=in_place
    )


def _rerun(items: list[discover.Item], options, stream=None) -> _Reporter:
    """Scan `items` in this process; its reporter holds the outcomes."""
    from ocrcli.scan import Scan

    reporter = _Reporter()
    Scan(items, options, reporter, stream).run()
    return reporter


def _counted_hashes(monkeypatch) -> list[Path]:
    """The files fingerprint.file_sha256 hashes from now on, in order."""
    hashed: list[Path] = []
    file_sha256 = fingerprint.file_sha256
    monkeypatch.setattr(
        fingerprint, "file_sha256", lambda path: hashed.append(Path(path)) or file_sha256(path)
    )
    return hashed


def _rewrite_keeping_mtime(path: Path) -> None:
    """Write `path` again with the same bytes and set its mtime back, as rsync and make see no change."""
    before = path.stat()
    time.sleep(0.01)
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _long_current_sidecar(tmp_path: Path, pages: int) -> tuple[list[discover.Item], Path, str]:
    """A one-image folder scanned with --no-pdf, its sidecar then made `pages` pages long (one
    page's entry repeated, laid out as ocrcli writes it): the items to scan again, the sidecar and
    that page's JSON text."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    assert ocr("scan", folder, "-o", out, "-q", "--no-pdf").returncode == 0
    sidecar = out / "a.json"
    head, page = sidecar.read_text().splitlines()[:2]
    page = page.removesuffix("]}")
    sidecar.write_text(head + "\n" + ",\n".join([page] * pages) + "]}\n")  # a long document's sidecar
    return discover.plan([folder / "a.png"], folder, out, pdf=False), sidecar, page


def test_a_rerun_reads_only_the_head_of_a_current_documents_sidecar(tmp_path: Path, monkeypatch) -> None:
    """A re-run json.load-ed each sidecar whole to find its document current: for a 640-page
    sidecar of 118 MB, 1 s of CPU and 1 GB of memory to skip it. Only its first line, the head,
    is parsed now; the stream (--json) still gets every page of it."""
    from ocrcli.scan import Scan

    items, sidecar, _ = _long_current_sidecar(tmp_path, 50)
    head = sidecar.read_text().splitlines()[0]
    record = json.loads(sidecar.read_text())
    options = _scan_options()
    reporter = _Reporter()
    scan = Scan(items, options, reporter)  # made first: it reads the models' manifest
    parsed: list[int] = []
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda text, **kw: parsed.append(len(text)) or loads(text, **kw))
    scan.run()
    monkeypatch.undo()
    assert [o.status for o in reporter.outcomes] == ["current"]
    assert parsed and max(parsed) < len(head) + 10, parsed  # not the pages
    stream = io.StringIO()
    _rerun(items, options, stream)
    streamed = json.loads(stream.getvalue())
    assert streamed == {**record, "models": models.select("fast").names(), "status": "current"}


def test_a_rerun_hashes_an_input_again_only_if_it_is_no_longer_the_file_hashed(
    tmp_path: Path, monkeypatch
) -> None:
    """A re-run read every input whole to hash it, the whole archive each night to find nothing
    to do. The sidecar records the file as it was hashed (source.stat), and a re-run finding the
    same file skips hashing it; a file rewritten with its mtime set back (which make and rsync
    take for unchanged) has a new ctime and is hashed again."""

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    image = folder / "a.png"
    Image.open(TESS / "phototest.tif").save(image)
    items = discover.plan([image], folder, out, pdf=False)
    options = _scan_options()
    monkeypatch.setattr(fingerprint, "SETTLED_NS", 0)  # a file just written is settled: no waiting
    _rerun(items, options)
    record = json.loads((out / "a.json").read_text())
    assert record["source"]["stat"]["inode"] == image.stat().st_ino
    jsonschema.validate(record, SCHEMA)
    hashed = _counted_hashes(monkeypatch)
    assert _rerun(items, options).outcomes[0].status == "current" and hashed == []
    _rewrite_keeping_mtime(image)
    assert _rerun(items, options).outcomes[0].status == "current" and hashed == [image]


def test_an_in_place_rerun_hashes_a_pdf_again_only_if_it_is_no_longer_the_one_written(
    tmp_path: Path, monkeypatch
) -> None:
    """In place, the input path holds our PDF after the first run, so source.stat never matched
    and every nightly `ocr scan --in-place` hashed every PDF of the archive again. The sidecar
    records the PDF it wrote as it was hashed (output.stat), taken when it is still that file and
    changed before the sidecar was written (git's racy rule); a PDF rewritten with its mtime set
    back, or one not older than its sidecar, is hashed again."""

    folder = tmp_path / "in"
    folder.mkdir()
    pdf = image_pdf(folder / "a.pdf", TESS / "phototest.tif", 1)
    items = discover.plan([pdf], folder, None)
    options = _scan_options(in_place=True)
    _rerun(items, options)
    sidecar = folder / "a.json"
    record = json.loads(sidecar.read_text())
    assert record["output"]["stat"]["inode"] == pdf.stat().st_ino
    jsonschema.validate(record, SCHEMA)
    if sidecar.stat().st_mtime_ns <= pdf.stat().st_ctime_ns:  # one coarse timestamp tick: as if a tick later
        os.utime(sidecar, ns=(sidecar.stat().st_atime_ns, pdf.stat().st_ctime_ns + 1))
    hashed = _counted_hashes(monkeypatch)

    def rerun() -> str:
        return _rerun(items, options).outcomes[0].status

    assert rerun() == "current" and hashed == []
    _rewrite_keeping_mtime(pdf)
    assert rerun() == "current" and hashed == [pdf]
    # Recorded as it is now, but changed in the timestamp tick its sidecar was written in: hashed
    now = fingerprint.stat_record(pdf.stat())
    sidecar.write_text(sidecar.read_text().replace(json.dumps(record["output"]["stat"]), json.dumps(now)))
    for mtime_ns, hashes_it in ((now["ctime_ns"], True), (now["ctime_ns"] + 1, False)):
        os.utime(sidecar, ns=(mtime_ns, mtime_ns))
        hashed.clear()
        assert rerun() == "current" and hashed == ([pdf] if hashes_it else [])


def test_a_current_documents_sidecar_is_streamed_a_page_at_a_time(tmp_path: Path) -> None:
    """`--json` streamed a current document's sidecar from a list of all its pages, parsed and
    dumped again: the whole sidecar in memory (336 MB of RSS for one of 118 MB). Each page is
    still checked to parse before any of the record is streamed, then streamed as the sidecar
    has it; a sidecar with a page that does not parse fails its document, not the stream."""
    items, sidecar, page = _long_current_sidecar(tmp_path, 1000)
    record = json.loads(sidecar.read_text())
    options = _scan_options()

    stream = io.StringIO()
    _rerun(items, options, stream)
    assert json.loads(stream.getvalue()) == {
        **record,
        "models": models.select("fast").names(),
        "status": "current",
    }

    class Discard(io.StringIO):
        def write(self, text: str) -> int:
            return len(text)

    size = sidecar.stat().st_size
    tracemalloc.start()
    try:
        reporter = _rerun(items, options, Discard())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [o.status for o in reporter.outcomes] == ["current"]
    assert peak < size / 4, f"{peak / size:.2f} of the sidecar's size"
    sidecar.write_text(sidecar.read_text().replace(page, page[:-1], 1))  # the first page cut short
    stream = io.StringIO()
    reporter = _rerun(items, options, stream)
    assert reporter.outcomes[0].error.kind == "unreadable"
    assert json.loads(stream.getvalue())["status"] == "failed"


def test_cores_used_follow_a_containers_cpu_quota(tmp_path: Path) -> None:
    """A container run with --cpus 1 on a many-core host may run on every core for one core's
    time: ocr scan started a worker (about 300 MB) per core of the host. Files as cgroup v2 and
    v1 write them; a quota of one core is below this machine's two."""
    cores = len(os.sched_getaffinity(0))
    v2 = tmp_path / "v2"
    v2.mkdir()
    for cpu_max, expected in [("max 100000", cores), ("100000 100000", 1), ("150000 100000", min(cores, 2))]:
        (v2 / "cpu.max").write_text(cpu_max + "\n")
        assert cpus.usable_cores(v2) == expected, cpu_max
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    for quota, expected in [("-1", cores), ("100000", 1), ("50000", 1)]:
        (v1 / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
        assert cpus.usable_cores(v1) == expected, quota
    assert cpus.usable_cores(tmp_path / "no-cgroup") == cores
    # A systemd service run with CPUQuota=100%: the quota is on its own cgroup v2, not the root's.
    service = v2 / "system.slice" / "ocr.service"
    service.mkdir(parents=True)
    (v2 / "cpu.max").write_text("max 100000\n")
    (service / "cpu.max").write_text("100000 100000\n")
    membership = tmp_path / "cgroup"
    membership.write_text("0::/system.slice/ocr.service\n")
    assert cpus.usable_cores(v2, membership) == 1
    membership.write_text("0::/\n")
    assert cpus.usable_cores(v2, membership) == cores


class _ReplacingReporter(_Reporter):
    """Replaces each document, once the scan has opened and hashed it and before its pages are
    handed out, with `replacement` (as a user's copy or save does: written beside, renamed over)."""

    def __init__(self, replacement: Path) -> None:
        super().__init__()
        self.replacement = replacement

    def document_started(self, item: discover.Item, pages: int) -> None:
        beside = item.path.with_name(".replacing")
        beside.write_bytes(self.replacement.read_bytes())
        beside.replace(item.path)


def _tiff(path: Path, *frames: Path) -> Path:
    """A multi-page TIFF of `frames`."""
    images = [Image.open(frame).convert("L") for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], compression="tiff_lzw")
    return path


def test_a_document_replaced_during_its_ocr_has_no_sidecar_of_the_other_version(tmp_path: Path) -> None:
    """With --no-pdf nothing checked, as the PDF's writing does, that the input was still the
    version hashed: a TIFF replaced by another document while it was OCRed got a sidecar giving the
    old version's sha256 and the new one's text, reported as done. Replaced between two pages, it
    now fails as changed, with nothing written; a run again does it."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    scan = _tiff(folder / "scan.tif", TESS / "phototest.tif", TESS / "phototest.tif")
    other = _tiff(tmp_path / "other.tif", TESS / "eurotext.tif", TESS / "eurotext.tif")
    items = discover.plan([scan], folder, out, pdf=False)
    reporter = _ReplacingReporter(other)
    from ocrcli.scan import Scan

    Scan(items, _scan_options(), reporter).run()
    [outcome] = reporter.outcomes
    assert outcome.status == "failed" and outcome.error.kind == "changed", outcome
    assert "changed while it was being OCRed" in outcome.error.message
    assert not (out / "scan.json").exists()
    again = _rerun(items, _scan_options())
    assert [o.status for o in again.outcomes] == ["done"]
    record = json.loads((out / "scan.json").read_text())
    assert record["source"]["sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()


def test_a_document_that_lost_pages_during_its_ocr_fails_as_changed_not_corrupt(tmp_path: Path) -> None:
    """A two-page TIFF replaced by a one-page one while it was OCRed failed as corrupt, "has no
    page 2 (it has 1)", which it never had when the scan began; it is a changed input, which a
    run again mends."""
    folder = tmp_path / "in"
    folder.mkdir()
    scan = _tiff(folder / "scan.tif", TESS / "phototest.tif", TESS / "phototest.tif")
    one_page = _tiff(tmp_path / "one.tif", TESS / "eurotext.tif")
    reporter = _ReplacingReporter(one_page)
    from ocrcli.scan import Scan

    Scan(discover.plan([scan], folder, tmp_path / "out"), _scan_options(), reporter).run()
    [outcome] = reporter.outcomes
    assert outcome.status == "failed" and outcome.error.kind == "changed", outcome
    assert outcome.error.message == f"{scan}: changed while it was being OCRed; nothing written (run again)"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_folder_made_where_an_output_goes_during_the_scan_is_named_as_such(tmp_path: Path) -> None:
    """A folder made at a document's PDF path while it was OCRed failed it with the rename's own
    words, naming the temporary file it had just removed: "cannot write out/a.pdf: [Errno 21] Is a
    directory: '/.../out/.a.pdf.x1y2z3.ocrcli-tmp' -> 'out/a.pdf'", a reason the summary could not
    group. It now says what is in the way; nothing is left behind."""

    class FolderInTheWay(_Reporter):
        def document_started(self, item: discover.Item, pages: int) -> None:
            assert item.pdf is not None
            item.pdf.mkdir(parents=True)
            (item.pdf / "keep.txt").write_text("the user's")

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    Image.open(TESS / "phototest.tif").save(folder / "a.png")
    reporter = FolderInTheWay()
    from ocrcli.scan import Scan

    Scan(discover.plan([folder / "a.png"], folder, out), _scan_options(), reporter).run()
    [outcome] = reporter.outcomes
    assert outcome.status == "failed" and outcome.error.kind == "output", outcome
    assert outcome.error.message == (
        f"cannot write {out / 'a.pdf'}: a folder was made there while this run went on; leaving it"
    )
    assert outcome.error.exit_code == errors.EXIT_OUTPUT
    assert (out / "a.pdf" / "keep.txt").read_text() == "the user's"
    assert not temporaries(out)


def test_an_output_folder_closed_during_the_scan_is_told_without_temporary_names(tmp_path: Path) -> None:
    """An output folder made read-only while a scan ran failed each document saying "cannot write
    out/b.pdf: [Errno 13] Permission denied: '/.../out/.b.pdf.k2j4x8q1.ocrcli-tmp'": the name of a
    temporary file never made, different for every document. The reason is now the error's own."""
    from ocrcli.safewrite import write_bytes_atomically

    (tmp_path / "shut").mkdir(mode=0o755)  # root's: user nobody may not write there
    raised = raised_as_another_user(tmp_path, lambda: write_bytes_atomically(Path("shut/b.pdf"), b"%PDF"))
    assert raised == "OutputError: cannot write shut/b.pdf: Permission denied"


def test_a_file_still_being_copied_in_when_opened_fails_as_changed_not_corrupt(
    tmp_path: Path, monkeypatch
) -> None:
    """A PDF still being copied into the folder when the scan reached it failed as corrupt, "not a
    readable PDF (root of pages tree has no /Kids array)", a file that is sound once copied. It
    grew while it was read: it fails as changed, and the run after the copy does it. A truncated
    file that stays so is still corrupt."""
    from ocrcli.scan import Scan

    folder = tmp_path / "in"
    folder.mkdir()
    whole = (DATA / "pdfs" / "ocrmypdf_multipage.pdf").read_bytes()
    copying, truncated = folder / "copying.pdf", folder / "truncated.pdf"
    copying.write_bytes(whole[: len(whole) // 2])
    truncated.write_bytes(whole[: len(whole) // 2])
    file_sha256 = fingerprint.file_sha256

    def hashed_while_the_copy_goes_on(path: Path) -> str:
        digest = file_sha256(path)
        if Path(path) == copying:  # the copier writes its next block meanwhile
            with open(copying, "ab") as f:
                f.write(whole[len(whole) // 2 : len(whole) // 2 + 65536])
        return digest

    monkeypatch.setattr(fingerprint, "file_sha256", hashed_while_the_copy_goes_on)
    reporter = _Reporter()
    Scan(discover.plan([copying, truncated], folder, tmp_path / "out"), _scan_options(), reporter).run()
    errors_by_name = {o.item.path.name: o.error for o in reporter.outcomes}
    assert errors_by_name["copying.pdf"].kind == "changed", errors_by_name
    assert errors_by_name["copying.pdf"].message == f"{copying}: {errors.CHANGED}"
    assert errors_by_name["truncated.pdf"].kind == "corrupt"


def test_a_document_whose_outputs_cannot_be_written_is_refused_before_its_ocr(tmp_path: Path) -> None:
    """A subfolder of the outputs that cannot be written (read-only, or a file where the folder
    should be) was found out only once each of its documents had been OCRed. A document whose
    output folder is plainly unwritable now fails at once, kind output (exit 5), unread."""
    from ocrcli.scan import Scan

    folder, out = tmp_path / "in", tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").save(folder / "sub" / "a.png")
    Image.open(TESS / "phototest.tif").save(folder / "b.png")
    out.mkdir()
    (out / "sub").write_text("a file where the folder sub/ goes")
    items = discover.plan([folder / "sub" / "a.png", folder / "b.png"], folder, out, pdf=True)

    class Recorder(_Reporter):
        def __init__(self) -> None:
            super().__init__()
            self.started: list[str] = []

        def document_started(self, item: discover.Item, pages: int) -> None:
            self.started.append(item.path.name)

    reporter = Recorder()
    Scan(items, _scan_options(), reporter).run()
    assert reporter.started == ["b.png"]  # a.png was not opened, let alone OCRed
    failed = {o.item.path.name: o for o in reporter.outcomes if o.status == "failed"}
    assert list(failed) == ["a.png"]
    assert failed["a.png"].error.kind == "output" and failed["a.png"].error.exit_code == 5
    assert (
        failed["a.png"].error.message
        == f"cannot write {out / 'sub' / 'a.pdf'}: {out / 'sub'} is a file, not a folder"
    )
    assert (out / "b.pdf").is_file() and not (out / "sub").is_dir()


def test_an_output_folder_that_is_a_link_leading_nowhere_is_refused_before_any_ocr(tmp_path: Path) -> None:
    """An output folder that is a link to a folder not there (~/Scans-ocr -> a drive not mounted)
    was taken for one still to be made: every document was OCRed, then failed "[Errno 17] File
    exists: '.../in-ocr'" (exit 5). The whole output folder is refused before any work now (exit
    2), and a subfolder of the outputs fails its documents before their OCR, as a file in its
    place does (found by a fresh-eyes audit of ocr scan)."""
    folder, out = tmp_path / "in", tmp_path / "in-ocr"
    (folder / "sub").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "sub" / "a.png")
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(folder / "b.png")
    out.symlink_to(tmp_path / "unmounted" / "scans-ocr")
    run = ocr("scan", folder, "--json", "-")
    assert run.returncode == 2, run.stderr
    reason = f"{out} is a link to {tmp_path / 'unmounted' / 'scans-ocr'}, which is not there"
    assert run.stderr == f"ocr: error: the output folder {out}: {reason}\n"  # no -o was given
    assert run.stdout == ""  # nothing was OCRed
    out.unlink()
    out.mkdir()
    (out / "sub").symlink_to(out / "gone")
    items = discover.plan([folder / "sub" / "a.png", folder / "b.png"], folder, out)
    reporter = _rerun(items, _scan_options())
    failed = {o.item.path.name: o.error for o in reporter.outcomes if o.status == "failed"}
    link = f"{out / 'sub'} is a link to {out / 'gone'}, which is not there"
    assert list(failed) == ["a.png"]
    assert failed["a.png"].message == f"cannot write {out / 'sub' / 'a.pdf'}: {link}"
    assert failed["a.png"].kind == "output" and [o.pages for o in reporter.outcomes] == [0, 1]


def test_an_output_path_longer_than_the_system_takes_fails_as_an_output(tmp_path: Path) -> None:
    """A deep tree mirrored under a longer -o gives outputs whose paths the system refuses (over
    PATH_MAX, 4,096 bytes on Linux) though every name in them is short: the check of the output's
    folders raised ENAMETOOLONG, and the document failed as unreadable (exit 3), its input
    blamed, "[Errno 36] File name too long: '...'". It fails as an output now (exit 5), before its
    OCR (found by a fresh-eyes audit of ocr scan)."""
    deep = tmp_path / "in" / "/".join(f"{'d' * 200}{level}" for level in range(19))
    deep.mkdir(parents=True)
    Image.open(TESS / "phototest.tif").crop((0, 0, 640, 120)).save(deep / "a.png")
    out = tmp_path / ("o" * 250)
    assert len(os.fsencode(out / deep.relative_to(tmp_path / "in"))) > os.pathconf("/", "PC_PATH_MAX")
    run = ocr("scan", tmp_path / "in", "-o", out, "--json", "-")
    assert run.returncode == 5, run.stderr[-300:]
    record = json.loads(run.stdout)
    assert record["error"]["kind"] == "output", record["error"]
    assert record["error"]["message"].endswith(": File name too long"), record["error"]["message"][-200:]


def test_a_pdf_in_place_in_a_read_only_folder_is_not_refused_before_its_ocr(tmp_path: Path) -> None:
    """In place, a PDF is rewritten only if a page gets words: one whose pages all have text is
    left as it is. Refused before its OCR as unwritable, such PDFs in a read-only subfolder failed,
    kind output (exit 5), with --no-sidecar, where nothing was to be written (done before). Its
    sidecar, written whatever the pages hold, is still refused at once."""
    from ocrcli.scan import Scan

    (tmp_path / "shut").mkdir(mode=0o755)  # root's: user nobody may not write there
    (tmp_path / "shut" / "a.pdf").write_bytes((DATA / "pdfs" / "pdfjs_sizes.pdf").read_bytes())

    def check() -> None:  # as nobody, in tmp_path
        pdf = Path("shut/a.pdf")
        (without_sidecar,) = discover.plan([pdf], pdf.parent, None, sidecar=False)
        Scan._check_writable(without_sidecar)  # nothing raised: only its pages tell
        (with_sidecar,) = discover.plan([pdf], pdf.parent, None)
        Scan._check_writable(with_sidecar)

    raised = raised_as_another_user(tmp_path, check)
    assert raised == "OutputError: cannot write shut/a.json: shut is not a folder that can be written"


def test_a_document_whose_output_folder_cannot_be_searched_is_refused_before_its_ocr(tmp_path: Path) -> None:
    """Outputs under a subfolder their user may not search (mode 700, another user's) failed each
    of their documents as unreadable (exit 3), "permission denied", as if the input were at fault:
    the check of the output's folder raised PermissionError. It is an output error (exit 5), named."""
    from ocrcli.scan import Scan

    (tmp_path / "in" / "sub" / "deeper").mkdir(parents=True)
    Image.open(TESS / "phototest.tif").save(tmp_path / "in" / "sub" / "deeper" / "a.png")
    (tmp_path / "out" / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "out").chmod(0o777)
    (tmp_path / "out" / "sub").chmod(0o700)

    def check() -> None:  # as nobody, in tmp_path
        (item,) = discover.plan([Path("in/sub/deeper/a.png")], Path("in"), Path("out"), pdf=True)
        Scan._check_writable(item)

    raised = raised_as_another_user(tmp_path, check)
    assert (
        raised
        == "OutputError: cannot write out/sub/deeper/a.pdf: out/sub is a folder that cannot be searched"
    )
