"""What this machine knows of its tries outside the database: which run now, how ended ones ended.

A worker claims its try (a file under LEDGERFLOW_HOME it holds an flock on while the
try runs) and, once the try ended, keeps the outcome here (written, fsync'd, renamed
into place) before it reports it. The driver forgets an outcome once the store holds
it; one its driver never stored waits for the next driver of the DAG. A claim whose
lock is free belongs to a worker that is gone. Files, unlike advisory locks and
sessions, survive a database restart, and a kill -9 of the driver loses none of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.private_paths import private_dir


@dataclass(frozen=True)
class TryKey:
    """One try of one task instance, and the operation that started it."""

    dag_id: str
    run_uuid: str
    task_id: str
    try_number: int

    @property
    def name(self) -> str:
        """A file name for any ids (they may hold characters no path may)."""
        return hashlib.sha256(f"{self.run_uuid}|{self.task_id}|{self.try_number}".encode()).hexdigest()[:40]


def _folder(kind: str) -> Path:
    path = settings.home() / "tries" / kind
    private_dir(path)  # LEDGERFLOW_HOME and tries/ too, not only the last folder, are 0700
    return path


def _write(path: Path, data: dict[str, Any], fd: int | None = None, *, durable: bool = True) -> None:
    """Writes a whole file next to `path` and renames it into place: readers never see half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    own = fd is None
    if fd is None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data).encode())
        if durable:  # a claim only matters while its process lives; an outcome must outlive the machine's crash
            os.fsync(fd)
        os.rename(tmp, path)
    finally:
        if own:
            os.close(fd)


@contextlib.contextmanager
def claimed(key: TryKey) -> Iterator[None]:
    """Holds the try's claim while the block runs; the claim is locked before anyone can see it."""
    path = _folder("running") / f"{key.name}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _write(path, {"key": asdict(key), "pid": os.getpid()}, fd, durable=False)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)  # releases the lock: the outcome, if any, is kept before this


def keep(key: TryKey, outcome: dict[str, Any]) -> None:
    """The try's outcome, durable before the worker reports it."""
    _write(_folder("ended") / f"{key.name}.json", {"key": asdict(key), "outcome": outcome})


def forget(keys: Iterable[TryKey]) -> None:
    """Outcomes the store now holds."""
    folder = _folder("ended")
    for key in keys:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / f"{key.name}.json")


def _entries(kind: str, dag_id: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(_folder(kind).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):  # gone meanwhile; a rename makes half a file impossible
            continue
        if data["key"]["dag_id"] == dag_id:
            yield path, data


def kept(dag_id: str) -> list[tuple[TryKey, dict[str, Any]]]:
    """Every outcome of the DAG's tries not yet forgotten."""
    return [(TryKey(**d["key"]), d["outcome"]) for _, d in _entries("ended", dag_id)]


@dataclass(frozen=True)
class Claim:
    """A try a live worker holds: where its claim is, and the worker's pid."""

    path: Path
    key: TryKey
    pid: int


def released(path: Path) -> bool:
    """Whether no live worker holds the claim; a claim left by a worker that died is removed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)  # its worker is gone without a word: the try did not end
    return True


def held_claims(dag_id: str) -> list[Claim]:
    """The DAG's tries that live workers run right now."""
    return [Claim(path, TryKey(**d["key"]), d["pid"]) for path, d in _entries("running", dag_id)
            if not released(path)]
