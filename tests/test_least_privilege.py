"""Least privilege on a server from LEDGERFLOW_DATABASE_URL: `db migrate` sets up ledgerflow_app, which
appends and reads events and keeps the views but owns nothing; the commands work connected as a member
of it; `db check` warns when connected as a superuser or the events table's owner.

The role is cluster-wide and other test sessions share the server: tests never drop or alter it, and
the login roles they make are their own (a unique name), dropped with their databases.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from dagfiles import backfill, cli, make_dags

from ledgerflow.engine.infrastructure.roles import APP_ROLE, ensure_role

GUARDS_OFF = ("ALTER TABLE ledgerflow_events DISABLE TRIGGER USER",
              "ALTER TABLE ledgerflow_events DISABLE TRIGGER ledgerflow_events_no_update",
              "DROP TRIGGER ledgerflow_events_no_update ON ledgerflow_events",
              "SET session_replication_role = replica")
REWRITES = ("UPDATE ledgerflow_events SET topic = 'forged'", "DELETE FROM ledgerflow_events",
            "TRUNCATE ledgerflow_events", "DELETE FROM ledgerflow_chain", "DROP TABLE ledgerflow_events",
            "INSERT INTO ledgerflow_schema VALUES (999, 'forged')")


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(psycopg.conninfo.make_conninfo(server_url, dbname="postgres"), autocommit=True)


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database of the shared server (as the superuser of LEDGERFLOW_TEST_DATABASE_URL)."""
    name = f"lf_priv_{uuid.uuid4().hex[:10]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    with _admin(server_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def login_role(server_url: str) -> Iterator[str]:
    """A login role of this test only (dropped after the test's databases)."""
    name = f"lf_login_{uuid.uuid4().hex[:10]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN")
    yield name
    with _admin(server_url) as conn:
        for (db,) in conn.execute("SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                                  "WHERE r.rolname = %s", (name,)).fetchall():
            conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {name}")


def as_role(url: str, role: str) -> str:
    return psycopg.conninfo.make_conninfo(url, user=role)


def test_db_migrate_grants_the_app_role_appending_and_reading_but_never_the_triggers_or_history(
        fresh_database, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", fresh_database)
    assert cli("db", "migrate").exit_code == 0
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute(f"SET ROLE {APP_ROLE}")
        conn.execute("INSERT INTO ledgerflow_events (originator_id, originator_version, topic, state) "
                     "VALUES (gen_random_uuid(), 1, 'probe', '\\x7b7d')")
        assert conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone() == (1,)
        conn.execute("TRUNCATE dag_run, task_instance, pool, operation, audit_entry")  # views are rebuilt
        for sql in GUARDS_OFF + REWRITES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):  # not granted, or refused by the trigger
                conn.execute(sql)
        assert conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone() == (1,)


def test_the_commands_work_connected_as_a_member_of_the_app_role_and_db_check_does_not_warn(
        fresh_database, login_role, monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", fresh_database)
    assert cli("db", "migrate").exit_code == 0
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute(f"GRANT {APP_ROLE} TO {login_role}")
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", as_role(fresh_database, login_role))
    dags = make_dags(tmp_path, "chain")
    done = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02", "-y")
    assert done.exit_code == 0, done.output
    for args in (("tasks", "clear", "chain", "-S", str(dags.folder), "-y"), ("projections", "rebuild", "-y"),
                 ("audit", "verify"), ("dags", "list-runs", "chain", "-S", str(dags.folder))):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    checked = cli("db", "check")
    assert checked.exit_code == 0, checked.output
    assert checked.stderr == ""
    with psycopg.connect(as_role(fresh_database, login_role), autocommit=True) as conn:
        for sql in GUARDS_OFF:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


def test_db_check_as_a_superuser_warns_in_one_line_and_still_exits_0(database_url):
    checked = cli("db", "check")
    assert checked.exit_code == 0, checked.output
    (line,) = checked.stderr.splitlines()
    assert line.startswith("Warning: connected as postgres, a superuser:") and APP_ROLE in line
    assert checked.stdout.splitlines()[-1].startswith("Schema is current")


def test_db_check_as_the_owner_of_the_events_table_warns_and_migrating_as_it_grants_the_app_role(
        server_url, login_role, monkeypatch):
    name = f"lf_owned_{uuid.uuid4().hex[:10]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {login_role}")
    owner_url = psycopg.conninfo.make_conninfo(server_url, dbname=name, user=login_role)
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", owner_url)
    assert cli("db", "migrate").exit_code == 0  # no CREATEROLE: the role exists (cluster-wide), grants are its own
    checked = cli("db", "check")
    assert checked.exit_code == 0, checked.output
    (line,) = checked.stderr.splitlines()
    assert line.startswith(f"Warning: connected as {login_role}, the owner of ledgerflow_events:")
    with psycopg.connect(owner_url) as conn:
        assert conn.execute("SELECT has_table_privilege(%s, 'ledgerflow_events', 'INSERT'), "
                            "has_table_privilege(%s, 'ledgerflow_events', 'DELETE')",
                            (APP_ROLE, APP_ROLE)).fetchone() == (True, False)


def test_sessions_creating_the_same_role_at_once_all_succeed_and_it_exists_once(server_url):
    name = f"lf_race_{uuid.uuid4().hex[:10]}"
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with _admin(server_url) as conn, conn.transaction(), conn.cursor() as curs:
                barrier.wait(timeout=30)
                ensure_role(curs, name, login=False)
                ensure_role(curs, name, login=False)  # and again: idempotent
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        with _admin(server_url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (name,)).fetchone() == (1,)
    finally:
        with _admin(server_url) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {name}")
