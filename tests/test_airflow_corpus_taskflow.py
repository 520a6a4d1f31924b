"""TaskFlow and schedule DAG files of the corpus, backfilled unchanged: states and XComs as Airflow gives."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, dag_folder, returns, states, xcoms
from cli_runner import cli_json

pytestmark = pytest.mark.usefixtures("database_url")


def test_the_taskflow_etl_passes_values_through_xcomargs_and_multiple_outputs(tmp_path):
    folder = dag_folder(tmp_path, "taskflow_etl")
    assert backfill(folder, "tutorial_taskflow_api", "-s", "2024-01-10").exit_code == 0
    found = xcoms("tutorial_taskflow_api")
    assert found["extract", "2024-01-10", "return_value"] == {"1001": 301.27, "1002": 433.21, "1003": 502.22}
    assert found["transform", "2024-01-10", "total_order_value"] == 1236.7
    assert found["transform", "2024-01-10", "count"] == 3
    assert found["transform", "2024-01-10", "return_value"] == {"total_order_value": 1236.7, "count": 3}
    assert found["load", "2024-01-10", "return_value"] == "3 orders, 1236.70"
    from ledgerflow.engine.application.service import Ledgerflow

    assert Ledgerflow().dag_tasks("tutorial_taskflow_api", folder) == {
        "extract": ["transform"], "transform": ["load"], "load": []}


def test_taskflow_variants_suffix_ids_override_branch_and_short_circuit(tmp_path):
    folder = dag_folder(tmp_path, "taskflow_variants")
    assert backfill(folder, "taskflow_variants", "-s", "2024-01-10").exit_code == 0
    assert by_day(states("taskflow_variants")) == {
        (t, "2024-01-10"): s for t, s in {
            "number": "success", "number__1": "success", "third": "success", "add": "success", "say": "success",
            "pick": "success", "chosen": "success", "not_chosen": "skipped", "gate": "success",
            "after_gate": "skipped"}.items()}
    values = returns("taskflow_variants")
    assert (values["number", "2024-01-10"], values["number__1", "2024-01-10"], values["third", "2024-01-10"]) == (
        1, 2, 3)
    assert values["add", "2024-01-10"] == 3
    assert values["say", "2024-01-10"] == "3 {{ ds }}"  # Airflow 2's @task.bash does not render its command again
    assert values["gate", "2024-01-10"] is False


def test_an_airflow_sdk_file_gets_airflow_3_trigger_intervals_and_context(tmp_path):
    folder = dag_folder(tmp_path, "sdk_dag")
    assert backfill(folder, "sdk_dag", "-s", "2024-01-10", "-e", "2024-01-11").exit_code == 0
    values = returns("sdk_dag")
    assert values["when", "2024-01-10"] == ["2024-01-10", True, False]  # zero-length interval, no execution_date
    assert values["when", "2024-01-11"] == ["2024-01-11", True, False]
    dags = cli_json("dags", "list", "-S", str(folder), "-o", "json")
    assert dags[0]["fingerprint"].endswith("+airflow3")


def test_the_compat_mode_can_be_forced_and_is_recorded_with_the_fingerprint(tmp_path, monkeypatch):
    folder = dag_folder(tmp_path, "sdk_dag")
    monkeypatch.setenv("LEDGERFLOW_AIRFLOW_COMPAT", "2")
    assert backfill(folder, "sdk_dag", "-s", "2024-01-10").exit_code == 0
    assert returns("sdk_dag")["when", "2024-01-10"] == ["2024-01-10", False, True]  # Airflow 2 intervals and keys
    runs = cli_json("dags", "list-runs", "sdk_dag", "-o", "json")
    assert runs[0]["data_interval_end"] == "2024-01-11T00:00:00+00:00"
    assert cli_json("dags", "list", "-S", str(folder), "-o", "json")[0]["fingerprint"].endswith("+airflow2")


def test_a_pendulum_start_date_puts_a_cron_in_its_zone_across_the_dst_change(tmp_path):
    folder = dag_folder(tmp_path, "dst_pendulum")
    assert backfill(folder, "dst_pendulum", "-s", "2024-03-30", "-e", "2024-04-01").exit_code == 0
    found = {moment: v for (task, moment, key), v in _all_xcoms("dst_pendulum").items() if key == "return_value"}
    assert sorted(found.values()) == [
        "2024-03-29 2024-03-29T23:00:00+00:00 2024-03-30T23:00:00+00:00",
        "2024-03-30 2024-03-30T23:00:00+00:00 2024-03-31T22:00:00+00:00",  # 23 hours: the clocks moved
        "2024-03-31 2024-03-31T22:00:00+00:00 2024-04-01T22:00:00+00:00",
    ]


def _all_xcoms(dag_id: str) -> dict:
    from ledgerflow.engine.application.service import Ledgerflow

    out = {}
    with Ledgerflow() as service:
        for run in cli_json("dags", "list-runs", dag_id, "-o", "json"):
            for row in service.xcom_entries(dag_id, run["run_id"]):
                out[row["task_id"], run["logical_date"], row["key"]] = row["value"]
    return out


def test_a_timedelta_schedule_steps_by_its_delta_with_data_intervals(tmp_path):
    folder = dag_folder(tmp_path, "timedelta_schedule")
    assert backfill(folder, "timedelta_schedule", "-s", "2024-01-01", "-e", "2024-01-01T12:00:00").exit_code == 0
    found = {m: v for (t, m, k), v in _all_xcoms("timedelta_schedule").items() if k == "return_value"}
    assert found == {
        "2024-01-01T00:00:00+00:00": "2024-01-01T00:00:00+00:00 2024-01-01T12:00:00+00:00",
        "2024-01-01T12:00:00+00:00": "2024-01-01T12:00:00+00:00 2024-01-02T00:00:00+00:00",
    }


def test_a_relativedelta_schedule_steps_by_calendar_months(tmp_path):
    folder = dag_folder(tmp_path, "relativedelta_schedule")
    assert backfill(folder, "relativedelta_schedule", "-s", "2024-01-15", "-e", "2024-03-15").exit_code == 0
    assert returns("relativedelta_schedule") == {("month", "2024-01-15"): "2024-01-15 2024-02-15",
                                                 ("month", "2024-02-15"): "2024-02-15 2024-03-15",
                                                 ("month", "2024-03-15"): "2024-03-15 2024-04-15"}


def test_an_at_once_schedule_backfills_a_single_run_at_the_start_of_the_range(tmp_path):
    folder = dag_folder(tmp_path, "once")
    assert backfill(folder, "once", "-s", "2024-01-01", "-e", "2024-01-05").exit_code == 0
    assert returns("once") == {("only", "2024-01-01"): "2024-01-01 True"}


def test_macros_filters_and_user_defined_macros_render_as_in_airflow(tmp_path):
    folder = dag_folder(tmp_path, "macros_and_filters")
    assert backfill(folder, "macros_and_filters", "-s", "2024-01-10").exit_code == 0
    assert returns("macros_and_filters") == {
        ("ds_add", "2024-01-10"): "2024-01-09 2024-01-10",
        ("ds_format", "2024-01-10"): "10/01/2024",
        ("relativedelta", "2024-01-10"): "2024-02-10",
        ("timedelta", "2024-01-10"): "2024-01-10T23:00:00+00:00",
        ("user_defined", "2024-01-10"): "ledger QUIET",
        ("neighbours", "2024-01-10"): "2024-01-09 2024-01-11 20240109",
    }


def test_params_take_their_param_defaults_and_the_runs_conf_overrides_them(tmp_path):
    folder = dag_folder(tmp_path, "params_dag")
    assert backfill(folder, "params_dag", "-s", "2024-01-10").exit_code == 0
    assert backfill(folder, "params_dag", "-s", "2024-01-11", "-c", '{"rows": 3}').exit_code == 0
    assert backfill(folder, "params_dag", "-s", "2024-01-12", "-c", '{"rows": 0}').exit_code == 1
    values = returns("params_dag")
    assert values["show", "2024-01-10"] == "10 plain {}"
    assert values["show", "2024-01-11"] == "3 plain {rows: 3}"  # bash ate the quotes
    assert by_day(states("params_dag"))["show", "2024-01-12"] == "failed"  # below the Param's minimum


def test_a_task_group_decorator_builds_its_tasks_under_the_group_prefix(tmp_path):
    from airflow_corpus import write_dag

    folder = write_dag(tmp_path, (
        "from datetime import datetime\nfrom airflow.decorators import dag, task, task_group\n"
        "@dag(schedule='@daily', start_date=datetime(2024, 1, 1), catchup=False)\n"
        "def grouped():\n"
        "    @task\n    def one():\n        return 1\n"
        "    @task\n    def plus(x):\n        return x + 1\n"
        "    @task_group\n    def section(x):\n        plus(plus(x))\n"
        "    section(one())\n"
        "grouped()\n"))
    assert backfill(folder, "grouped", "-s", "2024-01-10").exit_code == 0
    assert returns("grouped") == {("one", "2024-01-10"): 1, ("section.plus", "2024-01-10"): 2,
                                  ("section.plus__1", "2024-01-10"): 3}
