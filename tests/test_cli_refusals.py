"""The command line contract for errors: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli, event_count
from refusals import assert_refused

# errors: one line on stderr, exit 2, nothing written -----------------------------------------

@pytest.fixture
def one_run(dags, database_url) -> int:
    assert cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", "existing").exit_code == 0
    return event_count(database_url)


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
