"""How many cores this process may use: the cores it may run on, fewer under a container's CPU quota."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")  # a container's own cgroup, as Docker and Kubernetes mount it


def usable_cores(cgroup: Path = CGROUP, membership: Path = Path("/proc/self/cgroup")) -> int:
    """The cores this process may use: those it may run on, fewer under a CPU quota. A container
    run with --cpus 2 on a 64-core host may run on all 64 cores for 2 cores' time: one worker per
    core there started 64 workers of about 300 MB each, to share 2 cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quotas = [quota for folder in _cgroup_folders(cgroup, membership) if (quota := cpu_quota(folder))]
    return max(1, min(cores, math.ceil(min(quotas)))) if quotas else cores


def _cgroup_folders(cgroup: Path, membership: Path) -> list[Path]:
    """`cgroup` and, under it, the folders down to the process's own cgroup v2, as `membership`
    (/proc/self/cgroup: "0::/system.slice/ocr.service") names it: a quota on any of them bounds
    it. A container has its own at `cgroup`; a systemd service run with CPUQuota= has it on its own
    cgroup, below."""
    folders = [cgroup]
    with contextlib.suppress(OSError):
        for line in membership.read_text().splitlines():
            if line.startswith("0::/"):
                for part in line[len("0::/") :].split("/"):
                    if part in ("", ".", ".."):  # the root, or outside this cgroup namespace
                        break
                    folders.append(folders[-1] / part)
    return folders


def cpu_quota(cgroup: Path = CGROUP) -> float | None:
    """The cgroup's CPU quota in cores (1.5: one and a half cores' time), None if it has none:
    cgroup v2's cpu.max ("150000 100000", "max 100000"), else v1's cpu.cfs_quota_us (-1: none)
    over cpu.cfs_period_us."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota, period = ((cgroup / "cpu" / name).read_text().strip() for name in _CFS_FILES)
        except (OSError, ValueError):
            return None
    try:
        cores = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):  # "max", or a file not as documented
        return None
    return cores if cores > 0 else None


_CFS_FILES = ("cpu.cfs_quota_us", "cpu.cfs_period_us")
