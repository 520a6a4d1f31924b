"""The event store: append-only in the database, atomic batches, no duplicate runs."""

import json
import threading
from uuid import UUID

import psycopg
import pytest

from ledgerflow.engine.domain.dagrun import DagRun, dagrun_id
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.errors import ConcurrentModification
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE


def operation(name: str = "test") -> OperationContext:
    return OperationContext(name=name, actor="tester", reason="because")


def start_run(op: OperationContext, dag_id: str, day: int, tasks: int = 3) -> DagRun:
    logical = f"2024-01-{day:02d}T00:00:00+00:00"
    return DagRun.start(
        **op.stamp, dag_id=dag_id, run_id=f"manual__{logical}", logical_date=logical,
        data_interval_start=logical, data_interval_end=f"2024-01-{day + 1:02d}T00:00:00+00:00",
        run_type="manual", state="queued", conf={}, dag_fingerprint="f" * 64,
        tasks={f"t{i}": 0 for i in range(tasks)},
    )


def change(op: OperationContext, run: DagRun, task_id: str, to: str, try_number: int) -> None:
    run.trigger_event(DagRun.TaskInstancesChanged, **op.stamp, changes=[
        {"task_id": task_id, "from": None, "to": to, "try_number": try_number, "max_tries": 0}
    ])


def rows(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            f"SELECT notification_id, originator_id, originator_version, topic "
            f"FROM {EVENTS_TABLE} ORDER BY notification_id"
        ).fetchall()


def count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0]


@pytest.fixture
def one_run(ledger, database_url):
    op = operation()
    ledger.append(op.started(), start_run(op, "d", 1), op.ended("success"))
    assert count(database_url) == 3
    return database_url


@pytest.mark.parametrize("statement", [
    f"UPDATE {EVENTS_TABLE} SET topic = 'forged'",
    f"DELETE FROM {EVENTS_TABLE}",
    f"TRUNCATE {EVENTS_TABLE}",
    f"TRUNCATE {EVENTS_TABLE} CASCADE",
])
def test_the_database_refuses_to_change_or_remove_stored_events(one_run, statement):
    before = rows(one_run)
    with psycopg.connect(one_run) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        conn.execute(statement)
    assert "append-only" in str(refused.value)
    assert rows(one_run) == before


def test_the_refusal_holds_for_a_single_row_too(one_run):
    with psycopg.connect(one_run) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = 1")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"UPDATE {EVENTS_TABLE} SET state = state WHERE notification_id = 1")
    assert count(one_run) == 3


def test_every_event_carries_operation_actor_and_reason(ledger, database_url):
    op = operation("dags trigger")
    run = start_run(op, "d", 1)
    change(op, run, "t0", "running", 1)
    ledger.append(op.started(), run, op.ended("success"))
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s ORDER BY originator_version",
            (run.id,),
        ).fetchall()
    payloads = [json.loads(bytes(s)) for (s,) in stored]
    assert len(payloads) == 2
    for payload in payloads:
        assert (payload["operation_id"], payload["operation"], payload["actor"], payload["reason"]) == (
            str(op.id), "dags trigger", "tester", "because")


def test_a_run_id_is_derived_from_dag_and_logical_date_only():
    op = operation()
    assert start_run(op, "d", 1).id == dagrun_id("d", "2024-01-01T00:00:00+00:00")
    assert start_run(op, "d", 1).id == start_run(operation(), "d", 1).id
    assert start_run(op, "d", 1).id != start_run(op, "e", 1).id
    assert start_run(op, "d", 1).id != start_run(op, "d", 2).id


def test_the_stored_history_replays_to_the_state_the_aggregate_had(ledger):
    op = operation()
    run = start_run(op, "d", 1)
    change(op, run, "t0", "success", 1)
    change(op, run, "t1", "failed", 1)
    run.trigger_event(DagRun.StateChanged, **op.stamp, from_state="queued", to_state="failed")
    ledger.append(run)
    replayed = ledger.repository.get(run.id)
    assert replayed.version == run.version == 4
    assert replayed.run.state == "failed"
    assert {t: (ti.state, ti.try_number) for t, ti in replayed.run.tis.items()} == {
        "t0": ("success", 1), "t1": ("failed", 1), "t2": (None, 0)}


def test_creating_the_same_run_twice_raises_concurrent_modification_and_writes_nothing(
    ledger, database_url
):
    first = operation()
    ledger.append(first.started(), start_run(first, "d", 1), first.ended("success"))
    before = rows(database_url)
    second = operation()
    other_run = start_run(second, "d", 5)
    with pytest.raises(ConcurrentModification, match="nothing was written"):
        ledger.append(second.started(), other_run, start_run(second, "d", 1), second.ended("success"))
    assert rows(database_url) == before


def test_two_writers_of_one_run_cannot_both_win(ledger, database_url):
    op = operation()
    run = start_run(op, "d", 1)
    ledger.append(run)
    mine, theirs = ledger.repository.get(run.id), ledger.repository.get(run.id)
    change(op, mine, "t0", "success", 1)
    change(op, theirs, "t0", "failed", 1)
    ledger.append(mine)
    with pytest.raises(ConcurrentModification):
        ledger.append(theirs)
    assert ledger.repository.get(run.id).run.tis["t0"].state == "success"
    assert count(database_url) == 2


def build_runs(op: OperationContext, days: range, per_run: int) -> list[DagRun]:
    runs = [start_run(op, "big", day, tasks=50) for day in days]
    for run in runs:
        for i in range(per_run - 1):
            change(op, run, f"t{i % 50}", "running" if i % 2 else "queued", i // 50 + 1)
    return runs


def append_within(ledger, aggregates, seconds: float) -> BaseException | None:
    """Appends in a thread; a hang fails the test instead of freezing the run."""
    outcome: list[BaseException | None] = []

    def work() -> None:
        try:
            ledger.append(*aggregates)
            outcome.append(None)
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"appending did not finish within {seconds} s"
    return outcome[0]


def test_one_append_of_20000_events_lands_whole_in_order_and_does_not_hang(ledger, database_url):
    op = operation()
    runs = build_runs(op, range(1, 5), per_run=5_000)
    assert sum(len(r.pending_events) for r in runs) == 20_000
    assert append_within(ledger, runs, seconds=120) is None
    stored = rows(database_url)
    assert len(stored) == 20_000
    assert [r[0] for r in stored] == list(range(stored[0][0], stored[0][0] + 20_000))
    by_run: dict[UUID, list[int]] = {}
    for _, originator, version, _topic in stored:
        by_run.setdefault(originator, []).append(version)
    assert by_run == {r.id: list(range(1, 5_001)) for r in runs}


def test_a_20000_event_append_that_conflicts_at_its_end_writes_none_of_them(ledger, database_url):
    op = operation()
    ledger.append(start_run(op, "big", 9))
    runs = build_runs(op, range(1, 5), per_run=5_000)
    clash = start_run(op, "big", 9)
    error = append_within(ledger, [*runs, clash], seconds=120)
    assert isinstance(error, ConcurrentModification)
    assert count(database_url) == 1
