"""A value the store could not keep or fold is refused before anything is written, so no
accepted command can leave the installation unreadable (the views rebuild, reads work)."""

from __future__ import annotations

import textwrap

import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli, event_count, query
from refusals import assert_refused


def assert_store_readable(dag_id: str = "daily") -> None:
    """What a brick breaks first: the rebuild of the views and any read."""
    assert cli("projections", "rebuild", "-y").exit_code == 0
    assert cli("dags", "list-runs", dag_id, "-o", "json").exit_code == 0
    assert cli("audit", "log", "-o", "json").exit_code == 0


@pytest.fixture
def written(dags, database_url) -> int:
    assert cli("dags", "trigger", "daily", "-e", "2024-01-02").exit_code == 0
    return event_count(database_url)


DEEP = '{"a": ' + "[" * 200 + "]" * 200 + "}"


@pytest.mark.parametrize(("args", "needles"), [
    (["dags", "backfill", "daily", "-s", "2024-01-01", "--delay-on-limit", "nan", "-y"], ["--delay-on-limit", "NaN"]),
    (["dags", "backfill", "daily", "-s", "2024-01-01", "--delay-on-limit", "inf", "-y"], ["--delay-on-limit"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"x": NaN}'], ["--conf", "NaN"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"x": Infinity}'], ["--conf", "Infinity"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"x": [-Infinity]}'], ["--conf", "-Infinity"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"x": 1e400}'], ["--conf", "Infinity"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"x": "a\\u0000b"}'], ["--conf", "NUL"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"a\\u0000": 1}'], ["--conf", "NUL"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", '{"x": "\\ud800"}'], ["--conf", "surrogate"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-c", DEEP], ["--conf", "levels deep"]),
    (["dags", "backfill", "daily", "-s", "2024-01-01", "-c", '{"x": NaN}', "-y"], ["--conf", "NaN"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "--reason", "a\x00b"], ["--reason", "NUL"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "--actor", "\udcff"], ["--actor", "surrogate"]),
    (["dags", "trigger", "daily", "-e", "2024-01-03", "-r", "x\x00"], ["--run-id", "NUL"]),
    (["dags", "backfill", "daily", "-s", "2024-01-01", "-t", "extract|\udcff", "-y"], ["--task-regex"]),
    (["pools", "set", "big", "2147483648"], ["pool slots", "2147483647"]),
    (["pools", "set", "huge", "9" * 30], ["pool slots", "2147483647"]),
    (["pools", "set", "negative", "--", "-1"], ["pool slots", "-1"]),
], ids=["delay-nan", "delay-inf", "conf-nan", "conf-infinity", "conf-minus-infinity", "conf-overflowing-float",
        "conf-nul", "conf-nul-key", "conf-lone-surrogate", "conf-200-deep", "backfill-conf-nan", "reason-nul",
        "actor-surrogate", "run-id-nul", "arguments-surrogate", "pool-int4-overflow", "pool-huge", "pool-negative"])
def test_an_unstorable_value_is_refused_with_one_line_and_the_store_stays_readable(
    written, database_url, args, needles
):
    assert_refused(cli(*args), database_url, written, *needles)
    assert_store_readable()


def test_the_largest_pool_the_view_holds_is_accepted(written):
    assert cli("pools", "set", "big", "2147483647").exit_code == 0
    assert_store_readable()


@pytest.mark.parametrize(("task", "needles"), [
    ('EmptyTask("a", retries=2**40)', ["retries", "1099511627776"]),
    ('EmptyTask("a", retries=-1)', ["retries", "-1"]),
    ('EmptyTask("a", retries="3")', ["retries", "integer"]),
    ('EmptyTask("a", pool_slots=0)', ["pool_slots"]),
    ('EmptyTask("a", pool_slots=2**31)', ["pool_slots"]),
    ('EmptyTask("a", retry_delay=timedelta(days=999999999))', ["retry_delay"]),
    ('EmptyTask("a", execution_timeout=float("inf"))', ["execution_timeout"]),
])
def test_a_dag_file_whose_task_arguments_the_views_cannot_hold_is_broken(dags, database_url, task, needles):
    (dags / "big.py").write_text(textwrap.dedent(f"""
        from datetime import datetime, timedelta
        from ledgerflow import DAG, EmptyTask
        with DAG("big", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
            {task}
    """))
    result = cli("dags", "backfill", "big", "-S", str(dags / "big.py"), "-s", "2024-01-01", "-y")
    assert_refused(result, database_url, 0, "broken DAG file", "task 'a'", *needles)
    assert_store_readable("daily")


@pytest.mark.parametrize("dag_args", ['max_active_runs=float("nan")', "max_active_tasks=2**31"])
def test_a_dag_whose_limits_are_not_counts_is_broken(dags, database_url, dag_args):
    (dags / "big.py").write_text(f"from ledgerflow import DAG\nDAG('big', schedule='@daily', {dag_args})\n")
    result = cli("dags", "backfill", "big", "-S", str(dags / "big.py"), "-s", "2024-01-01", "-y")
    assert_refused(result, database_url, 0, "broken DAG file", dag_args.split("=")[0])


def test_a_try_whose_error_holds_a_nul_is_recorded_escaped(dags, database_url, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
    (dags / "nul.py").write_text(textwrap.dedent("""
        from datetime import datetime
        from ledgerflow import DAG, PythonTask
        def fail():
            raise ValueError("bad\\x00byte \\udcff")
        with DAG("nul", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
            PythonTask("fails", fail)
    """))
    result = cli("dags", "backfill", "nul", "-s", "2024-01-01", "-y")
    assert result.exit_code == 1, result.output  # the task failed, and says so
    assert_store_readable("nul")
    (found,) = query(database_url, "SELECT details FROM audit_entry WHERE task_id = 'fails' AND to_state = 'failed'")
    assert found["details"]["error"] == "ValueError: bad\\x00byte \\udcff"
