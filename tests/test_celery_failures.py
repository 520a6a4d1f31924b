"""The Celery executor when things go wrong, with real workers on a real RabbitMQ: a worker killed mid-try,
no worker for a queue, a worker with another DAG file, the broker away at publish time, SIGTERM, timeouts."""

from __future__ import annotations

import json
import os
import signal
import time

import psycopg
from broker_proxy import BrokerProxy
from cli_runner import cli, finished, wait_for

FAST = {"LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT": "2"}


def _states(dag_id: str) -> dict[str, dict]:
    return {r["task_id"]: r for r in json.loads(cli("tasks", "states", dag_id, "-o", "json").stdout)}


def _where(ti: dict) -> tuple[str, str | None]:
    return ti["state"], ti["hostname"]


def _started(cluster, host: str) -> list[list[str]]:
    return [line for line in cluster.lines("started.log") if line[2] == host]


def test_a_worker_killed_mid_try_is_found_dead_and_its_try_retried_on_another(cluster):
    cluster.write(tasks=2, retries=1)
    (cluster.state / "hold__t0").touch()
    doomed = cluster.worker("doomed", "-c", "2", **FAST)
    proc = cluster.backfill("spread", "-s", "2024-01-01", **FAST)
    wait_for(lambda: [x for x in _started(cluster, "doomed") if x[0] == "t0"], 60, "t0 running on doomed")
    wait_for(lambda: _where(_states("spread")["t0"]) == ("running", "doomed"), 30, "t0 recorded running on doomed")
    with psycopg.connect(cluster.database_url, autocommit=True) as conn:  # t1 ended there and was recorded
        wait_for(lambda: conn.execute("SELECT count(*) FROM try_claim WHERE task_id = 't1' AND result IS NOT NULL")
                 .fetchone() == (1,), 60, "t1 recorded")
    cluster.stop(doomed, signal.SIGKILL)
    wait_for(lambda: cluster.consumers() == 0, 30, "the broker to see the worker gone")
    cluster.worker("rescuer", **FAST)
    (cluster.state / "hold__t0").unlink()
    code, out, err = finished(proc, 90)
    assert code == 0, out + err
    t0 = _states("spread")["t0"]
    assert (t0["state"], t0["try_number"], t0["hostname"]) == ("success", 2, "rescuer")
    done = [(t, ds) for t, ds, _ in cluster.lines("done.log")]
    assert sorted(done) == [("t0", "2024-01-01"), ("t1", "2024-01-01")]  # none completed twice
    history = json.loads(cli("audit", "log", "--dag-id", "spread", "--task-id", "t0", "-o", "json").stdout)
    assert [e["to_state"] for e in history if e["to_state"]] == [
        "queued", "running", "up_for_retry", "queued", "running", "success"]


def test_with_no_worker_on_its_queue_a_try_waits_and_a_worker_started_later_runs_it(cluster):
    cluster.write(tasks=1)
    cluster.worker("elsewhere", queues=f"{cluster.queue}-other", wait=False)  # -q: not this queue
    proc = cluster.backfill("spread", "-s", "2024-01-01")
    with psycopg.connect(cluster.database_url, autocommit=True) as conn:
        wait_for(lambda: conn.execute("SELECT count(*) FROM try_dispatch WHERE published_at IS NOT NULL").fetchone()
                 == (1,), 60, "the try published")
        time.sleep(3)
        assert conn.execute("SELECT count(*) FROM try_claim").fetchone() == (0,)
    assert proc.poll() is None and cluster.lines("started.log") == []
    assert _where(_states("spread")["t0"]) == ("queued", None)  # never running, never success
    cluster.worker("late")
    code, out, err = finished(proc, 60)
    assert code == 0, out + err
    assert f"waiting for workers on queue {cluster.queue}" in err
    assert "| queued 1 | running 0 |" in err  # the progress line counts it queued, not running
    assert _where(_states("spread")["t0"]) == ("success", "late")
    history = json.loads(cli("audit", "log", "--dag-id", "spread", "--task-id", "t0", "-o", "json").stdout)
    assert [e["to_state"] for e in history if e["to_state"]] == ["queued", "running", "success"]


