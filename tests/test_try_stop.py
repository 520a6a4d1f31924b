"""Stopping tries: one that already ended is reported as it ended, never as stopped (issue 10 item 1)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from dagfiles import make_dags, wait_for

from ledgerflow.engine.authoring.dagbag import fingerprint_of
from ledgerflow.engine.runtime.executors import LocalExecutor
from ledgerflow.engine.runtime.jobs import TaskJob, confined_log_path

ONE = """
with DAG("one", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("quick", work)
    PythonTask("hangs", slow, op_kwargs={"seconds": "60"})
"""


def _job(dags, task_id: str) -> TaskJob:
    path = dags.folder / "one.py"
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    return TaskJob(
        run_uuid=str(uuid.uuid4()), dag_id="one", task_id=task_id, run_id="backfill__x", run_type="backfill",
        try_number=1, logical_date=moment, data_interval_start=moment, data_interval_end=moment, conf={},
        fileloc=str(path), dag_folder=str(dags.folder), planned_fingerprint=fingerprint_of(path),
        check_fingerprint=True, log_path=str(confined_log_path("one", "backfill__x", task_id, 1)),
    )


def test_a_try_that_ended_before_its_executor_shut_down_is_reported_not_stopped(tmp_path):
    dags = make_dags(tmp_path, one=ONE)
    executor = LocalExecutor(2)
    quick, hangs = _job(dags, "quick"), _job(dags, "hangs")
    executor.submit(quick)
    executor.submit(hangs)
    wait_for(dags.lines, what="the quick try to run")
    time.sleep(0.5)  # its worker has reported by now; nobody has polled it yet
    started = time.monotonic()
    stopped = executor.shutdown()
    assert time.monotonic() - started < 3, "a stopped try was not interrupted"
    assert stopped == [hangs.key]
    [ended] = executor.poll(0)
    assert (ended.key, ended.state) == (quick.key, "success")
    assert dags.lines() == ["quick 2024-01-01"]
