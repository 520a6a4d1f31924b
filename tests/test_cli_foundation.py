"""The command line contract: help, version, dags, runs, task states, rebuild, errors."""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from dagfiles import cli, cli_json

from ledgerflow.engine.domain.operation import version
from ledgerflow.engine.infrastructure.migrations import latest_version, migrations

RUN_FIELDS = {"dag_id", "run_id", "logical_date", "data_interval_start", "data_interval_end",
              "run_type", "state", "conf"}
TI_FIELDS = {"dag_id", "run_id", "task_id", "logical_date", "state", "try_number", "max_tries"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")

DAILY = """
from datetime import datetime, timedelta
from ledgerflow import DAG, EmptyTask, BashTask
with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"retries": 2}) as dag:
    EmptyTask("extract") >> BashTask("load", bash_command="echo {{ ds }}", retries=0)
"""
BERLIN = """
from ledgerflow import DAG, EmptyTask
with DAG("berlin", schedule="0 9 * * *", timezone="Europe/Berlin") as dag:
    EmptyTask("only")
"""


def run_json(*args: str):
    return cli_json(*args, "-o", "json")


@pytest.fixture
def dags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "daily.py").write_text(textwrap.dedent(DAILY))
    (folder / "berlin.py").write_text(textwrap.dedent(BERLIN))
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(folder))
    return folder


def events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]


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
    assert run_json("dags", "list-runs", "no_such_dag") == []


def test_list_runs_as_a_table_shows_the_run(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "tabled")
    result = cli("dags", "list-runs", "daily")
    assert result.exit_code == 0 and "tabled" in result.stdout and "queued" in result.stdout


def test_tables_print_conf_as_json_and_brackets_literally(dags, database_url):
    cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "run[bold]1",
        "-c", '{"path": ["[/tmp]"]}')
    result = cli("dags", "list-runs", "daily")
    assert result.exit_code == 0, result.output
    assert "run[bold]1" in result.stdout
    assert '{"path": ["[/tmp]"]}' in result.stdout


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


# errors: one line on stderr, exit 2, nothing written -----------------------------------------

def assert_refused(result, database_url: str, written_before: int, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert events(database_url) == written_before


@pytest.fixture
def one_run(dags, database_url) -> int:
    assert cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "existing").exit_code == 0
    return events(database_url)


@pytest.mark.parametrize(("args", "needles"), [
    (["dags", "trigger", "nope"], ["'nope' not found"]),
    (["dags", "trigger", "daily", "-e", "2024-13-01"], ["invalid -e '2024-13-01'"]),
    (["dags", "trigger", "daily", "-e", "tomorrow"], ["invalid -e 'tomorrow'"]),
    (["dags", "trigger", "daily", "-c", "{bad json"], ["invalid JSON in --conf"]),
    (["dags", "trigger", "daily", "-c", "[1, 2]"], ["must be a JSON object", "list"]),
    (["dags", "trigger", "daily", "-c", '"text"'], ["must be a JSON object", "str"]),
    (["dags", "trigger", "daily", "-c", "null"], ["must be a JSON object"]),
    (["dags", "trigger", "daily", "-e", "2024-01-02"], ["already has a run"]),
    (["dags", "trigger", "daily", "-e", "2024-01-05", "-r", "existing"], ["'existing'"]),
    (["dags", "trigger", "daily", "-e", "2999-01-01"], ["in the future"]),
    (["dags", "trigger", "daily", "-e", "2024-01-05", "-r", "backfill__2024-01-03T00:00:00+00:00"],
     ["reserved for backfill runs"]),
    (["dags", "trigger", "daily", "-e", "2024-01-05", "-r", "scheduled__2024-01-05T00:00:00+00:00"],
     ["reserved for scheduled runs"]),
    (["dags", "list-runs", "daily", "-s", "2024/01/01"], ["invalid -s '2024/01/01'"]),
    (["dags", "list-runs", "daily", "--state", "done"], ["unknown run state 'done'"]),
    (["tasks", "states", "daily", "-e", "01-02-2024"], ["invalid -e '01-02-2024'"]),
    (["tasks", "states", "daily", "-t", "(unclosed"], ["invalid --task-regex"]),
    (["tasks", "states-for-dag-run", "daily", "no_such_run"], ["'no_such_run'"]),
    (["tasks", "states-for-dag-run", "other", "existing"], ["'other'"]),
])
def test_invalid_input_is_refused_with_one_line_exit_2_and_nothing_written(
    one_run, database_url, args, needles
):
    assert_refused(cli(*args), database_url, one_run, *needles)


