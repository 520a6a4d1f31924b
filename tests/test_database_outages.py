"""A database that freezes, restarts, fills up or is slow: bounded waits, one line, resumable (issue 10.3).

The servers frozen, restarted or filled here are private ones (private_postgres.py).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import psycopg
import pytest
from cli_runner import finished, spawn, spawn_backfill
from dag_folders import make_dags
from private_postgres import PrivateServer, available
from recorded import states

RANGE = ("-s", "2024-01-01", "-e", "2024-01-20")
needs_private_server = pytest.mark.skipif(not available(), reason="no PostgreSQL binaries to run a private server")


@pytest.fixture
def private_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PrivateServer, str]]:
    """A private server and a fresh database on it; LEDGERFLOW_DATABASE_URL points at it."""
    server = PrivateServer()
    try:
        url = server.database("ledger")
        monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", url)
        yield server, url
    finally:
        server.close()


def _started(proc, dags, tries: int = 3, limit: float = 60) -> None:
    """Waits until the backfill has run `tries` tries (so it is mid-backfill, appending)."""
    deadline = time.monotonic() + limit
    while len(dags.lines()) < tries:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the backfill did not get going"
        time.sleep(0.05)


def _one_error_line(err: str) -> str:
    """The error a failed command printed: its last line, alone of its kind, no traceback."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    return errors[0]


def _resumes(dags, url: str) -> None:
    code, out, err = finished(spawn_backfill(dags, url, "sleepy", *RANGE), 120)
    assert code == 0, out + err
    assert set(states("sleepy").values()) == {"success"}
    assert len(states("sleepy")) == 60


def test_every_session_has_a_statement_an_idle_in_transaction_timeout_and_keepalives(ledger, monkeypatch):
    with ledger.cursor() as curs:
        curs.execute("SELECT current_setting('statement_timeout') AS st, "
                     "current_setting('idle_in_transaction_session_timeout') AS idle")
        row = curs.fetchone()
        params = curs.connection.info.get_parameters()
    assert (row["st"], row["idle"]) == ("30s", "1min")
    assert params["keepalives"] == "1" and int(params["keepalives_idle"]) <= 30
    assert int(params["connect_timeout"]) <= 10
    assert int(params["tcp_user_timeout"]) > 0


def test_ledgerflow_db_timeout_sets_the_statement_timeout(database_url, monkeypatch):
    from ledgerflow.engine.infrastructure.store import Ledger

    monkeypatch.setenv("LEDGERFLOW_DB_TIMEOUT", "7")
    led = Ledger(database_url)
    try:
        with led.cursor() as curs:
            curs.execute("SELECT current_setting('statement_timeout') AS st")
            assert curs.fetchone()["st"] == "7s"
    finally:
        led.close()


@pytest.mark.parametrize("raw", ["soon", "-1", "inf"])
def test_a_bad_ledgerflow_db_timeout_is_refused_with_one_line(tmp_path, database_url, raw):
    dags = make_dags(tmp_path, "sleepy")
    code, out, err = finished(spawn(dags, database_url, "pools", "list", LEDGERFLOW_DB_TIMEOUT=raw))
    assert code == 2, out + err
    assert "LEDGERFLOW_DB_TIMEOUT" in _one_error_line(err)


def test_a_statement_past_the_timeout_is_one_line_and_exit_1(tmp_path, database_url):
    """The runs' view locked elsewhere: the read waits on it, and the server ends the wait."""
    dags = make_dags(tmp_path, "sleepy")
    assert finished(spawn(dags, database_url, "pools", "list"))[0] == 0  # migrated before the lock
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE dag_run IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        code, out, err = finished(spawn(dags, database_url, "tasks", "states", "sleepy",
                                        LEDGERFLOW_DB_TIMEOUT="1"), 30)
        holder.rollback()
    assert code == 1, out + err
    assert "longer than LEDGERFLOW_DB_TIMEOUT (1 s)" in _one_error_line(err)
    assert time.monotonic() - started < 15


