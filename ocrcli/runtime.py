"""ONNX Runtime sessions: created once per process, with explicit thread settings."""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocrcli.cpus import usable_cores
from ocrcli.errors import ModelError, one_line

THREADS_ENV = "OCRCLI_THREADS"


def default_threads() -> int:
    """Inference threads per process: $OCRCLI_THREADS, else 1.

    One thread is the most CPU-efficient setting (no spinning or synchronisation); throughput comes
    from running one worker process per core instead.
    """
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "1")))
    except ValueError:
        return 1


def usable_threads(requested: int) -> int:
    """`requested` inference threads, at most one per core this process may use: more only
    compete for the same cores, and a mistyped count (--threads 99999) started 32,000 threads
    and was killed for its memory (17 GB)."""
    return max(1, min(requested, usable_cores()))


def limit_opencv_threads(threads: int) -> None:
    """OpenCV's own thread pool (resizing, warping) follows the inference thread count: with one
    worker process per core, extra threads only compete for the same cores."""
    cv2.setNumThreads(threads)


def keep_freed_memory() -> None:
    """Let glibc keep freed buffers for reuse instead of returning them to the kernel.

    Each inference allocates and frees tens of MB; by default glibc hands blocks over 128 KB straight
    back to the kernel, and touching fresh pages again costs more system time than the model's own
    work on small inputs (measured: sys CPU 2.3 s -> 0.5 s over five pages). Unlike onnxruntime's
    arena, which keeps the largest size ever requested per model, the heap is shared by all models.
    """
    libc = _glibc()
    if libc is None:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 256 << 20)
    libc.mallopt(m_trim_threshold, 512 << 20)


# What keep_freed_memory may keep, in RSS: without a bound it grows with the page count (`ocr pdf`
# over 480 copies of a small scan: 1.08 GB peak; with this bound 0.90 GB, and no more with more
# pages). A docbank page alone peaks at 360-560 MB: a bound under that trims after nearly every page
# and costs CPU (450 MB: +5 % over 20 docbank pages, sys 0.3 -> 1.2 s); this one costs nothing there.
KEEP_FREED_MB = 800


def release_freed_memory(above_mb: float = KEEP_FREED_MB) -> bool:
    """Hand freed heap memory back to the kernel when this process's RSS is over `above_mb`.

    keep_freed_memory trades memory for speed; the engine calls this after each page so that what
    it keeps stays bounded, however many pages a process reads. Returns whether it trimmed.
    """
    libc = _glibc()
    if libc is None or resident_mb() <= above_mb:
        return False
    libc.malloc_trim(0)
    return True


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """glibc, whose allocator these tune; None elsewhere (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def resident_mb() -> float:
    """This process's resident set size in MB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


_FLOAT_INPUTS = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(double)": np.dtype(np.float64),
}


class Model:
    """One ONNX model: a session plus its input and output names."""

    def __init__(self, path: Path, threads: int, data: bytes | None = None):
        """Load the model at `path`, or from `data` (the model as changed in memory) if given."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Fatal only: every error it logs it raises too, and is reported in one line (see
        # __call__); logged as well, it came first, in red, whatever stderr was.
        options.log_severity_level = 4
        # Detector input sizes change page to page: an arena would keep the largest ever seen.
        options.enable_cpu_mem_arena = False
        if threads > 1:
            # Idle threads spinning burn CPU another worker could use.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            source = data if data is not None else str(path)
            self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{path}: cannot load ONNX model ({one_line(exc)})") from exc
        given = self.session.get_inputs()[0]
        self.input_name = given.name
        # What the model takes, if it is a float tensor ocrcli can feed (float32 is what the
        # stages make): weights exported in half precision took float16, and every page failed
        # as a bug (exit 1) with onnxruntime's "Unexpected input data type". None otherwise: the
        # role check (pipeline) refuses the model.
        self.input_dtype: np.dtype | None = _FLOAT_INPUTS.get(given.type)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """The model's first output for `batch`; MemoryError if onnxruntime ran out of memory (an
        address-space limit, `ulimit -v`, or a host that does not overcommit), which it raises as
        its own RuntimeException: it was reported as a bug, exit 1, not as out of memory."""
        if self.input_dtype is not None and batch.dtype != self.input_dtype:
            batch = batch.astype(self.input_dtype)
        try:
            scores = self.session.run(None, {self.input_name: batch})[0]
            return scores if scores.dtype == np.float32 else scores.astype(np.float32)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            if "bad_alloc" in str(exc):
                raise MemoryError(one_line(exc)) from exc
            raise
