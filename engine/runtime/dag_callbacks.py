"""A DAG's own `on_success_callback` / `on_failure_callback`, run by the driver as the run ends, as
Airflow runs them: with the template context of the run's last task instance plus `reason`
("success", "task_failure", or "timed_out" past dagrun_timeout). What they print, and the traceback
of one that raises, goes to the run's `dag_callbacks.log`; nothing of the run changes."""

from __future__ import annotations

import contextlib
import traceback
from pathlib import Path
from typing import Any

from ledgerflow.engine.authoring.airflow.callbacks import run_callbacks
from ledgerflow.engine.authoring.airflow.finder import airflow_imports
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.authoring.dagbag import importable
from ledgerflow.engine.authoring.templating import build_context
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.infrastructure.private_paths import open_private, private_dir
from ledgerflow.engine.runtime.in_process import ONE_AT_A_TIME
from ledgerflow.engine.runtime.jobs import TaskJob, confined_log
from ledgerflow.engine.runtime.try_instance import TryInstance


def run_ended(dag: DAG, agg: DagRun, final: str, reason: str | None = None) -> None:
    """Runs the DAG's callback for the run's final state, if it has one."""
    kind = "success" if final == "success" else "failure"
    if getattr(dag, f"on_{kind}_callback", None) is None:
        return
    last = next((t for t in reversed(dag.topological_order()) if t in agg.run.tis), None)
    path = confined_log(dag.dag_id, agg.run.run_id, "dag_callbacks.log")
    if last is None or path is None:
        return
    private_dir(path.parent)
    ti = agg.run.tis[last]
    job = TaskJob.for_try(agg.id, agg.run, dag, last, max(ti.try_number, 1), check_fingerprint=False)
    folder = Path(dag.folder or Path(dag.fileloc or ".").parent)
    with (ONE_AT_A_TIME, open_private(path, "a", buffering=1, errors="backslashreplace") as log, importable(folder),
          airflow_imports(), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log)):
        try:
            context: dict[str, Any] = build_context(
                dag=dag, conf=job.conf, run_id=job.run_id, run_type=job.run_type, task_id=last,
                logical_date=job.logical_date, data_interval_start=job.data_interval_start,
                data_interval_end=job.data_interval_end, try_number=job.try_number, ti=TryInstance(job, dag))
            context["reason"] = reason or ("success" if kind == "success" else "task_failure")
            run_callbacks(dag, kind, context)
        except Exception:  # building the context failed: the run's outcome stands
            log.write(traceback.format_exc())
