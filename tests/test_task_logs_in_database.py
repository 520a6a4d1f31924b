"""Each try's log is kept in PostgreSQL with the SHA-256 of its finishing event, whatever the executor:
`tasks logs` reads it there, so it needs no file on this machine; the task instance names its host."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import zlib

import psycopg
import pytest
from airflow_corpus import backfill, write_dag
from cli_runner import cli

RUN = "backfill__2024-01-10T00:00:00+00:00"
DAG = ("from datetime import datetime\nfrom airflow import DAG\n"
       "from airflow.operators.bash import BashOperator\n"
       "with DAG('talk', schedule='@daily', start_date=datetime(2024, 1, 1)):\n"
       "    BashOperator(task_id='say', bash_command='echo said on try $AIRFLOW_CTX_TRY_NUMBER')\n")


@pytest.mark.parametrize("executor", ["local", "sequential"])
def test_a_log_is_read_from_the_database_after_its_file_is_gone(tmp_path, monkeypatch, database_url, executor):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", executor)
    folder = write_dag(tmp_path, DAG)
    assert backfill(folder, "talk", "-s", "2024-01-10").exit_code == 0
    logs = tmp_path / "home" / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    shown = cli("tasks", "logs", "talk", RUN, "say")
    assert shown.exit_code == 0, shown.output
    assert "said on try 1" in shown.stdout
    with psycopg.connect(database_url) as conn:
        sha, host = conn.execute("SELECT sha256, hostname FROM task_log WHERE task_id = 'say'").fetchone()
        recorded = conn.execute("SELECT state FROM ledgerflow_events WHERE convert_from(state, 'UTF8') LIKE %s",
                                (f"%{sha}%",)).fetchall()
    assert host == socket.gethostname()
    assert len(recorded) == 1  # the finishing event names the stored log's digest
    assert hashlib.sha256(shown.stdout.encode()).hexdigest() == sha  # the text as the try wrote it


def test_the_task_instance_json_names_the_host_of_its_latest_try(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("LEDGERFLOW_HOSTNAME", "box-7")
    folder = write_dag(tmp_path, DAG)
    rows = json.loads(cli("tasks", "states", "talk", "-o", "json").stdout or "[]")
    assert rows == []
    assert backfill(folder, "talk", "-s", "2024-01-10").exit_code == 0
    rows = json.loads(cli("tasks", "states", "talk", "-o", "json").stdout)
    assert [r["hostname"] for r in rows] == ["box-7"]
    operation = json.loads(cli("audit", "log", "--dag-id", "talk", "-o", "json").stdout)[-1]["operation_id"]
    shown = cli("audit", "show", operation)
    ended = [line for line in shown.stdout.splitlines() if "running -> success" in line and " say " in line]
    assert len(ended) == 1 and "box-7" in ended[0], shown.stdout


def test_a_clear_leaves_no_host_and_the_views_still_match_the_events(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("LEDGERFLOW_HOSTNAME", "box-7")
    folder = write_dag(tmp_path, DAG)
    assert backfill(folder, "talk", "-s", "2024-01-10").exit_code == 0
    assert cli("tasks", "clear", "talk", "-S", str(folder), "-y").exit_code == 0
    rows = json.loads(cli("tasks", "states", "talk", "-o", "json").stdout)
    assert [(r["state"], r["hostname"]) for r in rows] == [(None, None)]  # the cleared try no longer is its latest
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_audit_verify_finds_a_stored_log_edited_after_its_try_ended(tmp_path, database_url):
    folder = write_dag(tmp_path, DAG)
    assert backfill(folder, "talk", "-s", "2024-01-10").exit_code == 0
    assert cli("audit", "verify").exit_code == 0
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE task_log SET content = %s", (zlib.compress(b"said nothing\n"),))
    found = cli("audit", "verify")
    assert found.exit_code != 0
    assert "task_log dag talk run backfill__2024-01-10T00:00:00+00:00 task say try 1" in found.output
