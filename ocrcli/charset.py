"""Which classes the recognizer weighs: all of its dictionary, or the alphabetic scripts only.

PP-OCRv6 tiny scores 6,906 classes at every time step, about 6,300 of them CJK characters. Its last
layer (a matrix product, a bias and a softmax over all classes) took a fifth of its time on docbank.
Without CJK, the recognizer keeps the ~620 classes made of characters below U+2E80 (Latin with its
accents, Greek, digits, punctuation, currency and other symbols: whatever the dictionary has before
the CJK blocks) by slicing that layer's weights when the model loads; the file is never changed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CJK_START = 0x2E80  # CJK Radicals Supplement; kana, Hangul, ideographs and fullwidth forms follow


def alphabetic(cls: str) -> bool:
    return all(ord(ch) < CJK_START for ch in cls)


def without_cjk(path: Path, classes: list[str]) -> tuple[bytes, list[str]] | None:
    """The recognizer at `path` restricted to its non-CJK classes, as ONNX bytes, with its new class
    list (the CTC blank stays first). None if its last layer cannot be told apart: exactly one 2-D
    weight and one bias must end in the dictionary's class count."""
    import onnx  # only needed here: importing it costs 0.7 s CPU (its ml_dtypes extension)
    from onnx import numpy_helper

    model = onnx.load(str(path))
    count = len(classes)
    head = [t for t in model.graph.initializer if len(t.dims) in (1, 2) and t.dims[-1] == count]
    if sorted(len(t.dims) for t in head) != [1, 2] or len(model.graph.output) != 1:
        return None
    keep = np.array([i for i, cls in enumerate(classes) if i == 0 or alphabetic(cls)])
    for tensor in head:
        values = numpy_helper.to_array(tensor)[..., keep]
        tensor.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(values), tensor.name))
    dims = model.graph.output[0].type.tensor_type.shape.dim
    if dims:  # the output's declared class count changes too
        dims[-1].ClearField("dim_value")
        dims[-1].dim_param = "classes"
    return model.SerializeToString(), [classes[i] for i in keep]
