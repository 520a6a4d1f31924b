"""The embedded server's postmaster.pid, and whether the PID it holds really is that server.

The file outlives a crash, and its PID may since belong to an unrelated process:
only a postgres process running on this data directory is trusted or signalled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_SERVER_NAMES = frozenset({"postgres", "postmaster"})


@dataclass(frozen=True)
class PidFile:
    """The lines of postmaster.pid that ledgerflow reads: PID, port, socket directory, status."""

    path: Path
    pid: int
    port: str
    socket_dir: str
    status: str


def read_pid_file(pgdata: Path) -> PidFile | None:
    """None when there is no complete file (no server, or one still writing it)."""
    path = pgdata / "postmaster.pid"
    try:
        lines = path.read_text().splitlines()
        return PidFile(path, int(lines[0]), lines[3].strip(), lines[4].strip(),
                       lines[7].strip() if len(lines) > 7 else "ready")
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Stale:
    """Why a PID file does not name its server; `live`: its PID now belongs to another process."""

    why: str
    live: bool


def staleness(pid_file: PidFile, pgdata: Path) -> Stale | None:
    """None when the file's PID is the postmaster of `pgdata`."""
    pid = pid_file.pid
    seen = _process(pid)
    if seen is None:
        return Stale(f"{pid_file.path} is stale: PID {pid} is gone", live=False)
    args, cwd = seen
    if not args or _program(args[0]) not in _SERVER_NAMES:
        return Stale(f"{pid_file.path} is stale: PID {pid} is not a postgres server", live=True)
    if not _serves(args, cwd, pgdata):
        return Stale(f"{pid_file.path} is stale: PID {pid} is a postgres server of another data directory",
                     live=True)
    return None


def _program(arg0: str) -> str:
    name = os.path.basename(arg0)
    return name[:-4] if name.lower().endswith(".exe") else name


def _serves(args: list[str], cwd: str | None, pgdata: Path) -> bool:
    """A postmaster works in its data directory, and pg_ctl starts it with `-D` naming it."""
    here = pgdata.resolve()
    named = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-D"]
    return any(Path(p).resolve() == here for p in [*([cwd] if cwd else []), *named])


def _process(pid: int) -> tuple[list[str], str | None] | None:
    """The command line and working directory of a live process; None when there is none.

    A process that cannot be inspected counts as an unrelated one (empty command line).
    """
    if pid <= 0:
        return None
    proc = Path("/proc")
    if not proc.is_dir():
        return _process_portable(pid)
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return [], None
    try:
        cwd: str | None = os.readlink(proc / str(pid) / "cwd")
    except OSError:
        cwd = None
    return [os.fsdecode(a) for a in raw.split(b"\0") if a], cwd


def _process_portable(pid: int) -> tuple[list[str], str | None] | None:
    """Where there is no /proc (macOS, Windows): psutil, which the embedded server brings."""
    import psutil

    try:
        process = psutil.Process(pid)
        args = process.cmdline()
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:
        return [], None
    try:
        cwd: str | None = process.cwd()
    except psutil.Error:
        cwd = None
    return list(args), cwd
