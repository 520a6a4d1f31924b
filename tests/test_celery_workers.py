"""The Celery executor with real worker processes on a real RabbitMQ: tries spread over workers that
record where they ran, logs readable from any machine, a duplicate delivery never runs a try twice."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from cli_runner import cli, finished, wait_for

RUN = "backfill__2024-01-0{}T00:00:00+00:00"


def _states(dag_id: str) -> list[dict]:
    return json.loads(cli("tasks", "states", dag_id, "-o", "json").stdout)


def test_a_backfill_spreads_over_two_workers_and_each_try_names_its_worker(cluster):
    cluster.write(tasks=3, pause=0.2)
    cluster.worker("alpha", "-c", "2")
    cluster.worker("beta", "-c", "2")
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-01", "-e", "2024-01-04"), 120)
    assert code == 0, out + err
    rows = _states("spread")
    assert len(rows) == 12 and {r["state"] for r in rows} == {"success"}
    assert {r["hostname"] for r in rows} == {"alpha", "beta"}
    done = cluster.lines("done.log")
    assert len(done) == 12 and len({(t, ds) for t, ds, _ in done}) == 12  # no try ran twice
    assert {(t, ds, host) for t, ds, host in done} == {(r["task_id"], r["logical_date"][:10], r["hostname"])
                                                       for r in rows}


def test_tasks_logs_shows_a_workers_output_on_a_machine_that_never_had_the_file(cluster):
    cluster.write(tasks=1)
    cluster.worker("faraway")
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-01"), 60)
    assert code == 0, out + err
    assert not (cluster.root / "home" / "logs").exists()  # the driver's home: the log is only the worker's
    shown = cli("tasks", "logs", "spread", RUN.format(1), "t0")
    assert shown.exit_code == 0, shown.output
    assert "ran t0 2024-01-01 on faraway" in shown.stdout


def test_concurrency_bounds_the_tries_one_worker_runs_at_once(cluster):
    cluster.write(tasks=5)
    (cluster.state / "hold").touch()
    cluster.worker("solo", "-c", "3")
    proc = cluster.backfill("spread", "-s", "2024-01-01")
    wait_for(lambda: len(cluster.lines("started.log")) >= 3, 60, "three tries running")
    time.sleep(1.0)  # a fourth would have started by now
    started = cluster.lines("started.log")
    assert len(started) == 3 and len({pid for *_, pid, _ in started}) == 3
    (cluster.state / "hold").unlink()
    code, out, err = finished(proc, 60)
    assert code == 0, out + err
    assert len(cluster.lines("done.log")) == 5


def test_a_second_delivery_of_a_try_that_already_ran_runs_nothing(cluster, database_url):
    from ledgerflow.engine.infrastructure.celery_app import Publisher

    cluster.write(tasks=1)
    cluster.worker("once")
    assert finished(cluster.backfill("spread", "-s", "2024-01-01"), 60)[0] == 0
    with psycopg.connect(database_url) as conn:
        queue, job = conn.execute("SELECT queue, job FROM try_dispatch").fetchone()
    import uuid

    publisher, again = Publisher(), str(uuid.uuid4())
    assert publisher.send([(again, queue, job, None)])  # the broker delivers it again
    assert publisher.settle(wait=10) == ([again], [])
    publisher.close()
    time.sleep(2.0)
    assert len(cluster.lines("started.log")) == 1
    assert [r["try_number"] for r in _states("spread")] == [1]


@pytest.mark.parametrize("args, said", [(("-c", "0"), "concurrency must be at least 1"),
                                        (("-q", " , "), "invalid queue list"),
                                        (("-H", "a b"), "invalid hostname")])
def test_a_worker_with_bad_options_is_refused_in_one_line(database_url, args, said):
    result = cli("celery", "worker", *args)
    assert result.exit_code == 2
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_bad_heartbeat_timeout_is_refused_before_a_worker_starts(database_url, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT", "soon")
    result = cli("celery", "worker")
    said = "LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT must be a positive number of seconds"
    assert result.exit_code == 2
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_clear_stops_the_try_a_worker_runs_and_the_backfill_runs_it_again(cluster):
    cluster.write(tasks=1)
    (cluster.state / "hold").touch()
    cluster.worker("busy")
    proc = cluster.backfill("spread", "-s", "2024-01-01")
    wait_for(lambda: cluster.lines("started.log"), 60, "try 1 running")
    cleared = cli("tasks", "clear", "spread", "-s", "2024-01-01", "-e", "2024-01-01", "-y")
    assert cleared.exit_code == 0, cleared.output
    wait_for(lambda: len(cluster.lines("started.log")) == 2, 60, "try 2 running")
    (cluster.state / "hold").unlink()
    code, out, err = finished(proc, 60)
    assert code == 0, out + err
    assert [line[4] for line in cluster.lines("started.log")] == ["1", "2"]
    assert len(cluster.lines("done.log")) == 1  # try 1 was stopped on its worker before it ended
    assert [(r["state"], r["try_number"]) for r in _states("spread")] == [("success", 2)]


def test_a_clear_of_a_try_no_worker_took_yet_stops_it_before_any_worker_can(cluster):
    cluster.write(tasks=1)
    proc = cluster.backfill("spread", "-s", "2024-01-01")
    wait_for(lambda: [(r["state"], r["try_number"]) for r in _states("spread")] == [("queued", 1)], 60,
             "try 1 queued")
    cleared = cli("tasks", "clear", "spread", "-s", "2024-01-01", "-e", "2024-01-01", "-y")
    assert cleared.exit_code == 0, cleared.output
    wait_for(lambda: [(r["state"], r["try_number"]) for r in _states("spread")] == [("queued", 2)], 60,
             "try 2 queued in its place")
    cluster.worker("later")  # both tries' messages reach it: try 1's runs nothing
    code, out, err = finished(proc, 60)
    assert code == 0, out + err
    assert [line[4] for line in cluster.lines("started.log")] == ["2"]
    history = json.loads(cli("audit", "log", "--dag-id", "spread", "--task-id", "t0", "-o", "json").stdout)
    assert [e["to_state"] for e in history if e["to_state"]] == [
        "queued", "restarting", "up_for_retry", "queued", "running", "success"]


def test_a_worker_whose_database_sessions_were_dropped_opens_them_again(cluster, database_url):
    cluster.write(tasks=1)
    cluster.worker("sturdy", "-c", "1")  # one process: its session is the one dropped
    assert finished(cluster.backfill("spread", "-s", "2024-01-01"), 60)[0] == 0
    with psycopg.connect(database_url, autocommit=True) as conn:  # as a database restart does
        dropped = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
    assert dropped[0] >= 1
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-02"), 60)
    assert code == 0, out + err
    assert [line[:3] for line in cluster.lines("done.log")] == [["t0", "2024-01-01", "sturdy"],
                                                                ["t0", "2024-01-02", "sturdy"]]
