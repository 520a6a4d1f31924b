"""max_active_tis_per_dag bounds one task's tries across runs; an Airflow 3 file's max_active_tasks
counts the tries of each run, an Airflow 2 file's those of the whole DAG."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, write_dag
from recorded import ti_changes

pytestmark = pytest.mark.usefixtures("database_url")


def _spans(database_url: str) -> list[tuple[str, str, float, float]]:
    """(task_id, day, start, end) of every try, in seconds."""
    started: dict[tuple[str, str], float] = {}
    spans = []
    for c in ti_changes(database_url):
        key = (c["task_id"], c["ds"])
        if c["to"] == "running":
            started[key] = c["at"].timestamp()
        elif key in started and c["to"] in ("success", "failed"):
            spans.append((*key, started.pop(key), c["at"].timestamp()))
    return spans


def _overlap(spans: list[tuple[str, str, float, float]]) -> bool:
    ordered = sorted(spans, key=lambda s: s[2])
    return any(b[2] < a[3] for a, b in zip(ordered, ordered[1:], strict=False))


def test_max_active_tis_per_dag_runs_one_task_a_try_at_a_time_across_runs(tmp_path, database_url):
    folder = write_dag(tmp_path, """
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("one_at_a_time", schedule="@daily", start_date=datetime(2024, 1, 1), max_active_runs=3):
    BashOperator(task_id="single", bash_command="sleep 0.6", max_active_tis_per_dag=1)
    BashOperator(task_id="free", bash_command="sleep 0.6")
""")
    assert backfill(folder, "one_at_a_time", "-s", "2024-01-01", "-e", "2024-01-03").exit_code == 0
    spans = _spans(database_url)
    assert not _overlap([s for s in spans if s[0] == "single"])
    assert _overlap([s for s in spans if s[0] == "free"])


@pytest.mark.parametrize(("importing", "across_runs"), [("from airflow.sdk import DAG", True),
                                                        ("from airflow import DAG", False)])
def test_max_active_tasks_counts_per_run_in_airflow_3_and_per_dag_in_airflow_2(tmp_path, database_url, importing,
                                                                               across_runs):
    folder = write_dag(tmp_path, f"""
from datetime import datetime
{importing}
from airflow.providers.standard.operators.bash import BashOperator

with DAG("limited", schedule="@daily", start_date=datetime(2024, 1, 1), max_active_runs=2, max_active_tasks=1):
    BashOperator(task_id="a", bash_command="sleep 0.6")
    BashOperator(task_id="b", bash_command="sleep 0.6")
""")
    assert backfill(folder, "limited", "-s", "2024-01-01", "-e", "2024-01-02").exit_code == 0
    spans = _spans(database_url)
    assert all(not _overlap([s for s in spans if s[1] == day]) for day in ("2024-01-01", "2024-01-02"))
    assert _overlap(spans) is across_runs
