"""Executors: where task tries run. The runner only submits, polls and stops.

The interface is deliberately small so that a distributed executor (Celery)
can plug in without touching the runner.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Protocol

from ledgerflow.engine.errors import InvalidInput
from ledgerflow.engine.runtime import try_stop
from ledgerflow.engine.runtime.in_process import ONE_AT_A_TIME
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult
from ledgerflow.engine.runtime.kept_try import run_kept

STOP_GRACE = 5.0  # seconds a stopped worker has to end its try before it is killed
IDLE_CHECK = 1.0  # how often an idle worker checks that its driver lives


class Executor(Protocol):
    slots: int
    waiting: str | None  # why tries it holds have not started (no worker takes them), for progress
    queues: bool  # its tries wait for a worker: recorded queued, then running once poll() reports them so

    def submit(self, job: TaskJob) -> None: ...

    def poll(self, timeout: float) -> list[TaskResult]: ...

    def stop(self, key: tuple[str, str]) -> None: ...

    def shutdown(self) -> list[tuple[str, str]]:
        """Stops everything still running; returns the keys that were stopped."""
        ...


class SequentialExecutor:
    """Runs each try in this process, one at a time (across every thread driving a DAG): deterministic,
    for tests."""

    slots = 1
    waiting: str | None = None
    queues = False

    def __init__(self) -> None:
        self._done: list[TaskResult] = []

    def submit(self, job: TaskJob) -> None:
        with ONE_AT_A_TIME:
            result = run_kept(job)
        assert result is not None  # its driver is this very process
        self._done.append(result)

    def poll(self, timeout: float) -> list[TaskResult]:
        done, self._done = self._done, []
        return done

    def stop(self, key: tuple[str, str]) -> None:
        """Nothing runs between calls, so there is never anything to stop."""

    def shutdown(self) -> list[tuple[str, str]]:
        return []


def _let_go_of_sockets(keep: int) -> None:
    """Puts /dev/null in place of every socket forked from the driver but `keep`: a worker that
    outlives its driver must not keep the driver's database sessions (and their advisory locks)
    alive. The numbers stay taken, so nothing inherited can write into a file opened later."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd in (keep, null):
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.dup2(null, fd)
    except OSError:  # no /proc: nothing to let go of that can be found
        pass
    finally:
        os.close(null)


def _serve(conn: Connection, driver: int) -> None:
    """A worker process: owns a process group, runs tries until told to stop or its driver is gone.

    It outlives a driver killed mid-try: the try ends, its outcome is kept, and only
    then does the worker leave (the next driver waits for it). SIGTERM is a stop.
    """
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try_stop.install()
    _let_go_of_sockets(keep=conn.fileno())

    def driver_alive() -> bool:
        return os.getppid() == driver

    try:
        while not try_stop.asked():
            if not conn.poll(IDLE_CHECK):
                if not driver_alive():
                    return
                continue
            job = conn.recv()
            if job is None:
                return
            result = run_kept(job, driver_alive)
            if result is None:
                return
            conn.send(result)
    except (EOFError, OSError, try_stop.TryStopped):
        return


@dataclass
class _Worker:
    proc: BaseProcess
    conn: Connection
    job: TaskJob | None = None
    deadline: float = float("inf")


class LocalExecutor:
    """Up to `slots` forked worker processes, reused across tries.

    Workers are forked from this process, so they share the DAG it already
    loaded; a worker stopped, timed out or dead is replaced on demand. A stop is
    SIGTERM first: a try that ended meanwhile is reported as it ended, not lost.
    """

    waiting: str | None = None
    queues = False

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._ctx = multiprocessing.get_context("fork")
        self._idle: list[_Worker] = []
        self._busy: dict[tuple[str, str], _Worker] = {}
        self._late: list[TaskResult] = []  # of tries that ended as they were being stopped

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_serve, args=(child, os.getpid()), daemon=True)
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
        late, self._late = self._late, []
        if not self._busy:
            if not late:
                time.sleep(min(timeout, 0.05))
            return late
        if late:
            timeout = 0
        conns = [w.conn for w in self._busy.values()]
        # keyed by object: wait() is typed to return any waitable, though it returns some of `conns`
        by_conn: dict[object, tuple[str, str]] = {w.conn: key for key, w in self._busy.items()}
        results = late + [self._collect(by_conn[c]) for c in wait(conns, timeout=timeout)]
        now = time.monotonic()
        for key, worker in list(self._busy.items()):
            if now > worker.deadline:
                timeout_s = worker.job.timeout if worker.job else 0
                self._discard(self._busy.pop(key))
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

    def _halt(self, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Stops these tries; one that ended meanwhile reports in the next poll. Returns those stopped."""
        workers = {key: self._busy.pop(key) for key in keys if key in self._busy}
        for worker in workers.values():
            assert worker.proc.pid is not None  # every worker's process was started in _spawn
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        waiting = dict(workers)
        while waiting and time.monotonic() < deadline:
            by_conn: dict[object, tuple[str, str]] = {w.conn: key for key, w in waiting.items()}
            conns = [w.conn for w in waiting.values()]
            for conn in wait(conns, timeout=max(0.0, deadline - time.monotonic())):
                key = by_conn[conn]
                worker = waiting.pop(key)
                try:
                    self._late.append(worker.conn.recv())
                except (EOFError, OSError):
                    pass
        for worker in workers.values():
            worker.proc.join(max(0.0, deadline - time.monotonic()))
            self._discard(worker)
        ended = {res.key for res in self._late}
        return [key for key in workers if key not in ended]

    def stop(self, key: tuple[str, str]) -> None:
        self._halt([key])

    def shutdown(self) -> list[tuple[str, str]]:
        stopped = self._halt(list(self._busy))
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


def _celery(parallelism: int) -> Executor:
    from ledgerflow.engine.runtime.celery_executor import CeleryExecutor  # imports Celery only when used

    return CeleryExecutor(parallelism)


EXECUTORS: dict[str, Callable[[int], Executor]] = {
    "local": LocalExecutor,
    "sequential": lambda parallelism: SequentialExecutor(),
    "celery": _celery,
}


def make_executor(kind: str | None, parallelism: int) -> Executor:
    """By name (an EXECUTORS key) from the argument or LEDGERFLOW_EXECUTOR; `local` by default."""
    chosen = kind or os.environ.get("LEDGERFLOW_EXECUTOR", "local")
    try:
        make = EXECUTORS[chosen]
    except KeyError:
        raise InvalidInput(f"unknown executor {chosen!r}: {' or '.join(sorted(EXECUTORS))}") from None
    return make(parallelism)
