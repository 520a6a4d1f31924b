"""A value the store could not keep or fold is refused before anything is written, so no
accepted command can leave the installation unreadable (the views rebuild, reads work)."""

from __future__ import annotations

import psycopg
import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli


def events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]


def assert_refused(result, database_url: str, before: int, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    for needle in needles:
        assert needle in line, line
    assert events(database_url) == before


def assert_store_readable(dag_id: str = "daily") -> None:
    """What a brick breaks first: the rebuild of the views and any read."""
    assert cli("projections", "rebuild", "-y").exit_code == 0
    assert cli("dags", "list-runs", dag_id, "-o", "json").exit_code == 0
    assert cli("audit", "log", "-o", "json").exit_code == 0


@pytest.fixture
def written(dags, database_url) -> int:
    assert cli("dags", "trigger", "daily", "-e", "2024-01-02").exit_code == 0
    return events(database_url)


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
