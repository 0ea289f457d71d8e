"""Which classes the recognizer weighs: all of its dictionary, or the alphabetic scripts only.

PP-OCRv6 tiny scores 6,906 classes at every time step, about 6,300 of them CJK characters. Its last
layer (a matrix product, a bias and a softmax over all classes) took a fifth of its time on docbank.
Without CJK, the recognizer keeps the ~620 classes made of characters below U+2E80 (Latin with its
accents, Greek, digits, punctuation, currency and other symbols: whatever the dictionary has before
the CJK blocks) by slicing that layer's weights; the model file is never changed. Slicing needs the
onnx package, whose import costs 0.7 s CPU (its ml_dtypes extension), so the sliced model is built
once and kept in the cache folder with its sha256, which is checked each time it is read back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ocrcli.errors import OutputError
from ocrcli.models import ModelSpec, cache_dir
from ocrcli.safewrite import write_bytes_atomically

CJK_START = 0x2E80  # CJK Radicals Supplement; kana, Hangul, ideographs and fullwidth forms follow
SLICING_VERSION = 2  # part of the cache key: bump when _sliced's output changes


def alphabetic(cls: str) -> bool:
    return all(ord(ch) < CJK_START for ch in cls)


def without_cjk(spec: ModelSpec, classes: list[str]) -> tuple[bytes, list[str]] | None:
    """The recognizer `spec` restricted to its non-CJK classes, as ONNX bytes, with its new class
    list (the CTC blank stays first). None if its last layer cannot be told apart: exactly one 2-D
    weight and one bias must end in the dictionary's class count."""
    keep = [i for i, cls in enumerate(classes) if i == 0 or alphabetic(cls)]
    cached = _cache_path(spec, classes, keep)
    data = _read_verified(cached) if cached else None
    if data is None:
        data = _sliced(spec.path, len(classes), keep)
        if data is None:
            return None
        if cached:
            _save(cached, data)
    return data, [classes[i] for i in keep]


def _cache_path(spec: ModelSpec, classes: list[str], keep: list[int]) -> Path | None:
    """Named after what the sliced model depends on; None for a model without a listed hash."""
    if not spec.sha256:
        return None
    depends = f"{spec.sha256}\n{SLICING_VERSION}\n{chr(0).join(classes)}\n{keep}"
    key = hashlib.sha256(depends.encode()).hexdigest()
    return cache_dir() / "derived" / f"{spec.name}-nocjk-{key[:32]}.onnx"


def _read_verified(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
        expected = path.with_suffix(".sha256").read_bytes().strip()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest().encode() == expected else None


def _save(path: Path, data: bytes) -> None:
    # Best effort: a read-only cache folder only costs slicing again next time. The hash goes
    # last, so a model saved without it is never trusted.
    try:
        write_bytes_atomically(path, data)
        write_bytes_atomically(path.with_suffix(".sha256"), hashlib.sha256(data).hexdigest().encode())
    except OutputError:
        pass


def _sliced(path: Path, count: int, keep: list[int]) -> bytes | None:
    import onnx  # only needed here, when the cache misses (see the module's docstring)
    from onnx import numpy_helper

    model = onnx.load(str(path))
    head = [t for t in model.graph.initializer if len(t.dims) in (1, 2) and t.dims[-1] == count]
    if sorted(len(t.dims) for t in head) != [1, 2] or len(model.graph.output) != 1:
        return None
    for tensor in head:
        values = numpy_helper.to_array(tensor)[..., np.array(keep)]
        tensor.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(values), tensor.name))
    # Shapes declared with the class count change too (the output's and the last layer's own).
    for value in [*model.graph.output, *model.graph.value_info]:
        dims = value.type.tensor_type.shape.dim
        if dims and dims[-1].dim_value == count:
            dims[-1].ClearField("dim_value")
            dims[-1].dim_param = "classes"
    return model.SerializeToString()
