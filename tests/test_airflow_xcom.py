"""XComs are events on the run: immutable, attributed, superseded by a clear, never deleted; JSON only,
with a size bound; pushed in one worker process and pulled in another."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, dag_folder, returns, states, write_dag, xcoms
from cli_runner import cli
from recorded import ti_changes

pytestmark = pytest.mark.usefixtures("database_url")


def test_a_clear_and_rebackfill_recomputes_the_xcoms_and_keeps_the_old_ones_in_the_audit_trail(
        tmp_path, database_url, monkeypatch):
    source = tmp_path / "input.txt"
    source.write_text("1")
    monkeypatch.setenv("RECOMPUTE_INPUT", str(source))
    folder = dag_folder(tmp_path, "taskflow_recompute")
    assert backfill(folder, "taskflow_recompute", "-s", "2024-01-10").exit_code == 0
    assert returns("taskflow_recompute") == {("extract", "2024-01-10"): {"value": 1},
                                             ("double", "2024-01-10"): 2}
    source.write_text("5")
    cleared = cli("tasks", "clear", "taskflow_recompute", "-S", str(folder), "-t", "^extract$", "-d",
                  "-s", "2024-01-10", "-e", "2024-01-10", "-y", "--reason", "input corrected")
    assert cleared.exit_code == 0, cleared.output
    assert xcoms("taskflow_recompute") == {}  # superseded by the clear
    assert backfill(folder, "taskflow_recompute", "-s", "2024-01-10").exit_code == 0
    assert returns("taskflow_recompute") == {("extract", "2024-01-10"): {"value": 5},
                                             ("double", "2024-01-10"): 10}
    recorded = [(c["task_id"], c["xcom"]["return_value"], c["actor"]) for c in ti_changes(database_url)
                if "xcom" in c]
    assert recorded == [("extract", {"value": 1}, "tester"), ("double", 2, "tester"),
                        ("extract", {"value": 5}, "tester"), ("double", 10, "tester")]


def test_a_value_that_is_not_json_fails_the_try_naming_task_key_and_type(tmp_path):
    folder = write_dag(tmp_path,
        "from datetime import datetime\nfrom airflow.decorators import dag, task\n"
        "@dag(schedule='@daily', start_date=datetime(2024, 1, 1), catchup=False)\n"
        "def not_json():\n"
        "    @task\n    def when():\n        return datetime(2024, 1, 1)\n"
        "    @task\n    def pushes(ti=None):\n        ti.xcom_push(key='s', value={1, 2})\n"
        "    when(); pushes()\n"
        "not_json()\n")
    result = backfill(folder, "not_json", "-s", "2024-01-10")
    assert result.exit_code == 1
    assert by_day(states("not_json")) == {("when", "2024-01-10"): "failed", ("pushes", "2024-01-10"): "failed"}
    assert "XCom 'return_value' of task 'when' holds a datetime, which is not JSON" in result.output
    assert "XCom 's' of task 'pushes' holds a set" in result.output
    assert xcoms("not_json") == {}


def test_a_value_over_the_size_bound_fails_the_try_and_names_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_XCOM_MAX_BYTES", "100")
    folder = write_dag(tmp_path,
        "from datetime import datetime\nfrom airflow.decorators import dag, task\n"
        "@dag(schedule='@daily', start_date=datetime(2024, 1, 1), catchup=False)\n"
        "def big():\n"
        "    @task\n    def small():\n        return 'x' * 50\n"
        "    @task\n    def large():\n        return 'x' * 200\n"
        "    small(); large()\n"
        "big()\n")
    assert backfill(folder, "big", "-s", "2024-01-10").exit_code == 1
    assert by_day(states("big")) == {("small", "2024-01-10"): "success", ("large", "2024-01-10"): "failed"}
    rows = [c for c in ti_changes(str(__import__("os").environ["LEDGERFLOW_DATABASE_URL"])) if c.get("error")]
    assert "XCom 'return_value' of task 'large' is 202 bytes of JSON, over the limit of 100" in rows[0]["error"]


def test_a_retry_supersedes_the_values_of_the_failed_try(tmp_path, monkeypatch):
    marker = tmp_path / "failed-once"
    monkeypatch.setenv("MARKER", str(marker))
    folder = write_dag(tmp_path,
        "import os\nfrom datetime import datetime, timedelta\nfrom pathlib import Path\n"
        "from airflow.decorators import dag, task\n"
        "@dag(schedule='@daily', start_date=datetime(2024, 1, 1), catchup=False,\n"
        "     default_args={'retries': 1, 'retry_delay': timedelta(0)})\n"
        "def retried():\n"
        "    @task\n    def flaky(ti=None):\n"
        "        marker = Path(os.environ['MARKER'])\n"
        "        if not marker.exists():\n"
        "            ti.xcom_push(key='first', value=1)\n"
        "            marker.touch()\n"
        "            raise RuntimeError('first try fails')\n"
        "        return ti.xcom_pull(task_ids='flaky', key='first', default='gone')\n"
        "    flaky()\n"
        "retried()\n")
    assert backfill(folder, "retried", "-s", "2024-01-10").exit_code == 0
    assert xcoms("retried") == {("flaky", "2024-01-10", "return_value"): "gone"}
