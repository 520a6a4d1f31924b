"""Executors: where task tries run. The runner only submits, polls and stops.

The interface is deliberately small so that a distributed executor (Celery)
can plug in without touching the runner.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Protocol

from ledgerflow.engine.errors import InvalidInput
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult
from ledgerflow.engine.runtime.worker import die_with_parent, execute


class Executor(Protocol):
    slots: int

    def submit(self, job: TaskJob) -> None: ...

    def poll(self, timeout: float) -> list[TaskResult]: ...

    def stop(self, key: tuple[str, str]) -> None: ...

    def shutdown(self) -> list[tuple[str, str]]:
        """Stops everything still running; returns the keys that were stopped."""
        ...


class SequentialExecutor:
    """Runs each try in this process, one at a time: deterministic, for tests."""

    slots = 1

    def __init__(self) -> None:
        self._done: list[TaskResult] = []

    def submit(self, job: TaskJob) -> None:
        self._done.append(execute(job))

    def poll(self, timeout: float) -> list[TaskResult]:
        done, self._done = self._done, []
        return done

    def stop(self, key: tuple[str, str]) -> None:
        """Nothing runs between calls, so there is never anything to stop."""

    def shutdown(self) -> list[tuple[str, str]]:
        return []


def _serve(conn: Connection) -> None:
    """A worker process: dies with its parent, owns a process group, runs tries until told to stop."""
    die_with_parent()
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(execute(job))


@dataclass
class _Worker:
    proc: BaseProcess
    conn: Connection
    job: TaskJob | None = None
    deadline: float = float("inf")


class LocalExecutor:
    """Up to `slots` forked worker processes, reused across tries; any one can be killed.

    Workers are forked from this process, so they share the DAG it already
    loaded; a worker killed (stop, timeout) or dead is replaced on demand.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._ctx = multiprocessing.get_context("fork")
        self._idle: list[_Worker] = []
        self._busy: dict[tuple[str, str], _Worker] = {}

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_serve, args=(child,), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def submit(self, job: TaskJob) -> None:
        worker = self._idle.pop() if self._idle else self._spawn()
        worker.job = job
        worker.deadline = time.monotonic() + job.timeout + 5 if job.timeout else float("inf")
        try:
            worker.conn.send(job)
        except (BrokenPipeError, OSError):
            self._discard(worker)
            worker = self._spawn()
            worker.job, worker.deadline = job, worker.deadline
            worker.conn.send(job)
        self._busy[job.key] = worker

    def poll(self, timeout: float) -> list[TaskResult]:
        if not self._busy:
            time.sleep(min(timeout, 0.05))
            return []
        conns = [w.conn for w in self._busy.values()]
        # keyed by object: wait() is typed to return any waitable, though it returns some of `conns`
        by_conn: dict[object, tuple[str, str]] = {w.conn: key for key, w in self._busy.items()}
        results = [self._collect(by_conn[c]) for c in wait(conns, timeout=timeout)]
        now = time.monotonic()
        for key, worker in list(self._busy.items()):
            if now > worker.deadline:
                timeout_s = worker.job.timeout if worker.job else 0
                self.stop(key)
                results.append(TaskResult(key, "failed", f"execution_timeout of {timeout_s:g}s exceeded"))
        return results

    def _collect(self, key: tuple[str, str]) -> TaskResult:
        worker = self._busy.pop(key)
        try:
            result: TaskResult = worker.conn.recv()
        except (EOFError, OSError):
            worker.proc.join(1)
            self._discard(worker)
            return TaskResult(key, "failed", f"worker process died (exit code {worker.proc.exitcode})")
        worker.job = None
        self._idle.append(worker)
        return result

    def _discard(self, worker: _Worker) -> None:
        pid = worker.proc.pid
        assert pid is not None  # every worker's process was started in _spawn
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            worker.proc.kill()
        worker.proc.join(5)
        worker.conn.close()

    def stop(self, key: tuple[str, str]) -> None:
        worker = self._busy.pop(key, None)
        if worker is not None:
            self._discard(worker)

    def shutdown(self) -> list[tuple[str, str]]:
        stopped = list(self._busy)
        for key in stopped:
            self.stop(key)
        for worker in self._idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.proc.join(2)
            if worker.proc.is_alive():
                self._discard(worker)
        self._idle.clear()
        return stopped


EXECUTORS: dict[str, Callable[[int], Executor]] = {
    "local": LocalExecutor,
    "sequential": lambda parallelism: SequentialExecutor(),
}


def make_executor(kind: str | None, parallelism: int) -> Executor:
    """By name (an EXECUTORS key) from the argument or LEDGERFLOW_EXECUTOR; `local` by default."""
    chosen = kind or os.environ.get("LEDGERFLOW_EXECUTOR", "local")
    try:
        make = EXECUTORS[chosen]
    except KeyError:
        raise InvalidInput(f"unknown executor {chosen!r}: {' or '.join(sorted(EXECUTORS))}") from None
    return make(parallelism)