def _backfill_on_frozen_server(server: PrivateServer, dags, url: str, signal_after: float | None = None,
                               **env: str) -> tuple[int, str, float]:
    """(exit code, stderr, seconds from the freeze to the end) of a backfill whose server froze
    mid-backfill; `signal_after` seconds into the freeze, it gets a SIGTERM."""
    proc = spawn_backfill(dags, url, "sleepy", *RANGE, LEDGERFLOW_PARALLELISM="3", **env)
    _started(proc, dags)
    server.freeze()
    frozen = time.monotonic()
    try:
        if signal_after is not None:
            time.sleep(signal_after)  # the backfill is now waiting on the server
            proc.send_signal(signal.SIGTERM)
        code, out, err = finished(proc, 60)
    finally:
        server.thaw()
    return code, out + err, time.monotonic() - frozen


@needs_private_server
def test_a_backfill_on_a_frozen_server_ends_within_its_bound_with_one_line_and_resumes(tmp_path, private_url):
    server, url = private_url
    dags = make_dags(tmp_path, "sleepy")
    code, err, took = _backfill_on_frozen_server(server, dags, url, LEDGERFLOW_DB_TIMEOUT="2")
    assert took < 20, f"{took:.1f} s"  # the bound: 2 s of statement, 2 s of grace, and a clean-up
    assert code == 1, err
    line = _one_error_line(err)
    assert "did not answer" in line and "run the same command to resume" in line
    _resumes(dags, url)


@needs_private_server
def test_sigterm_ends_a_backfill_waiting_on_a_frozen_server_within_seconds(tmp_path, private_url):
    """With the default bound (30 s), the signal, not the bound, ends the wait."""
    server, url = private_url
    dags = make_dags(tmp_path, "sleepy")
    code, err, took = _backfill_on_frozen_server(server, dags, url, signal_after=1)
    assert took - 1 < 12, f"SIGTERM took {took - 1:.1f} s"
    assert code == 1, err
    assert "did not answer" in _one_error_line(err)
    _resumes(dags, url)


@needs_private_server
def test_a_server_restart_mid_backfill_is_one_line_and_the_same_command_resumes(tmp_path, private_url):
    server, url = private_url
    dags = make_dags(tmp_path, "sleepy")
    proc = spawn_backfill(dags, url, "sleepy", *RANGE, LEDGERFLOW_PARALLELISM="3")
    _started(proc, dags)
    server.restart()
    code, out, err = finished(proc, 60)
    assert code == 1, out + err
    line = _one_error_line(err)
    assert "database unavailable" in line and "run the same command to resume" in line
    _resumes(dags, url)


@needs_private_server
@pytest.mark.parametrize("stopped", [False, True], ids=["reachable", "stopped"])
def test_a_read_on_a_server_that_refuses_or_is_gone_is_one_line(tmp_path, private_url, stopped):
    server, url = private_url
    dags = make_dags(tmp_path, "sleepy")
    if stopped:
        server.stop()
    else:
        url = url.replace("postgres@", "nobody@")
    code, out, err = finished(spawn(dags, url, "tasks", "states", "sleepy"), 30)
    assert code == 1, out + err
    assert ("refused" if stopped else 'role "nobody" does not exist') in _one_error_line(err)


@needs_private_server
def test_with_one_free_connection_slot_a_backfill_fails_at_once_with_one_line_and_a_read_works(tmp_path):
    """A backfill holds its DAG's lock on one session for its whole length and appends on a
    second, so one slot cannot serve it: it says so at once instead of waiting for a slot."""
    server = PrivateServer(max_connections=6)
    try:
        url = server.database("ledger")
        dags = make_dags(tmp_path, "sleepy")
        assert finished(spawn(dags, url, "db", "migrate"))[0] == 0
        others = [psycopg.connect(server.url) for _ in range(5)]
        try:
            started = time.monotonic()
            code, out, err = finished(spawn_backfill(dags, url, "sleepy", *RANGE), 60)
            took = time.monotonic() - started
            assert code == 1, out + err
            assert "too many clients" in _one_error_line(err)
            assert took < 15, f"{took:.1f} s"
            code, out, err = finished(spawn(dags, url, "tasks", "states", "sleepy"), 60)
            assert code == 0, out + err
        finally:
            for conn in others:
                conn.close()
    finally:
        server.close()
