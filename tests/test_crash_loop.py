"""A finished try never runs again, whatever kills its backfill (DESIGN difference 8, issue 10 item 1).

One backfill is interrupted over and over, at random moments: kill -9 of the
backfill process, SIGTERM, and restarts of its (private) PostgreSQL server. After
each interruption the same command is run again. Every task appends its marker
line as the very last thing it does, so a try that finished and then ran again
shows as a second line.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter

import psycopg
import pytest
from dagfiles import backfill, make_dags, spawn_backfill, states
from private_postgres import PrivateServer, available

CRASHY = """
import random


def finish(ds, task_id):
    time.sleep(random.uniform(0.02, 0.15))
    record(f"{task_id} {ds}")  # the last thing the task does


with DAG("crashy", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    first = PythonTask("first", finish)
    middle = [PythonTask(f"middle{i}", finish) for i in range(2)]
    last = PythonTask("last", finish)
    first >> middle >> last
"""
RANGE = ("-s", "2024-01-01", "-e", "2024-03-31")
DATES = 91
TASKS = ("first", "middle0", "middle1", "last")
PLAN = ["kill -9"] * 30 + ["SIGTERM"] * 10 + ["restart"] * 3


@pytest.fixture
def private_server(monkeypatch: pytest.MonkeyPatch):
    if not available():
        pytest.skip("PostgreSQL 15 server binaries are not installed")
    from ledgerflow.engine.infrastructure.migrations import migrate

    server = PrivateServer(max_connections=40, keep_commits=True)  # a restart must not lose commits
    try:
        migrate(server.url)
        monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", server.url)
        yield server
    finally:
        server.close()


def _interrupt_once(dags, server, how: str, rng: random.Random) -> int | None:
    """Runs the backfill and interrupts it; the exit code, or None when it ended before the blow."""
    proc = spawn_backfill(dags, server.url, "crashy", *RANGE)
    ahead = rng.choice([0, 1, 2, 3])
    if ahead == 0:  # anywhere from starting up, recovering and planning to running tries
        time.sleep(rng.uniform(0.2, 1.2))
    else:
        target = len(dags.lines()) + ahead
        deadline = time.monotonic() + 60
        while len(dags.lines()) < target and proc.poll() is None:
            assert time.monotonic() < deadline, "the backfill made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.1))
    if proc.poll() is not None:
        proc.communicate()
        return None
    if how == "kill -9":
        proc.send_signal(signal.SIGKILL)
    elif how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        server.restart()
    proc.communicate(timeout=120)
    return proc.returncode


def test_no_finished_try_runs_again_across_kill_9_sigterm_and_database_restarts(
        tmp_path, monkeypatch, private_server):
    monkeypatch.delenv("LEDGERFLOW_EXECUTOR", raising=False)  # the default, local executor
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "4")
    dags = make_dags(tmp_path, crashy=CRASHY)
    rng = random.Random(20240101)
    plan = list(PLAN)
    rng.shuffle(plan)
    codes: Counter[tuple[str, int]] = Counter()
    started = time.monotonic()
    for how in plan:
        for _ in range(5):  # a backfill that ended before the blow (the DAG lock was not free yet) is run again
            code = _interrupt_once(dags, private_server, how, rng)
            if code is not None:
                codes[how, code] += 1
                break
        else:
            pytest.fail(f"the backfill kept ending before it could be interrupted ({how})")
        assert time.monotonic() - started < 300, f"the loop is too slow: {codes}"
    assert sum(codes.values()) == len(PLAN)
    assert {code for (how, code) in codes if how == "kill -9"} == {-signal.SIGKILL}
    # a SIGTERM before the backfill began (starting up, planning) ends it as the default action does
    assert {code for (how, code) in codes if how == "SIGTERM"} <= {1, -signal.SIGTERM}, codes
    assert codes["SIGTERM", 1] >= 5, f"too few SIGTERMs came while tries ran: {codes}"
    done_before = len(dags.lines())
    assert done_before < DATES * len(TASKS), "the backfill finished during the loop: nothing was tested at the end"

    result = backfill(dags, "crashy", *RANGE)
    assert result.exit_code == 0, result.output
    counts = dags.counts()
    twice = {line: n for line, n in counts.items() if n > 1}
    assert twice == {}, f"finished tries ran again: {twice}"
    assert set(counts) == {f"{t} 2024-{d}" for t in TASKS for d in _days()}
    assert set(states("crashy").values()) == {"success"}
    with psycopg.connect(private_server.url) as conn:
        open_ops = conn.execute("SELECT count(*) FROM operation WHERE outcome IS NULL").fetchone()
    assert open_ops == (0,), "an operation killed in the loop still has no outcome"
    print(f"interruptions {dict(codes)}; {done_before} of {DATES * len(TASKS)} tries done before the "
          f"last run; loop {time.monotonic() - started:.0f} s; no line twice")


def _days() -> list[str]:
    from datetime import date, timedelta

    first = date(2024, 1, 1)
    return [(first + timedelta(days=n)).strftime("%m-%d") for n in range(DATES)]
