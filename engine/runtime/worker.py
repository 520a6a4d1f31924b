"""Runs one try of one task instance and reports how it ended.

The worker checks the DAG file's fingerprint against the one the command
planned with: by default a changed file refuses to run (the code that ran must
be the code that was planned); with --donot-pickle it runs its own version and
records that version's fingerprint.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import signal
import subprocess
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ledgerflow.engine.authoring.airflow.finder import airflow_imports
from ledgerflow.engine.authoring.dag import DAG, BaseTask, BashTask, PythonTask
from ledgerflow.engine.authoring.dagbag import fingerprint_of, importable, load_file
from ledgerflow.engine.authoring.templating import build_context, call_with_context, rendered_fields
from ledgerflow.engine.errors import DagFileChanged, ExecutionTimeout, TryFailedForGood, TrySkipped
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.private_paths import open_private, private_dir
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult
from ledgerflow.engine.runtime.prev_success import prev_success_context
from ledgerflow.engine.runtime.try_instance import TryInstance
from ledgerflow.engine.runtime.try_stop import TryStopped, stoppable

_PR_SET_PDEATHSIG = 1
_LOADED: dict[tuple[str, str, str], DAG] = {}


def remember(dag: DAG) -> None:
    """Keeps a loaded DAG so forked workers reuse it instead of re-importing its file."""
    if dag.fileloc and dag.fingerprint:
        _LOADED[(dag.fileloc, dag.fingerprint.partition("+")[0], dag.dag_id)] = dag  # by the file's own digest


def _dag_for(job: TaskJob) -> tuple[DAG, str]:
    found = fingerprint_of(Path(job.fileloc))
    if found != job.planned_fingerprint.partition("+")[0] and job.check_fingerprint:  # "+airflow2": its mode
        raise DagFileChanged(
            f"DAG file {job.fileloc} changed since the command planned "
            f"(planned {job.planned_fingerprint[:12]}, found {found[:12]}); "
            f"refusing to run a different version (use -x/--donot-pickle to allow it)"
        )
    key = (job.fileloc, found, job.dag_id)
    if key not in _LOADED:
        for candidate in load_file(Path(job.fileloc), Path(job.dag_folder)):
            remember(candidate)
    if key not in _LOADED:
        raise RuntimeError(f"DAG {job.dag_id} is no longer defined in {job.fileloc}")
    dag = _LOADED[key]
    if dag.fingerprint != job.planned_fingerprint and job.check_fingerprint:
        raise DagFileChanged(f"DAG {job.dag_id} loads as {dag.fingerprint} here, not as planned "
                             f"({job.planned_fingerprint}): is LEDGERFLOW_AIRFLOW_COMPAT set differently?")
    return dag, dag.fingerprint or found


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    if not seconds:
        yield
        return

    def expire(*_: Any) -> None:
        raise ExecutionTimeout(f"execution_timeout of {seconds:g}s exceeded")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _captured(log: IO[str]) -> Iterator[None]:
    """Sends Python-level and file-descriptor-level stdout/stderr to the try's log."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        log.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def die_with_parent() -> None:
    """Asks Linux to SIGKILL this process when its parent dies (a command never outlives the worker running its try)."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _run_bash(command: str, env: dict[str, str] | None, log: Any, timeout: float | None) -> None:
    full_env = None if env is None else {**env}
    proc = subprocess.Popen(
        ["bash", "-c", command], stdout=log, stderr=subprocess.STDOUT, env=full_env,
        start_new_session=True, preexec_fn=die_with_parent,
    )
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ExecutionTimeout(f"execution_timeout of {timeout:g}s exceeded") from None
    except BaseException:  # the try was stopped: the command goes with it
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    if code != 0:
        raise RuntimeError(f"bash command exited with code {code}")


TryRunner = Callable[[Any, TaskJob, dict[str, Any], dict[str, Any], IO[str]], None]
_KINDS: dict[type[BaseTask], TryRunner] = {}


def runs_tries_of(kind: type[BaseTask]) -> Callable[[TryRunner], TryRunner]:
    """Registers how a try of a task kind runs (sub-DAG tries register themselves, so this
    module needs no runner)."""

    def register(run: TryRunner) -> TryRunner:
        _KINDS[kind] = run
        return run

    return register


def _kind_of(task: BaseTask) -> TryRunner:
    for kind in type(task).__mro__:
        if kind in _KINDS:
            return _KINDS[kind]
    raise RuntimeError(f"no way to run a {type(task).__name__} is registered")


@runs_tries_of(BashTask)
def _bash_try(task: BashTask, job: TaskJob, context: dict[str, Any], fields: dict[str, Any], log: IO[str]) -> None:
    _run_bash(fields["bash_command"], fields["env"], log, job.timeout)


@runs_tries_of(PythonTask)
def _python_try(task: PythonTask, job: TaskJob, context: dict[str, Any], fields: dict[str, Any],
                log: IO[str]) -> None:
    with _captured(log), _alarm(job.timeout):
        result = call_with_context(task.python_callable, context, fields["op_kwargs"], fields["op_args"])
    context["ti"].push_result(result, multiple_outputs=False)


def _ended(task: BaseTask | None, context: dict[str, Any] | None, outcome: str, exception: BaseException | None,
           log: IO[str]) -> None:
    """The task hears how its try ended (Airflow callbacks run here), its output in the try's log."""
    if task is None or context is None or outcome == "refused":
        return
    try:
        with stoppable(), _captured(log):
            task.try_ended(outcome, context, exception)
    except TryStopped:  # a stop cuts the callbacks short; the try's outcome stands
        log.write("Stopped while the task's callbacks ran\n")


