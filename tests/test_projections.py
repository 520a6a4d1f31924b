"""Views folded from the events: golden history, rebuild identity, exactly-once, status."""

from __future__ import annotations

import threading
from uuid import UUID

import psycopg
import pytest
from dagfiles import cli
from golden_views import VIEWS, dump, expected_views, golden_history

from ledgerflow.projections.projector import ViewProjector


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def test_the_golden_history_covers_every_kind_of_run_event():
    kinds = {e.topic.rpartition(":")[2] for e in golden_history()}
    assert kinds >= {
        "DagRun.Created", "DagRun.TaskInstancesChanged", "DagRun.StateChanged", "DagRun.Cleared",
        "DagRun.Reset", "DagRun.Adopted", "DagRun.TasksAdded", "Pool.Created", "Pool.SlotsSet",
        "Operation.Started", "Operation.Ended",
    }


def test_incremental_catch_up_in_small_batches_gives_the_expected_views(ledger, database_url):
    projector = ViewProjector(ledger, batch=3)
    applied = 0
    for part in chunks(golden_history(), 7):
        ledger.recorder.insert_events(part)
        applied += projector.catch_up()
    assert applied == len(golden_history())
    assert dump(database_url) == expected_views()


def test_a_rebuild_gives_views_identical_to_the_incremental_ones(ledger, database_url):
    projector = ViewProjector(ledger, batch=3)
    for part in chunks(golden_history(), 5):
        ledger.recorder.insert_events(part)
        projector.catch_up()
    incremental = dump(database_url)
    assert ViewProjector(ledger).rebuild() == len(golden_history())
    assert dump(database_url) == incremental == expected_views()
    assert ViewProjector(ledger, batch=2).rebuild() == len(golden_history())
    assert dump(database_url) == incremental


def test_one_catch_up_over_the_whole_history_gives_the_same_views(ledger, database_url):
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger).catch_up()
    assert dump(database_url) == expected_views()


def test_the_expected_views_say_what_the_history_did():
    views = expected_views()
    runs = {(r["dag_id"], r["logical_date"][:10]): r for r in views["dag_run"]}
    manual = runs[("etl", "2024-01-01")]
    assert (manual["run_type"], manual["conf"], manual["state"]) == ("manual", {"k": 2}, "running")
    assert runs[("etl", "2024-01-02")]["state"] == "running"  # reset, then picked up
    assert runs[("etl", "2024-01-03")]["state"] == "success"  # cleared, then rerun
    assert runs[("etl", "2024-01-03")]["clear_number"] == 1
    assert runs[("report", "2024-01-02")]["logical_date"] == "2024-01-02T05:00:00+00:00"
    tis = {(r["run_uuid"], r["task_id"]): r for r in views["task_instance"]}
    publish = tis[(manual["run_uuid"], "publish")]
    assert (publish["state"], publish["try_number"], publish["max_tries"]) == (None, 0, 2)
    transform = tis[(runs[("etl", "2024-01-03")]["run_uuid"], "transform")]
    assert (transform["state"], transform["try_number"], transform["max_tries"]) == (
        "success", 3, 3)
    assert views["pool"] == [{"name": "db", "slots": 2}]
    assert [(o["name"], o["outcome"]) for o in views["operation"]] == [
        ("dags trigger", "success"), ("dags backfill", "failed"), ("tasks clear", "success"),
        ("dags backfill", "interrupted"), ("pools set", "success"),
    ]


def test_the_views_agree_with_the_runs_the_library_rebuilds_from_the_same_events(
    ledger, database_url
):
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger, batch=3).catch_up()
    views = dump(database_url)
    tis: dict[str, dict[str, tuple]] = {}
    for row in views["task_instance"]:
        tis.setdefault(row["run_uuid"], {})[row["task_id"]] = (
            row["state"], row["try_number"], row["max_tries"])
    for row in views["dag_run"]:
        aggregate = ledger.repository.get(UUID(row["run_uuid"]))
        run = aggregate.run
        assert row["version"] == aggregate.version
        assert (row["run_id"], row["run_type"], row["state"], row["conf"], row["clear_number"]) == (
            run.run_id, run.run_type, run.state, run.conf, run.clear_number)
        assert tis[row["run_uuid"]] == {
            t: (ti.state, ti.try_number, ti.max_tries) for t, ti in run.tis.items()}


def test_a_second_catch_up_applies_nothing_and_changes_nothing(ledger, database_url):
    ledger.recorder.insert_events(golden_history())
    projector = ViewProjector(ledger, batch=4)
    assert projector.catch_up() == len(golden_history())
    before = dump(database_url)
    assert projector.catch_up() == 0
    assert ViewProjector(ledger).catch_up() == 0
    assert dump(database_url) == before


def test_concurrent_catch_ups_apply_each_event_exactly_once(ledger, database_url):
    ledger.recorder.insert_events(golden_history())
    applied: list[int] = []
    projectors = [ViewProjector(ledger, batch=2) for _ in range(4)]
    threads = [threading.Thread(target=lambda p=p: applied.append(p.catch_up()))
               for p in projectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(applied) == len(golden_history()) and len(applied) == 4
    assert dump(database_url) == expected_views()


def test_status_reports_position_head_and_lag(ledger):
    history = golden_history()
    projector = ViewProjector(ledger)
    ledger.recorder.insert_events(history[:10])
    projector.catch_up()
    ledger.recorder.insert_events(history[10:])
    status = projector.status()
    assert status["head"] - status["position"] == status["lag"] == len(history) - 10
    projector.catch_up()
    assert projector.status()["lag"] == 0


def test_the_projections_status_command_shows_the_lag_without_catching_up(ledger):
    history = golden_history()
    ledger.recorder.insert_events(history[:4])
    ViewProjector(ledger).catch_up()
    ledger.recorder.insert_events(history[4:])
    status = ViewProjector(ledger).status()
    result = cli("projections", "status")
    assert result.exit_code == 0, result.output
    lag = len(history) - 4
    assert result.stdout.split() == [
        "position", str(status["position"]), "head", str(status["head"]), "lag", str(lag)]
    assert ViewProjector(ledger).status()["lag"] == lag


def test_the_projections_rebuild_command_replays_everything_and_leaves_no_lag(
    ledger, database_url
):
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger).catch_up()
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE dag_run SET state = 'tampered'")
    result = cli("projections", "rebuild", "-y")
    assert result.exit_code == 0, result.output
    assert f"from {len(golden_history())} events" in result.stdout
    assert dump(database_url) == expected_views()
    assert ViewProjector(ledger).status()["lag"] == 0


def test_declining_the_rebuild_prompt_leaves_the_views_alone(ledger, database_url):
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger).catch_up()
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE pool SET slots = 99")
    result = cli("projections", "rebuild", input="n\n")
    assert result.exit_code == 1
    assert dump(database_url)["pool"] == [{"name": "db", "slots": 99}]


@pytest.mark.parametrize("table", list(VIEWS))
def test_every_view_has_rows_in_the_golden_expectation(table):
    assert expected_views()[table]
