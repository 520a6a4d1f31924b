"""Executors: where task tries run. The runner only submits, polls and stops.

The interface is deliberately small so that a distributed executor (Celery)
can plug in without touching the runner.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import Connection, wait
from typing import Protocol

from engine.worker import TaskJob, TaskResult, execute

_PR_SET_PDEATHSIG = 1


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


def _child(job: TaskJob, conn: Connection) -> None:
    """Entry point of a forked worker: dies with its parent, owns a process group."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conn.send(execute(job))
    conn.close()


class LocalExecutor:
    """One forked process per try, up to `slots` at once; can kill any one of them."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._ctx = multiprocessing.get_context("fork")
        self._running: dict[tuple[str, str], tuple[multiprocessing.process.BaseProcess, Connection, TaskJob, float]] = {}

    def submit(self, job: TaskJob) -> None:
        reader, writer = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(target=_child, args=(job, writer), daemon=False)
        proc.start()
        writer.close()
        deadline = time.monotonic() + job.timeout + 5 if job.timeout else float("inf")
        self._running[job.key] = (proc, reader, job, deadline)

    def poll(self, timeout: float) -> list[TaskResult]:
        if not self._running:
            time.sleep(min(timeout, 0.05))
            return []
        readers = {entry[1]: key for key, entry in self._running.items()}
        ready = wait(list(readers), timeout=timeout)
        results: list[TaskResult] = []
        for conn in ready:
            key = readers[conn]
            results.append(self._collect(key))
        now = time.monotonic()
        for key, (_, _, job, deadline) in list(self._running.items()):
            if now > deadline:
                self._kill(key)
                results.append(TaskResult(key, "failed", f"execution_timeout of {job.timeout:g}s exceeded"))
        return results

    def _collect(self, key: tuple[str, str]) -> TaskResult:
        proc, conn, job, _ = self._running.pop(key)
        try:
            result: TaskResult = conn.recv()
        except (EOFError, OSError):
            proc.join(1)
            result = TaskResult(key, "failed", f"worker process died (exit code {proc.exitcode})")
        conn.close()
        proc.join(5)
        return result

    def _kill(self, key: tuple[str, str]) -> None:
        proc, conn, _, _ = self._running.pop(key)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.join(5)
        conn.close()

    def stop(self, key: tuple[str, str]) -> None:
        if key in self._running:
            self._kill(key)

    def shutdown(self) -> list[tuple[str, str]]:
        stopped = list(self._running)
        for key in stopped:
            self._kill(key)
        return stopped


def make_executor(kind: str | None, parallelism: int) -> Executor:
    """`local` (default) or `sequential`, from the argument or LEDGERFLOW_EXECUTOR."""
    from engine.errors import InvalidInput

    chosen = kind or os.environ.get("LEDGERFLOW_EXECUTOR", "local")
    if chosen == "local":
        return LocalExecutor(parallelism)
    if chosen == "sequential":
        return SequentialExecutor()
    raise InvalidInput(f"unknown executor {chosen!r}: local or sequential")