def execute(job: TaskJob) -> TaskResult:
    """Runs the task; every outcome, including a refused fingerprint, becomes a TaskResult."""
    if job.unrunnable:
        return TaskResult(job.key, "failed", job.unrunnable)
    log_path = Path(job.log_path)
    private_dir(log_path.parent)  # task logs hold what tasks print: their owner's only
    error: str | None = None
    outcome = "success"
    final = False  # failed without its retries
    fingerprint: str | None = None
    ti: TryInstance | None = None
    task: BaseTask | None = None
    context: dict[str, Any] | None = None
    raised: BaseException | None = None
    folder = Path(job.dag_folder or Path(job.fileloc).parent)
    # a task may print or raise text that is not UTF-8 (a lone surrogate): escaped, never a crash
    with (open_private(log_path, "w", buffering=1, errors="backslashreplace") as log, importable(folder),
          airflow_imports()):
        try:
            with stoppable():
                dag, fingerprint = _dag_for(job)
                task = dag.tasks[job.task_id]
                ti = TryInstance(job, dag)
                context = build_context(
                    dag=dag, conf=job.conf, run_id=job.run_id, run_type=job.run_type, task_id=job.task_id,
                    logical_date=job.logical_date, data_interval_start=job.data_interval_start,
                    data_interval_end=job.data_interval_end, try_number=job.try_number, ti=ti,
                    prev_success=lambda: prev_success_context(job.prev_success),
                )
                fields = rendered_fields(task, context)
                _kind_of(task)(task, job, context, fields, log)
        except TrySkipped as exc:  # the task said so (exit code 99, AirflowSkipException)
            outcome = "skipped"
            raised = exc
            log.write(f"Skipping: {exc}\n")
        except (Exception, SystemExit) as exc:  # the task's own failure, sys.exit() too: record it, never crash
            error = f"{type(exc).__name__}: {exc}"
            outcome = "refused" if isinstance(exc, DagFileChanged) else "failed"
            final = isinstance(exc, TryFailedForGood)
            raised = exc
            log.write(traceback.format_exc())
        retrying = outcome == "failed" and not final and job.retries_left
        _ended(task, context, "up_for_retry" if retrying else outcome, raised, log)
    digest = hashlib.sha256(log_path.read_bytes()).hexdigest()
    host = settings.hostname()
    if ti is None or outcome == "refused":
        return TaskResult(job.key, outcome, error, digest, fingerprint, hostname=host)
    return TaskResult(job.key, outcome, error, digest, fingerprint, xcom=ti.pushed or None, skip=tuple(ti.skip),
                      final=final, hostname=ti.hostname)
