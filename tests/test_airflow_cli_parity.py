"""Airflow 2's CLI flags kept: dags backfill --disable-retry and --treat-dag-id-as-regex, tasks clear -v,
tasks list [--tree], tasks logs [--try N]."""

from __future__ import annotations

import json

import pytest
from airflow_corpus import backfill, by_day, dag_folder, states, write_dag
from cli_runner import cli

pytestmark = pytest.mark.usefixtures("database_url")

RETRIED = ("from datetime import datetime, timedelta\nfrom airflow import DAG\n"
           "from airflow.operators.bash import BashOperator\n"
           "with DAG({dag_id!r}, schedule='@daily', start_date=datetime(2024, 1, 1),\n"
           "         default_args={{'retries': 2, 'retry_delay': timedelta(0)}}):\n"
           "    BashOperator(task_id='flaky', bash_command='echo try $AIRFLOW_CTX_TRY_NUMBER; exit 1')\n")


def _logs(*args: str):
    from typer.testing import CliRunner

    from ledgerflow.cli.main import app

    return CliRunner().invoke(app, ["tasks", "logs", *args])


def _tries(dag_id: str) -> dict[str, int]:
    rows = json.loads(cli("tasks", "states", dag_id, "-o", "json").stdout)
    return {r["task_id"]: r["try_number"] for r in rows}


def test_disable_retry_fails_a_task_instance_at_its_first_failed_try(tmp_path):
    folder = write_dag(tmp_path, RETRIED.format(dag_id="retried") + RETRIED.format(dag_id="no_retry").split(
        "BashOperator\n", 1)[1])
    assert backfill(folder, "retried", "-s", "2024-01-10").exit_code == 1
    assert _tries("retried") == {"flaky": 3}
    assert backfill(folder, "no_retry", "-s", "2024-01-10", "--disable-retry").exit_code == 1
    assert _tries("no_retry") == {"flaky": 1}
    assert by_day(states("no_retry")) == {("flaky", "2024-01-10"): "failed"}


def test_treat_dag_id_as_regex_backfills_every_matching_dag(tmp_path):
    folder = dag_folder(tmp_path, "several_dags")
    result = backfill(folder, "^(first|second)_of_two$", "-s", "2024-01-10", "--treat-dag-id-as-regex")
    assert result.exit_code == 0, result.output
    assert "Backfilling DAG first_of_two" in result.stdout and "Backfilling DAG second_of_two" in result.stdout
    assert by_day(states("first_of_two")) == {("a", "2024-01-10"): "success"}
    assert by_day(states("second_of_two")) == {("b", "2024-01-10"): "success"}
    assert cli("dags", "list-runs", "generated_alpha", "-S", str(folder), "-o", "json").stdout.strip() == "[]"


def test_treat_dag_id_as_regex_that_matches_nothing_is_refused(tmp_path):
    folder = dag_folder(tmp_path, "several_dags")
    result = backfill(folder, "^nothing$", "-s", "2024-01-10", "--treat-dag-id-as-regex")
    assert result.exit_code == 2
    assert "dag_id could not be found with regex" in result.stderr


def test_clear_verbose_lists_what_it_clears_even_without_a_prompt(tmp_path):
    folder = dag_folder(tmp_path, "chain_cross")
    assert backfill(folder, "chain_cross", "-s", "2024-01-10").exit_code == 0
    quiet = cli("tasks", "clear", "chain_cross", "-S", str(folder), "-t", "^y1$", "-y")
    assert "<TaskInstance: chain_cross.y1" not in quiet.stdout
    loud = cli("tasks", "clear", "chain_cross", "-S", str(folder), "-t", "^y2$", "-y", "-v")
    assert loud.exit_code == 0, loud.output
    assert "<TaskInstance: chain_cross.y2 backfill__2024-01-10T00:00:00+00:00 [success]>" in loud.stdout


def test_tasks_list_prints_task_ids_and_with_tree_the_dependencies(tmp_path):
    folder = dag_folder(tmp_path, "taskflow_etl")
    flat = cli("tasks", "list", "tutorial_taskflow_api", "-S", str(folder))
    assert flat.stdout.splitlines() == ["extract", "load", "transform"]
    tree = cli("tasks", "list", "tutorial_taskflow_api", "-S", str(folder), "--tree")
    assert tree.stdout.splitlines() == ["<Task(extract)>", "    <Task(transform)>", "        <Task(load)>"]


def test_tasks_logs_prints_each_try_and_refuses_a_try_that_does_not_exist(tmp_path):
    folder = write_dag(tmp_path, RETRIED.format(dag_id="retried"))
    backfill(folder, "retried", "-s", "2024-01-10")
    run = "backfill__2024-01-10T00:00:00+00:00"
    latest = _logs("retried", run, "flaky")  # a failed try's log holds its traceback: not the CLI's own
    assert latest.exit_code == 0 and latest.stdout.startswith("try 3\n"), latest.output
    assert "AirflowException: Bash command failed" in latest.stdout
    assert _logs("retried", run, "flaky", "--try", "1").stdout.startswith("try 1\n")
    missing = cli("tasks", "logs", "retried", run, "flaky", "--try", "4")
    assert missing.exit_code == 2
    assert "has no try 4: its tries are 1 to 3" in missing.stderr
    assert cli("tasks", "logs", "retried", run, "nope").exit_code == 2
    assert cli("tasks", "logs", "retried", "no_such_run", "flaky").exit_code == 2
