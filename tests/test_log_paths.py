"""Task logs stay under LEDGERFLOW_HOME/logs: run ids are checked where given (dag and task ids in
test_dag_api)."""

from __future__ import annotations

import psycopg
import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli


def events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]


@pytest.mark.parametrize("run_id", ["/tmp/anywhere", "../../x", "..", ".", "a/b", "a b", "tab\there",
                                    "x" * 251])
def test_a_run_id_outside_the_contract_is_refused_with_one_line_exit_2_and_nothing_written(
    dags, database_url, run_id
):
    before = events(database_url)
    result = cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", run_id)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: invalid run_id")
    assert events(database_url) == before


def test_a_run_id_of_250_letters_digits_and_the_allowed_signs_is_accepted(dags, database_url):
    run_id = ("Az09._:+-~" * 25)[:250]
    result = cli("dags", "trigger", "daily", "-e", "2024-01-02", "-r", run_id)
    assert result.exit_code == 0, result.output
    assert run_id in result.stdout