def test_a_broken_dag_file_refuses_the_trigger_naming_the_file_and_error(
    dags, one_run, database_url
):
    broken = dags / "daily.py"
    broken.write_text("from ledgerflow import DAG\nraise ImportError('missing dependency')\n")
    result = cli("dags", "trigger", "daily", "-e", "2024-01-05")
    assert_refused(result, database_url, one_run, str(broken), "ImportError: missing dependency")


def test_a_dag_file_with_a_cycle_refuses_the_trigger(dags, one_run, database_url):
    (dags / "daily.py").write_text(textwrap.dedent("""
        from ledgerflow import DAG, EmptyTask
        with DAG("daily", schedule="@daily") as dag:
            a, b = EmptyTask("a"), EmptyTask("b")
            a >> b >> a
    """))
    assert_refused(cli("dags", "trigger", "daily", "-e", "2024-01-05"), database_url, one_run,
                   "cycle")


def test_a_missing_dag_folder_is_refused(one_run, database_url, tmp_path):
    result = cli("dags", "trigger", "daily", "-S", str(tmp_path / "nowhere"))
    assert_refused(result, database_url, one_run, "does not exist")


def test_unknown_options_are_usage_errors_not_tracebacks(dags):
    result = cli("dags", "trigger", "daily", "--no-such-flag")
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "No such option" in result.stderr


def test_a_refused_trigger_is_not_recorded_as_an_operation(one_run, database_url):
    cli("dags", "trigger", "daily", "-c", "[]")
    with psycopg.connect(database_url) as conn:
        topics = [t for (t,) in conn.execute("SELECT topic FROM ledgerflow_events")]
    assert sum(t.endswith("Operation.Started") for t in topics) == 1


def test_an_unreachable_database_is_one_line_on_stderr_at_once_not_a_traceback(
    database_url, monkeypatch
):
    missing = psycopg.conninfo.make_conninfo(database_url, dbname="missing_database")
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", missing)
    started = datetime.now(UTC)
    result = cli("dags", "list-runs", "daily", "-o", "json")
    assert datetime.now(UTC) - started < timedelta(seconds=10)
    assert result.exit_code == 1
    assert result.stdout == "" and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: cannot connect to LEDGERFLOW_DATABASE_URL:")
    assert "does not exist" in line


# db migrate and db check ---------------------------------------------------------------------

@pytest.fixture
def empty_database_url(server_url, monkeypatch):
    name = f"lf_empty_{uuid.uuid4().hex[:10]}"
    admin = psycopg.conninfo.make_conninfo(server_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def schema_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT version, name, applied_at FROM ledgerflow_schema "
                            "ORDER BY version").fetchall()


def test_db_check_on_an_empty_database_says_to_migrate_and_exits_1(empty_database_url):
    result = cli("db", "check")
    assert result.exit_code == 1
    assert result.stdout.startswith("Server: PostgreSQL ")
    assert f"Schema version 0, latest {latest_version()}" in result.stdout
    assert "ledgerflow db migrate" in result.stdout


def test_db_migrate_applies_every_migration_once_and_a_second_run_changes_nothing(
    empty_database_url
):
    first = cli("db", "migrate")
    assert first.exit_code == 0, first.output
    names = [f"{v:03d}_{n}" for v, n, _ in migrations()]
    assert first.stdout == f"Applied: {', '.join(names)}\n"
    applied = schema_rows(empty_database_url)
    assert [(v, n) for v, n, _ in applied] == [(v, n) for v, n, _ in migrations()]
    guards = event_triggers(empty_database_url)
    assert {"ledgerflow_events_no_update", "ledgerflow_events_no_truncate"} <= set(guards)
    second = cli("db", "migrate")
    assert second.exit_code == 0
    assert second.stdout == "Database is up to date.\n"
    assert schema_rows(empty_database_url) == applied
    assert event_triggers(empty_database_url) == guards


def event_triggers(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return sorted(name for (name,) in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'ledgerflow_events'::regclass "
            "AND NOT tgisinternal"))


def test_db_check_lists_each_applied_migration_and_says_the_schema_is_current(
    empty_database_url
):
    cli("db", "migrate")
    result = cli("db", "check")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Server: PostgreSQL ")
    for number, name, _ in migrations():
        assert any(line.startswith(f"Migration {number:03d}_{name} applied at ")
                   for line in lines), name
    assert lines[-1] == f"Schema is current (version {latest_version()})."


def test_the_first_command_on_an_empty_database_migrates_it(empty_database_url, dags):
    assert cli("dags", "trigger", "daily", "-e", "2024-01-02").exit_code == 0
    assert [v for v, _, _ in schema_rows(empty_database_url)] == [v for v, _, _ in migrations()]
    assert len(run_json("dags", "list-runs", "daily")) == 1