def test_a_worker_with_another_version_of_the_dag_file_refuses_unless_x(cluster):
    cluster.write(tasks=1)
    theirs = cluster.root / "their-dags"
    cluster.write(tasks=1, folder=theirs, extra="\n# the worker's own copy, edited\n")
    cluster.worker("stale", LEDGERFLOW_DAGS_FOLDER=str(theirs))
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-01"), 60)
    assert code != 0 and "refusing to run a different version" in out + err
    assert cluster.lines("started.log") == [] and _states("spread")["t0"]["try_number"] == 0
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-01", "-x"), 60)
    assert code == 0, out + err
    assert [line[:3] for line in cluster.lines("done.log")] == [["t0", "2024-01-01", "stale"]]


def test_tries_recorded_while_the_broker_is_away_are_published_once_it_is_back(cluster):
    cluster.write(tasks=3)
    cluster.worker("steady")
    with BrokerProxy() as proxy:
        proxy.down()
        proc = cluster.backfill("spread", "-s", "2024-01-01", LEDGERFLOW_BROKER_URL=proxy.url)
        with psycopg.connect(cluster.database_url, autocommit=True) as conn:
            wait_for(lambda: conn.execute("SELECT count(*) FROM try_dispatch WHERE published_at IS NULL").fetchone()
                     == (3,), 60, "tries recorded and not published")
            time.sleep(1.5)  # the relay tries again meanwhile, in vain
            assert cluster.lines("started.log") == []
            proxy.up()
            code, out, err = finished(proc, 60)
            assert code == 0, out + err
            assert conn.execute("SELECT count(*) FROM try_dispatch WHERE published_at IS NULL").fetchone() == (0,)
    assert sorted(line[0] for line in cluster.lines("done.log")) == ["t0", "t1", "t2"]


def test_sigterm_lets_a_worker_finish_its_try_before_it_stops(cluster):
    cluster.write(tasks=1)
    (cluster.state / "hold").touch()
    calm = cluster.worker("calm")
    proc = cluster.backfill("spread", "-s", "2024-01-01")
    wait_for(lambda: cluster.lines("started.log"), 60, "the try running")
    os.kill(calm.pid, signal.SIGTERM)
    time.sleep(1.0)
    assert calm.poll() is None  # still finishing its try
    (cluster.state / "hold").unlink()
    assert calm.wait(30) == 0
    code, out, err = finished(proc, 60)
    assert code == 0, out + err
    assert _states("spread")["t0"]["state"] == "success"


def test_execution_timeout_is_enforced_on_the_worker(cluster):
    cluster.write(tasks=1, timeout=1.0)
    (cluster.state / "hold").touch()
    cluster.worker("strict")
    began = time.monotonic()
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-01"), 60)
    assert code == 1 and "execution_timeout of 1s exceeded" in out, out + err
    assert time.monotonic() - began < 30
    assert _states("spread")["t0"]["state"] == "failed" and cluster.lines("done.log") == []


def test_a_driver_killed_mid_try_leaves_the_outcome_its_worker_records_to_the_next_driver(cluster):
    cluster.write(tasks=2)
    (cluster.state / "hold__t0").touch()
    cluster.worker("keeper")
    first = cluster.backfill("spread", "-s", "2024-01-01")
    wait_for(lambda: [x for x in cluster.lines("started.log") if x[0] == "t0"], 60, "t0 running")
    first.kill()  # SIGKILL: the driver dies, its worker goes on
    first.communicate()
    (cluster.state / "hold__t0").unlink()
    code, out, err = finished(cluster.backfill("spread", "-s", "2024-01-01"), 60)
    assert code == 0, out + err
    states = _states("spread")
    assert {t: (s["state"], s["try_number"]) for t, s in states.items()} == {"t0": ("success", 1), "t1": ("success", 1)}
    assert sorted(line[0] for line in cluster.lines("done.log")) == ["t0", "t1"]  # t0 ran once, for both drivers
