"""Recognisers derived from the packaged models when they load, built once and kept in the cache.

Two changes, each made only where it was measured to keep the readings:
- the last layer sliced to the non-CJK classes (ocrcli.charset says which and why);
- in the fast tier's recogniser (QUICK_GELU), each exact GELU (x/2 (1 + erf(x/sqrt 2))) replaced by
  onnxruntime's QuickGelu (x sigmoid(1.702 x)), an approximation it computes in 5.5 % less of the
  recogniser's time on docbank's crops (6 alternating rounds). It changes 1.6 % of the recogniser's
  per-step argmaxes, and the scores not at all: docbank CER / anchored / BoW F1 / word-box F1
  3.34 / 2.10 / 93.60 / 92.69 against 3.35 / 2.11 / 93.57 / 92.67, sroie ci-CER 4.40 against 4.38,
  tess 1.02 against 1.07 (score_ocr.py, 2026-12-03). In the small recogniser it changes 4.8 % of
  the argmaxes and saves only 2.7 % of its time, so the reviewer and the accurate tier keep the
  exact GELU. Where the layers around a GELU are linear, the QuickGelu's 1.702 is moved into
  their weights (_fold_alpha), which onnxruntime computes faster.
The model files are never changed. Building needs the onnx package, whose import costs 0.7 s CPU
(its ml_dtypes extension), so a derived model is saved in the cache folder with its sha256, which
is checked each time it is read back.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ocrcli.errors import ModelError, OutputError, one_line
from ocrcli.models import ModelSpec, cache_dir, own_sha256
from ocrcli.safewrite import write_bytes_atomically

if TYPE_CHECKING:
    import onnx

DERIVING_VERSION = 4  # part of the cache key: bump when what _build makes changes
# The models measured to read as well with QuickGelu, by sha256 (other weights under the same
# name, fine-tuned say, were not): PP-OCRv6 tiny's recogniser.
QUICK_GELU = frozenset({"9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6"})
QUICK_GELU_ALPHA = 1.702
KEPT_PER_MODEL = 3  # derived files kept per model name and variant (see _remove_stale)


def derived_model(spec: ModelSpec, count: int, keep: list[int] | None) -> bytes | None:
    """`spec`'s model with its last layer restricted to the class indices `keep` (of `count`; None:
    all of them) and, if it is in QUICK_GELU, its GELUs approximated; None if nothing changes or the
    last layer cannot be told apart (then the file is used as it is, with all its classes)."""
    digest = own_sha256(spec)  # a models folder may list none: the file's own, then
    quick_gelu = digest in QUICK_GELU
    if keep is None and not quick_gelu:
        return None
    cached = _cache_path(spec.name, digest, count, keep, quick_gelu)
    data = _read_verified(cached) if cached else None
    if data is None:
        data = _build(spec.path, count, keep, quick_gelu)
        if data is None:
            return None
        if cached:
            _save(cached, data)
            _remove_stale(cached)
    return data


def _cache_path(name: str, digest: str, count: int, keep: list[int] | None, quick_gelu: bool) -> Path | None:
    """Named after what the derived model depends on: the model (`digest`, its sha256) and how it
    is derived (a model a models folder lists without a hash is named by its file's: it was built
    again on every start); None where there is no cache folder."""
    folder = cache_dir()
    if folder is None:
        return None
    depends = f"{digest}\n{DERIVING_VERSION}\n{count}\n{keep}\n{quick_gelu}"
    key = hashlib.sha256(depends.encode()).hexdigest()
    return folder / "derived" / f"{name}-{'all' if keep is None else 'nocjk'}-{key[:32]}.onnx"


def _read_verified(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
        expected = path.with_suffix(".sha256").read_bytes().strip()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest().encode() != expected:
        return None
    with contextlib.suppress(OSError):  # used now (its access time; _remove_stale keeps the latest)
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))
    return data


def _save(path: Path, data: bytes) -> None:
    # Best effort: a read-only cache folder only costs building again next time. The hash goes
    # last, so a model saved without it is never trusted.
    try:
        write_bytes_atomically(path, data)
        write_bytes_atomically(path.with_suffix(".sha256"), hashlib.sha256(data).hexdigest().encode())
    except OutputError:
        pass


def _remove_stale(cached: Path) -> None:
    """Delete the files of the same model name and variant beyond the KEPT_PER_MODEL most recently
    used: those of an older DERIVING_VERSION or of weights since updated, 2 to 13 MB each, would
    otherwise stay in the cache for good. More than one is kept because two models folders may
    each list a model of that name: when only the newest was kept, using them in turn built each
    one again every time. Best effort, like _save."""
    model_and_variant = cached.stem.rsplit("-", 1)[0]
    # A cache folder the user may not list (another user's) raised PermissionError from the glob,
    # a traceback before any work.
    with contextlib.suppress(OSError):
        others = [
            old
            for old in cached.parent.glob(f"{model_and_variant}-*.onnx")
            if old.stem != cached.stem and old.stem.rsplit("-", 1)[0] == model_and_variant
        ]
        for old in sorted(others, key=_last_used, reverse=True)[KEPT_PER_MODEL - 1 :]:
            for path in (old, old.with_suffix(".sha256")):
                with contextlib.suppress(OSError):
                    path.unlink()


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_atime
    except OSError:
        return 0.0


def _build(path: Path, count: int, keep: list[int] | None, quick_gelu: bool) -> bytes | None:
    import onnx  # only needed here, when the cache misses (see the module's docstring)

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError, onnx's own errors
        # A model without a listed hash is not checked before: a truncated file was a traceback.
        raise ModelError(f"{path}: cannot load ONNX model ({one_line(exc)})") from exc
    if keep is not None and not slice_classes(model, count, keep):
        return None
    if quick_gelu and not approximate_gelus(model) and keep is None:
        return None  # nothing changed: the file serves as it is
    return model.SerializeToString()


def slice_classes(model: onnx.ModelProto, count: int, keep: list[int]) -> bool:
    """Restrict the last layer (the one 2-D weight and one bias ending in `count` classes) to the
    classes `keep`, in place; False, and the model unchanged, if that layer cannot be told apart."""
    from onnx import numpy_helper

    head = [t for t in model.graph.initializer if len(t.dims) in (1, 2) and t.dims[-1] == count]
    if sorted(len(t.dims) for t in head) != [1, 2] or len(model.graph.output) != 1:
        return False
    for tensor in head:
        values = numpy_helper.to_array(tensor)[..., np.array(keep)]
        tensor.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(values), tensor.name))
    # Shapes declared with the class count change too (the output's and the last layer's own).
    for value in [*model.graph.output, *model.graph.value_info]:
        dims = value.type.tensor_type.shape.dim
        if dims and dims[-1].dim_value == count:
            dims[-1].ClearField("dim_value")
            dims[-1].dim_param = "classes"
    return True


def approximate_gelus(model: onnx.ModelProto) -> int:
    """Replace each exact GELU, as exported (Div by sqrt 2, Erf, Add 1, Mul by x, Mul by 0.5, each
    result used once), by one com.microsoft QuickGelu node, in place. Returns how many."""
    from onnx import helper

    graph = model.graph
    replaced: dict[int, onnx.NodeProto] = {}
    dropped: set[int] = set()
    index = _GraphIndex.of(graph)
    for erf in [node for node in graph.node if node.op_type == "Erf"]:
        match = _exact_gelu(index, erf)
        if match is None:
            continue
        *inner, half = match
        dropped |= {id(node) for node in inner}
        x, y = inner[0].input[0], half.output[0]
        folded = _fold_alpha(index, x, y, QUICK_GELU_ALPHA)
        replaced[id(half)] = helper.make_node(
            "QuickGelu",
            [x],
            [y],
            name=f"{erf.name}_quick" if erf.name else "",  # unnamed: "_quick" twice would not load
            domain="com.microsoft",
            alpha=1.0 if folded else QUICK_GELU_ALPHA,
        )
    if replaced:
        nodes = [replaced.get(id(node), node) for node in graph.node if id(node) not in dropped]
        del graph.node[:]
        graph.node.extend(nodes)
        if not any(o.domain == "com.microsoft" for o in model.opset_import):
            model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(replaced)


def _fold_alpha(index: _GraphIndex, x: str, y: str, alpha: float) -> bool:
    """Make QuickGelu's alpha 1 where the layers around it are linear, in place: x sigmoid(a x)
    is (a x) sigmoid(a x) / a, so the layer making x is scaled by a and the convolutions using y
    by 1 / a, which is exact but for rounding. onnxruntime computes QuickGelu with alpha 1 in one
    pass instead of two (a scaling loop first): the tiny recogniser's inference took 3.5 % less
    time on docbank's crops, no argmax changed (2026-12-03). False, and nothing changed, if the
    layers are not of the kinds handled or their weights or results are shared."""
    scaled_up = _linear_weights(index, x, x_uses=2)  # x is used by the GELU's Div and Mul
    users = index.users.get(y, [])
    scaled_down = [node.input[1] for node in users if node.op_type == "Conv" and node.input[0] == y]
    if (
        not scaled_up
        or not users
        or len(scaled_down) != index.uses[y]
        or not all(_own_float_tensor(index, name) for name in scaled_down)
    ):
        return False
    from onnx import numpy_helper

    for names, factor in ((scaled_up, alpha), (scaled_down, 1 / alpha)):
        for name in names:
            values = numpy_helper.to_array(index.tensors[name]) * np.float32(factor)
            index.tensors[name].CopyFrom(numpy_helper.from_array(values, name))
    return True


def _linear_weights(index: _GraphIndex, name: str, x_uses: int = 1) -> list[str] | None:
    """The weights to scale so that the layer making `name` (through Identity nodes; a Conv, a
    BatchNormalization, or an Add of a constant to such a result) makes it times a factor; None if
    it is not such a layer, or a weight or a result on the way is used elsewhere too."""
    node = index.made_by.get(name)
    if index.uses.get(name) != x_uses:
        return None
    while node is not None and node.op_type == "Identity":
        if index.uses.get(node.input[0]) != 1:
            return None
        node = index.made_by.get(node.input[0])
    if node is None:
        return None
    if node.op_type in ("Conv", "BatchNormalization"):
        weights = list(node.input[1:3])  # a Conv's weight and bias, a BatchNormalization's scale and bias
    elif node.op_type == "Add" and len(node.input) == 2:
        constant, other = node.input if node.input[0] in index.tensors else reversed(node.input)
        inner = _linear_weights(index, other)
        weights = [constant, *inner] if inner else []
    else:
        return None
    return weights if weights and all(_own_float_tensor(index, w) for w in weights) else None


def _own_float_tensor(index: _GraphIndex, name: str) -> bool:
    """Whether `name` is a float32 initializer used by one node only."""
    from onnx import TensorProto

    tensor = index.tensors.get(name)
    return tensor is not None and index.uses.get(name) == 1 and tensor.data_type == TensorProto.FLOAT


@dataclass
class _GraphIndex:
    tensors: dict[str, onnx.TensorProto]  # the initializers
    constants: dict[str, np.ndarray]  # scalar initializers
    made_by: dict[str, onnx.NodeProto]
    uses: dict[str, int]  # by nodes, and once more for a graph output
    users: dict[str, list[onnx.NodeProto]]

    @classmethod
    def of(cls, graph: onnx.GraphProto) -> _GraphIndex:
        from onnx import numpy_helper

        uses = {out.name: 1 for out in graph.output}
        users: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                uses[name] = uses.get(name, 0) + 1
                users.setdefault(name, []).append(node)
        return cls(
            tensors={t.name: t for t in graph.initializer},
            constants={t.name: numpy_helper.to_array(t) for t in graph.initializer if not t.dims},
            made_by={out: node for node in graph.node for out in node.output},
            uses=uses,
            users=users,
        )

    def next_op(self, node: onnx.NodeProto | None, op: str) -> onnx.NodeProto | None:
        """The node that alone uses `node`'s result, if it is an `op`."""
        out = node.output[0] if node else ""
        if self.uses.get(out) != 1 or self.users[out][0].op_type != op:
            return None
        return self.users[out][0]

    def with_constant(self, node: onnx.NodeProto | None, known: str, value: float) -> bool:
        """Whether `node`'s other input than `known` is a scalar constant equal to `value`."""
        other = [name for name in node.input if name != known] if node else []
        return (
            len(other) == 1
            and other[0] in self.constants
            and bool(np.isclose(self.constants[other[0]], value))
        )


def _exact_gelu(index: _GraphIndex, erf: onnx.NodeProto) -> list[onnx.NodeProto] | None:
    """The five nodes (Div, Erf, Add, Mul, Mul) of an exact GELU around `erf`, or None if they are
    not exactly that: other constants, or a result in the middle used elsewhere or as an output."""
    divide = index.made_by.get(erf.input[0])
    if divide is None or divide.op_type != "Div" or index.next_op(divide, "Erf") is not erf:
        return None
    x = divide.input[0]
    add = index.next_op(erf, "Add")
    times_x = index.next_op(add, "Mul")
    half = index.next_op(times_x, "Mul")
    if not (
        index.with_constant(divide, x, np.sqrt(2.0))
        and index.with_constant(add, erf.output[0], 1.0)
        and times_x is not None
        and add is not None
        and sorted(times_x.input) == sorted([x, add.output[0]])
        and index.with_constant(half, times_x.output[0], 0.5)
    ):
        return None
    return [divide, erf, add, times_x, half]
