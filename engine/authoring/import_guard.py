"""What a DAG file may not do to the process that loads it: run forever, end it, or write on its stdout.

DAG files run in this process because the engine uses the DAG objects they build,
callables included: a subprocess could not hand them back. Loading each file in a
forked child first would catch more (a crash, a hang inside C code) but would run
every file twice, side effects included. So, while one file executes:

- a SIGALRM timer bounds it, as Airflow's dagbag_import_timeout does
  (LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT seconds, default 30; 0: none). Signals reach only
  the main thread, so elsewhere, or when an outer deadline is already armed (a try's
  execution_timeout), that deadline or none applies;
- `os._exit`, called by the loading thread, raises instead of ending the process
  (other threads, and processes the file forks, keep the real one);
- stdout, Python's and file descriptor 1, goes to stderr, so `-o json` stays JSON.

The timeout and the refused exit are exceptions derived from BaseException, so a
file's own `except Exception` does not swallow them; the loader reports the file
as broken. Files load one at a time: all of this is the whole process's. A thread
a file starts is not stopped here; the console script exits without waiting for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, NoReturn


class Refused(BaseException):
    """What the file did that the guard stopped; its message says it in a few words."""


class DagFileTimeout(Refused):
    pass


class DagFileExit(Refused):
    pass


_ONE_AT_A_TIME = threading.RLock()  # what the guard redirects belongs to the whole process


@contextlib.contextmanager
def guarded(seconds: float) -> Iterator[None]:
    """Runs the body (a DAG file) with its stdout on stderr, os._exit refused, and a deadline."""
    with _ONE_AT_A_TIME, _stdout_to_stderr(), _exit_refused(), _deadline(seconds):  # disarmed first
        yield


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    usable = threading.current_thread() is threading.main_thread() and not signal.getitimer(signal.ITIMER_REAL)[0]
    if seconds <= 0 or not usable:
        yield
        return

    def expire(*_: Any) -> None:
        raise DagFileTimeout(f"loading it took longer than {seconds:g} s (LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)  # one shot: nothing fires again during the cleanup
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


@contextlib.contextmanager
def _exit_refused() -> Iterator[None]:
    real = os._exit
    loader = os.getpid(), threading.get_ident()

    def refuse(status: int) -> NoReturn:
        if (os.getpid(), threading.get_ident()) != loader:
            real(status)
        raise DagFileExit(f"it called os._exit({status}) while loading")

    setattr(os, "_exit", refuse)  # noqa: B010 (typed as os's own function)
    try:
        yield
    finally:
        setattr(os, "_exit", real)  # noqa: B010


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = _redirect_descriptor(1, to=2)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _redirect_descriptor(fd: int, *, to: int) -> int | None:
    """A copy of `fd` to restore it from, with `fd` now writing to `to`; None when either is closed
    (Python's stdout is redirected all the same)."""
    try:
        saved = os.dup(fd)
    except OSError:
        return None
    try:
        os.dup2(to, fd)
    except OSError:
        os.close(saved)
        return None
    return saved
