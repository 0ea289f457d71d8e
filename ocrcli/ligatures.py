"""Letters lost in typeset ligatures (fi, fl, ff, ffi, ffl) put back where a word list agrees.

Typeset text draws "fi", "fl", "ff", "ffi" and "ffl" as one glyph. PP-OCRv6 tiny, which learnt
mostly separate letters, often reads such a glyph as its "f" alone: on docbank, "fluid" came out as
"fuid", "coefficients" as "coeficients" and "Hausdorff" as "Hausdorf", and a search of the PDF for
them found nothing. Of docbank's 663 words with one of these letter pairs (60 pages), 31 were
misread; with this mend, 13: among them words in curly quotes, "Wolff" read as "Wolf" and
"flavour" as "favour" (words the list knows as they were read are not mended).

A word is mended only if it is not in the word list and exactly one way of putting one letter back
right after one of its "f"s makes a word that is:
- another "f" (ff read as f, ffi as fi): a doubled f leaves no trace in what the recogniser read;
- an "i" or "l", only where the recogniser nearly read it (see near_letters): an "fl" ligature's
  "l" reached 0.23-0.47 beside the blank that won, while "fb" (femtobarn) shows no "i" at all and
  stays as it is.
A word ending in a hyphen is the first part of a word broken across lines and is left alone ("ef-"
is not "eff-"), as is anything with a digit. The word list is pyspellchecker's English one (160,000
words, built by its authors from film subtitles, with words known to be missing added); only its
words with an "f" are kept. Only words of a recognizer whose manifest entry says "mend_ligatures"
are mended: PP-OCRv6 small, the accurate tier's, reads these ligatures right, and on its docbank
words the mend changed only a name ("Ofer" to "Offer").
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import importlib.resources
import json
import re
from collections.abc import Sequence

import numpy as np

from ocrcli.ctc import DecodedChar

LETTERS = "il"  # the letters an "f" ligature hides besides another "f"
NEAR_READ = 0.1  # the probability at which a letter counts as nearly read
# Leading punctuation, letters with hyphens between them, trailing punctuation (no trailing hyphen).
_WORD = re.compile(r"([^\w]*)([^\W\d_]+(?:-[^\W\d_]+)*)([^\w-]*)")


def near_letters(probs: np.ndarray, chars: list[DecodedChar], classes: list[str]) -> list[DecodedChar]:
    """`chars`, read from `probs` (steps x classes), with each "f" given the LETTERS whose
    probability reached NEAR_READ between its first step and the next character's."""
    columns = [(letter, classes.index(letter)) for letter in LETTERS if letter in classes]
    marked = []
    for k, char in enumerate(chars):
        if char.char == "f" and columns:
            end = chars[k + 1].first_step if k + 1 < len(chars) else len(probs)
            steps = probs[char.first_step : max(end, char.last_step + 1)]
            near = "".join(letter for letter, j in columns if steps[:, j].max() >= NEAR_READ)
            if near:
                char = dataclasses.replace(char, nearly_next=near)
        marked.append(char)
    return marked


def restored(text: str, nearly_read: Sequence[tuple[int, str]] = ()) -> str:
    """`text` with a letter lost in a ligature put back (see the module's docstring).
    `nearly_read` gives, by position in `text`, the letters nearly read there."""
    match = _WORD.fullmatch(text)
    if match is None or "f" not in match[2]:
        return text
    near = dict(nearly_read)
    start, parts = match.start(2), []
    for part in match[2].split("-"):
        parts.append(_restored_part(part, {i - start: letters for i, letters in near.items()}))
        start += len(part) + 1
    return match[1] + "-".join(parts) + match[3]


def _restored_part(part: str, near: dict[int, str]) -> str:
    """One hyphen-free part of a word, mended; `near` is keyed by position in the part."""
    if "f" not in part or _known(part):
        return part
    found = {
        candidate
        for i, char in enumerate(part)
        if char == "f"
        for letter in "f" + near.get(i + 1, "")
        if _known(candidate := part[: i + 1] + letter + part[i + 1 :])
    }
    return found.pop() if len(found) == 1 else part


def _known(word: str) -> bool:
    return word.lower() in _words_with_f()


@functools.cache
def _words_with_f() -> frozenset[str]:
    """The word list's words that have an "f" (the only ones looked up): read once per process,
    in about 0.1 s, straight from the package's data (its SpellChecker takes 0.7 s to load). If
    the list cannot be read (another version of the package, without that file), none: no word
    is mended, and the OCR goes on as before the mend."""
    try:
        data = importlib.resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
        return frozenset(word for word in json.loads(gzip.decompress(data)) if "f" in word)
    except (ImportError, OSError, ValueError):  # ValueError: not gzip, not JSON (JSONDecodeError)
        return frozenset()
