"""The command line contract: help, version, dags list, trigger, list-runs, task states, rebuild."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from cli_contract_support import run_json
from dagfiles import cli

from ledgerflow.engine.infrastructure.settings import version

RUN_FIELDS = {"dag_id", "run_id", "logical_date", "data_interval_start", "data_interval_end",
              "run_type", "state", "conf"}
TI_FIELDS = {"dag_id", "run_id", "task_id", "logical_date", "state", "try_number", "max_tries", "hostname"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")


# help and version -----------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    [], ["db"], ["dags"], ["dags", "trigger"], ["dags", "list-runs"], ["tasks"],
    ["tasks", "states"], ["tasks", "states-for-dag-run"], ["projections"], ["pools"],
])
def test_dash_h_and_dash_dash_help_print_the_same_usage(command):
    short, long = cli(*command, "-h"), cli(*command, "--help")
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout
    assert "Usage:" in short.stdout


def test_the_root_help_lists_every_command_group():
    out = cli("--help").stdout
    for group in ("db", "dags", "tasks", "projections", "pools"):
        assert re.search(rf"^\W*{group}\b", out, re.MULTILINE), group


def test_version_prints_the_package_version_and_nothing_else():
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"ledgerflow {version()}\n"


# dags list ------------------------------------------------------------------------------------

def test_dags_list_shows_each_dag_with_schedule_task_count_file_and_fingerprint(dags):
    rows = run_json("dags", "list")
    assert [(r["dag_id"], r["schedule"], r["tasks"]) for r in rows] == [
        ("berlin", "0 9 * * *", 1), ("daily", "@daily", 2)]
    assert rows[1]["fileloc"] == str((dags / "daily.py").resolve())
    assert re.fullmatch(r"[0-9a-f]{64}", rows[1]["fingerprint"])


def test_dags_list_as_a_table_names_every_dag(dags):
    result = cli("dags", "list")
    assert result.exit_code == 0
    assert "daily" in result.stdout and "berlin" in result.stdout


# dags trigger and list-runs -------------------------------------------------------------------

def test_trigger_creates_one_queued_manual_run_with_conf_and_run_id(dags, database_url):
    result = cli("dags", "trigger", "daily", "-e", "2024-01-02", "-c", '{"a": [1, 2]}',
                 "-r", "my_run")
    assert result.exit_code == 0, result.output
    assert "my_run" in result.stdout
    assert run_json("dags", "list-runs", "daily") == [{
        "dag_id": "daily", "run_id": "my_run", "logical_date": "2024-01-02T00:00:00+00:00",
        "data_interval_start": "2024-01-01T00:00:00+00:00",
        "data_interval_end": "2024-01-02T00:00:00+00:00",
        "run_type": "manual", "state": "queued", "conf": {"a": [1, 2]},
    }]


def test_trigger_long_options_work_like_the_short_ones(dags, database_url):
    result = cli("dags", "trigger", "daily", "--exec-date", "2024-01-05T10:00:00",
                 "--conf", "{}", "--run-id", "long_form")
    assert result.exit_code == 0, result.output
    runs = run_json("dags", "list-runs", "daily")
    assert [(r["run_id"], r["logical_date"], r["conf"]) for r in runs] == [
        ("long_form", "2024-01-05T10:00:00+00:00", {})]
    assert (runs[0]["data_interval_start"], runs[0]["data_interval_end"]) == (
        "2024-01-04T00:00:00+00:00", "2024-01-05T00:00:00+00:00")


def test_trigger_without_run_id_names_the_run_manual_and_the_iso_logical_date(dags, database_url):
    assert cli("dags", "trigger", "daily", "-e", "2024-02-29").exit_code == 0
    assert [r["run_id"] for r in run_json("dags", "list-runs", "daily")] == [
        "manual__2024-02-29T00:00:00+00:00"]


def test_trigger_without_a_date_uses_now(dags, database_url):
    before = datetime.now(UTC)
    assert cli("dags", "trigger", "daily").exit_code == 0
    (only,) = run_json("dags", "list-runs", "daily")
    moment = datetime.fromisoformat(only["logical_date"])
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
    assert only["run_id"] == f"manual__{only['logical_date']}"


def test_a_naive_trigger_date_is_in_the_dags_timezone(dags, database_url):
    assert cli("dags", "trigger", "berlin", "-e", "2024-07-01T09:00").exit_code == 0
    (only,) = run_json("dags", "list-runs", "berlin")
    assert only["logical_date"] == "2024-07-01T07:00:00+00:00"
    assert only["data_interval_start"] == "2024-06-30T07:00:00+00:00"


def test_list_runs_json_has_exactly_the_contract_fields_with_utc_iso_datetimes(dags, database_url):
    cli("dags", "trigger", "berlin", "-e", "2024-01-02T09:00:00+01:00")
    cli("dags", "trigger", "daily", "-e", "2024-03-31T12:00:00-04:00")
    for dag_id in ("berlin", "daily"):
        result = cli("dags", "list-runs", dag_id, "-o", "json")
        assert result.stdout.count("\n") == 1  # one JSON array and nothing else
        (row,) = json.loads(result.stdout)
        assert set(row) == RUN_FIELDS
        for field in ("logical_date", "data_interval_start", "data_interval_end"):
            assert ISO_UTC.match(row[field]), row[field]
    assert run_json("dags", "list-runs", "daily")[0]["logical_date"] == "2024-03-31T16:00:00+00:00"


def test_list_runs_filters_by_inclusive_range_and_state(dags, database_url):
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        assert cli("dags", "trigger", "daily", "-e", day).exit_code == 0
    dates = [r["logical_date"][:10] for r in
             run_json("dags", "list-runs", "daily", "-s", "2024-01-02", "-e", "2024-01-03")]
    assert dates == ["2024-01-02", "2024-01-03"]
    assert len(run_json("dags", "list-runs", "daily", "--state", "queued")) == 3
    assert run_json("dags", "list-runs", "daily", "--state", "success") == []
    unknown = cli("dags", "list-runs", "no_such_dag", "-o", "json")  # no file, no history: refused (DESIGN.md)
    assert unknown.exit_code == 2 and "'no_such_dag' not found" in unknown.stderr


def test_list_runs_as_a_table_shows_the_run(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "tabled")
    result = cli("dags", "list-runs", "daily")
    assert result.exit_code == 0 and "tabled" in result.stdout and "queued" in result.stdout


def test_tables_print_conf_as_json_and_brackets_literally(dags, database_url):
    # a run id cannot hold brackets (DESIGN.md), a conf can: it is rich markup only if rendered as such
    triggered = cli("dags", "trigger", "daily", "-e", "2024-01-02", "-c", '{"path": "[bold]1[/tmp]"}')
    assert triggered.exit_code == 0, triggered.output
    result = cli("dags", "list-runs", "daily")
    assert result.exit_code == 0, result.output
    assert '{"path": "[bold]1[/tmp]"}' in result.stdout


# tasks states --------------------------------------------------------------------------------

def test_tasks_states_json_lists_every_task_instance_with_the_contract_fields(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "r2")
    cli("dags", "trigger", "daily", "-e", "2024-01-01", "-r", "r1")
    rows = run_json("tasks", "states", "daily")
    assert all(set(r) == TI_FIELDS for r in rows)
    assert [(r["run_id"], r["task_id"], r["state"], r["try_number"], r["max_tries"])
            for r in rows] == [
        ("r1", "extract", None, 0, 2), ("r1", "load", None, 0, 0),
        ("r2", "extract", None, 0, 2), ("r2", "load", None, 0, 0),
    ]
    assert all(ISO_UTC.match(r["logical_date"]) for r in rows)


def test_tasks_states_filters_by_task_regex_and_date_range(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "r2")
    cli("dags", "trigger", "daily", "-e", "2024-01-01", "-r", "r1")
    rows = run_json("tasks", "states", "daily", "-t", "^lo", "-s", "2024-01-02")
    assert [(r["run_id"], r["task_id"]) for r in rows] == [("r2", "load")]


def test_states_for_dag_run_lists_the_task_instances_of_that_run_only(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "r2")
    cli("dags", "trigger", "daily", "-e", "2024-01-01", "-r", "r1")
    rows = run_json("tasks", "states-for-dag-run", "daily", "r1")
    assert all(set(r) == TI_FIELDS for r in rows)
    assert [(r["run_id"], r["task_id"]) for r in rows] == [("r1", "extract"), ("r1", "load")]
    table = cli("tasks", "states-for-dag-run", "daily", "r1")
    assert table.exit_code == 0 and "extract" in table.stdout


# projections ---------------------------------------------------------------------------------

def test_projections_rebuild_gives_identical_list_runs_json(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-c", '{"x": {"y": [1, "z"]}}')
    cli("dags", "trigger", "berlin", "-e", "2024-03-31T09:00")
    before = [cli("dags", "list-runs", d, "-o", "json").stdout for d in ("daily", "berlin")]
    states_before = cli("tasks", "states", "daily", "-o", "json").stdout
    result = cli("projections", "rebuild", "-y")
    assert result.exit_code == 0, result.output
    assert [cli("dags", "list-runs", d, "-o", "json").stdout for d in ("daily", "berlin")] == before
    assert cli("tasks", "states", "daily", "-o", "json").stdout == states_before


def test_projections_status_shows_no_lag_after_a_read(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02")
    cli("dags", "list-runs", "daily")
    result = cli("projections", "status")
    assert result.exit_code == 0
    assert result.stdout.split()[-2:] == ["lag", "0"]
