"""CTC greedy decoding that keeps, for each character, the time steps it was read at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DecodedChar:
    char: str
    first_step: int  # first time step where this character was the best class
    last_step: int  # last such step (inclusive)
    confidence: float  # best probability over its steps
    nearly_next: str = ""  # letters nearly read right after it (on an "f" only: see ligatures)


def ctc_greedy(probs: np.ndarray, classes: list[str], blank: int = 0) -> list[DecodedChar]:
    """Decode one sequence of per-step class probabilities (T, C).

    Repeated classes collapse into one character unless separated by a blank.
    """
    best = probs.argmax(axis=1)
    return ctc_collapse(best, probs[np.arange(len(best)), best], classes, blank)


def ctc_collapse(
    best: np.ndarray, best_prob: np.ndarray, classes: list[str], blank: int = 0
) -> list[DecodedChar]:
    """Decode from each step's best class and its probability (both of shape (T,))."""
    if len(best) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])  # each run of one class
    ends = np.r_[starts[1:], len(best)] - 1
    peaks = np.maximum.reduceat(best_prob, starts)
    runs = zip(best[starts].tolist(), starts.tolist(), ends.tolist(), peaks.tolist(), strict=True)
    return [DecodedChar(classes[cls], first, last, peak) for cls, first, last, peak in runs if cls != blank]
