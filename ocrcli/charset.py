"""Which classes the recognizer weighs: all of its dictionary, or the alphabetic scripts only.

PP-OCRv6 tiny scores 6,906 classes at every time step, about 6,300 of them CJK characters. Its last
layer (a matrix product, a bias and a softmax over all classes) took a fifth of its time on docbank.
Without CJK, the recognizer keeps the ~620 classes made of characters below U+2E80 (Latin with its
accents, Greek, digits, punctuation, currency and other symbols: whatever the dictionary has before
the CJK blocks); ocrcli.derived slices that layer's weights when the model loads.
"""

from __future__ import annotations

CJK_START = 0x2E80  # CJK Radicals Supplement; kana, Hangul, ideographs and fullwidth forms follow


def alphabetic(cls: str) -> bool:
    return all(ord(ch) < CJK_START for ch in cls)


def non_cjk_indices(classes: list[str]) -> list[int]:
    """The indices of the classes kept without CJK (the CTC blank stays first)."""
    return [i for i, cls in enumerate(classes) if i == 0 or alphabetic(cls)]


def unspaced_script(char: str) -> bool:
    """Whether a character's script writes words without spaces between them (CJK, kana, hangul)."""
    return (
        "\u2e80" <= char <= "\ua4cf"  # CJK radicals, kana, CJK ideographs, Yi
        or "\uac00" <= char <= "\ud7af"  # hangul
        or "\uf900" <= char <= "\ufaff"  # CJK compatibility ideographs
        or "\uff00" <= char <= "\uffef"  # full-width forms
    )
