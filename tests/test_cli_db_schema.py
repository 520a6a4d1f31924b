"""The command line contract for the schema: db migrate, db check, and the first command migrating."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from cli_contract_support import run_json
from dagfiles import cli

from ledgerflow.engine.infrastructure.migrations import latest_version, migrations

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
