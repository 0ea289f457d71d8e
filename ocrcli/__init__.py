"""ocrcli: batch document OCR on the CPU.

from ocrcli import read, Engine
doc = read("scan.png")                 # a path, or an RGB numpy array (H x W x 3, uint8)
print(doc.text)
for line in doc.pages[0].lines:
    for word in line.words:
        print(word.text, word.box, word.confidence)
engine = Engine(tier="accurate")       # load the models once, read many pages
read("scan.png", cjk=True)             # also read Chinese and Japanese characters
doc.to_dict()                          # the JSON form (ocrcli/document.schema.json)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.2.19"  # keep equal to pyproject.toml: resume redoes outputs of another version
__all__ = ["Engine", "read", "Document", "Page", "Line", "Word", "OcrError", "__version__"]

if TYPE_CHECKING:
    import numpy as np

    from ocrcli.document import Document, Line, Page, Word
    from ocrcli.errors import OcrError
    from ocrcli.pipeline import Engine

# onnxruntime's official builds send usage telemetry to Microsoft by default (Linux too, since
# 1.2x), keeping a device ID and a store of events under ~/.cache. An offline OCR tool sends
# nothing about its users: off, unless they set it. It is read when onnxruntime is first
# imported, so here, before any of ours imports it; `ocr scan`'s workers inherit it.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

_engines: dict[tuple[str, bool], Any] = {}


def read(source: str | bytes | os.PathLike | np.ndarray, tier: str = "fast", cjk: bool = False) -> Document:
    """OCR one image file (all its frames) or an RGB numpy array; models load once per tier.
    cjk=True reads Chinese and Japanese characters too (see ocrcli.charset)."""
    from ocrcli.pipeline import Engine

    if (tier, cjk) not in _engines:
        _engines[tier, cjk] = Engine(tier, cjk=cjk)
    return _engines[tier, cjk].read(source)


def __getattr__(name: str) -> Any:
    # Imported lazily so `import ocrcli` (and `ocr --help`) stays fast.
    if name == "Engine":
        from ocrcli.pipeline import Engine

        return Engine
    if name in ("Document", "Page", "Line", "Word"):
        from ocrcli import document

        return getattr(document, name)
    if name == "OcrError":
        from ocrcli.errors import OcrError

        return OcrError
    raise AttributeError(name)
