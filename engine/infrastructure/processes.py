"""Which process an operation ran in, and whether that process is certainly gone.

A process is named by the machine's boot, its pid and its start time, so a pid
the kernel gave to another process since is not mistaken for it. Only a process
of this machine can be known gone; of another machine nothing is concluded.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot; None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22; the name in parentheses may hold spaces


def this_process() -> str | None:
    """`boot:pid:start` of the running process; None where /proc does not tell."""
    boot, started = _boot_id(), _started(os.getpid())
    return f"{boot}:{os.getpid()}:{started}" if boot and started else None


def gone(process: str | None, host: str) -> bool:
    """True only when certain: the process ran on this machine and runs no longer."""
    if not process or host != socket.gethostname():
        return False
    boot, _, rest = process.partition(":")
    pid, _, started = rest.partition(":")
    if not pid.isdigit():
        return False
    return boot != _boot_id() or _started(int(pid)) != started
