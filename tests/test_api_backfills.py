"""Backfills over HTTP with the official client: the dry run lists the dates it would run, a create
records a backfill naming the user, pause/unpause/cancel change it, and the refusals are Airflow's."""

from __future__ import annotations

import pytest
from airflow_client.client.api import backfill_api
from airflow_client.client.exceptions import ApiException, ForbiddenException, NotFoundException
from airflow_client.client.models import BackfillPostBody
from recorded import query

EVENTS = "SELECT count(*) AS n FROM ledgerflow_events"
SETUP = 1  # the fixture's own foreground backfill of 2024-01-01..03, completed


def _body(**fields):
    return BackfillPostBody(dag_id="pychain", from_date="2024-01-02T00:00:00Z", to_date="2024-01-05T00:00:00Z",
                            **fields)


def test_the_dry_run_lists_the_dates_it_would_run_and_writes_nothing(api):
    before = query(api.database_url, EVENTS)[0]["n"]
    with api.client("operator") as c:
        bf = backfill_api.BackfillApi(c)
        dry = bf.create_backfill_dry_run(_body())  # reprocess_behavior none: the two days without a run
        assert [d.logical_date.isoformat() for d in dry.backfills] == [
            "2024-01-04T00:00:00+00:00", "2024-01-05T00:00:00+00:00"]
        again = bf.create_backfill_dry_run(_body(reprocess_behavior="completed", run_backwards=True))
        assert [d.logical_date.day for d in again.backfills] == [5, 4, 3, 2]
    assert query(api.database_url, EVENTS)[0]["n"] == before


def test_create_pause_unpause_cancel_each_name_the_user(api):
    with api.client("operator") as c:
        bf = backfill_api.BackfillApi(c)
        made = bf.create_backfill(_body(max_active_runs=2, dag_run_conf={"k": 1}))
        assert (made.dag_id, made.is_paused, made.max_active_runs, made.reprocess_behavior.value,
                made.dag_run_conf, made.completed_at) == ("pychain", False, 2, "none", {"k": 1}, None)
        assert bf.get_backfill(made.id).from_date.isoformat() == "2024-01-02T00:00:00+00:00"
        paused = bf.pause_backfill(made.id)
        assert paused.is_paused is True and paused.updated_at > made.updated_at == made.created_at
        assert bf.unpause_backfill(made.id).is_paused is False
        cancelled = bf.cancel_backfill(made.id)
        assert cancelled.completed_at is not None and cancelled.is_paused is False
        listed = bf.list_backfills("pychain")
        assert (listed.total_entries, [b.id for b in listed.backfills]) == (2, [SETUP, made.id])
    audit = query(api.database_url, "SELECT DISTINCT operation, actor FROM audit_entry "
                                    "WHERE starts_with(operation, 'backfill') ORDER BY operation")
    assert audit == [{"operation": o, "actor": "operator"} for o in (
        "backfill cancel", "backfill create", "backfill pause", "backfill unpause")]


def test_the_default_max_active_runs_is_the_specifications(api):
    with api.client("operator") as c:
        assert backfill_api.BackfillApi(c).create_backfill(_body()).max_active_runs == 10


def test_a_second_active_backfill_and_a_pause_of_a_cancelled_one_are_409(api):
    with api.client("operator") as c:
        bf = backfill_api.BackfillApi(c)
        first = bf.create_backfill(_body())
        with pytest.raises(ApiException) as second:
            bf.create_backfill(_body())
        assert second.value.status == 409 and "cancel" in second.value.body
        bf.cancel_backfill(first.id)
        with pytest.raises(ApiException) as paused:
            bf.pause_backfill(first.id)
        assert paused.value.status == 409 and "cancelled" in paused.value.body


def test_unknown_backfills_dags_and_orderings_are_refused(api):
    with api.client("viewer") as c:
        bf = backfill_api.BackfillApi(c)
        with pytest.raises(NotFoundException):
            bf.get_backfill(999)
        with pytest.raises(ApiException) as order:
            bf.list_backfills("pychain", order_by=["dag_id"])
        assert order.value.status == 400 and "order_by takes id" in order.value.body
    with api.client("operator") as c, pytest.raises(NotFoundException):
        backfill_api.BackfillApi(c).create_backfill(BackfillPostBody(
            dag_id="nope", from_date="2024-01-02T00:00:00Z", to_date="2024-01-05T00:00:00Z"))
    assert api.call("POST", "/api/v2/backfills", "operator", json={"dag_id": "pychain"}).status_code == 422


def test_backfills_order_by_id_descending(api):
    with api.client("operator") as c:
        bf = backfill_api.BackfillApi(c)
        ids = []
        for day in ("2024-01-04", "2024-01-05"):
            ids.append(bf.create_backfill(BackfillPostBody(
                dag_id="pychain", from_date=f"{day}T00:00:00Z", to_date=f"{day}T00:00:00Z")).id)
            bf.cancel_backfill(ids[-1])
        assert [b.id for b in bf.list_backfills("pychain", order_by=["-id"]).backfills] == [*ids[::-1], SETUP]
        assert [b.id for b in bf.list_backfills("pychain", limit=1, offset=1).backfills] == ids[:1]


def test_a_viewer_can_read_but_not_create_and_its_refusal_writes_nothing(api):
    before = query(api.database_url, EVENTS)[0]["n"]
    with api.client("viewer") as c:
        bf = backfill_api.BackfillApi(c)
        assert [b.id for b in bf.list_backfills("pychain").backfills] == [SETUP]
        with pytest.raises(ForbiddenException):
            bf.create_backfill(_body())
        with pytest.raises(ForbiddenException):
            bf.create_backfill_dry_run(_body())
    assert query(api.database_url, EVENTS)[0]["n"] == before


def test_with_reasons_required_a_backfill_or_pause_without_one_is_400_and_writes_nothing(api, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_REQUIRE_REASON", "1")
    api.token("operator")
    before = query(api.database_url, EVENTS)[0]["n"]
    body = {"dag_id": "pychain", "from_date": "2024-01-04T00:00:00Z", "to_date": "2024-01-05T00:00:00Z"}
    for method, path, payload in (("POST", "/api/v2/backfills", body), ("PATCH", "/api/v2/dags/pychain",
                                                                          {"is_paused": True})):
        answer = api.call(method, path, "operator", json=payload)
        assert answer.status_code == 400 and "X-Ledgerflow-Reason" in answer.json()["detail"], answer.text
    assert query(api.database_url, EVENTS)[0]["n"] == before
    assert api.call("POST", "/api/v2/backfills/dry_run", "operator", json=body).status_code == 200
    made = api.call("POST", "/api/v2/backfills", "operator", json=body,
                    headers={"X-Ledgerflow-Reason": "late files for Jan 4-5"})
    assert made.status_code == 200, made.text
    (entry,) = query(api.database_url, "SELECT actor, reason FROM audit_entry WHERE operation = 'backfill create'"
                                       " AND event = 'Backfill.Created'")
    assert entry == {"actor": "operator", "reason": "late files for Jan 4-5"}
