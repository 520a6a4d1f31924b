"""XComs, DAG pausing and DAG list filters over HTTP with the official client."""

from __future__ import annotations

import pytest
from airflow_client.client.api import dag_api, x_com_api
from airflow_client.client.exceptions import ApiException, ForbiddenException, NotFoundException
from airflow_client.client.models import DAGPatchBody
from cli_runner import backfill
from recorded import query

PUSHES = """
from datetime import datetime
from airflow import DAG
from airflow.decorators import task

with DAG("pushes", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    @task
    def make(ds=None):
        return {"rows": 3, "ds": ds}

    make()
"""
RUN = "backfill__2024-01-01T00:00:00+00:00"


@pytest.fixture
def pushed(api):
    api.dags.write("pushes", PUSHES)
    done = backfill(api.dags, "pushes", "-s", "2024-01-01", "-e", "2024-01-01", "-y")
    assert done.exit_code == 0, done.output
    return api


def test_a_tasks_xcoms_list_and_one_entry_has_its_value(pushed):
    with pushed.client("viewer") as c:
        xcoms = x_com_api.XComApi(c)
        listed = xcoms.get_xcom_entries("pushes", RUN, "make")
        assert [(x.key, x.map_index, x.run_id) for x in listed.xcom_entries] == [("return_value", -1, RUN)]
        assert listed.xcom_entries[0].timestamp.year > 2024  # when the try pushed it, not the logical date
        assert xcoms.get_xcom_entries("pushes", RUN, "make", xcom_key="other").total_entries == 0
        assert xcoms.get_xcom_entries("pushes", RUN, "make", map_index=0).total_entries == 0
        entry = pushed.call("GET", f"/api/v2/dags/pushes/dagRuns/{RUN}/taskInstances/make/xcomEntries/return_value",
                            "viewer").json()
        assert entry["value"] == {"rows": 3, "ds": "2024-01-01"}
        text = pushed.call("GET", f"/api/v2/dags/pushes/dagRuns/{RUN}/taskInstances/make/xcomEntries/return_value",
                           "viewer", params={"stringify": "true"}).json()
        assert isinstance(text["value"], str) and "2024-01-01" in text["value"]
        with pytest.raises(NotFoundException):
            xcoms.get_xcom_entry("pushes", RUN, "make", "missing")
        with pytest.raises(NotFoundException):
            xcoms.get_xcom_entries("pushes", RUN, "nosuchtask")


def test_patch_dag_pauses_with_the_user_and_reason_and_the_dag_shows_it(api):
    with api.client("operator") as c:
        dags = dag_api.DAGApi(c)
        assert dags.get_dag("pychain").is_paused is False
        done = dags.patch_dag("pychain", DAGPatchBody(is_paused=True), update_mask=["is_paused"],
                              _headers={"X-Ledgerflow-Reason": "freeze for audit"})
        assert done.is_paused is True and dags.get_dag("pychain").is_paused is True
        assert [d.dag_id for d in dags.get_dags(paused=True).dags] == ["pychain"]
        assert dags.get_dags(paused=False).total_entries == 0
        with pytest.raises(ApiException) as masked:
            dags.patch_dag("pychain", DAGPatchBody(is_paused=False), update_mask=["description"])
        assert masked.value.status == 400 and "only is_paused" in masked.value.body
        assert dags.get_dag("pychain").is_paused is True
    entries = query(api.database_url, "SELECT event, actor, reason FROM audit_entry WHERE operation = 'dags pause'")
    assert {"event": "Dag.Paused", "actor": "operator", "reason": "freeze for audit"} in entries
    assert {(e["actor"], e["reason"]) for e in entries} == {("operator", "freeze for audit")}


def test_patch_dags_pauses_every_match_and_a_viewer_changes_nothing(api):
    with api.client("viewer") as c, pytest.raises(ForbiddenException):
        dag_api.DAGApi(c).patch_dag("pychain", DAGPatchBody(is_paused=True))
    with api.client("operator") as c:
        dags = dag_api.DAGApi(c)
        assert dags.get_dag("pychain").is_paused is False
        done = dags.patch_dags(DAGPatchBody(is_paused=True), dag_id_pattern="CHAIN")
        assert [(d.dag_id, d.is_paused) for d in done.dags] == [("pychain", True)]
        assert dags.patch_dags(DAGPatchBody(is_paused=True), dag_id_pattern="nomatch").total_entries == 0
        with pytest.raises(ApiException) as unbounded:
            dags.patch_dags(DAGPatchBody(is_paused=False))
        assert unbounded.value.status == 400


def test_dag_list_patterns_are_case_insensitive_and_order_by_is_checked(api):
    with api.client("viewer") as c:
        dags = dag_api.DAGApi(c)
        assert dags.get_dags(dag_id_pattern="PYCH").total_entries == 1
        assert dags.get_dags(dag_id_pattern="zzz").total_entries == 0
        assert [d.dag_id for d in dags.get_dags(order_by=["-dag_id"]).dags] == ["pychain"]
        with pytest.raises(ApiException) as order:
            dags.get_dags(order_by=["next_dagrun"])
        assert order.value.status == 400


def test_a_query_parameter_the_endpoint_does_not_take_is_400_not_ignored(api):
    answer = api.call("GET", "/api/v2/dags", "viewer", params={"tags": "finance"})
    assert answer.status_code == 400 and "tags" in answer.json()["detail"]
    answer = api.call("GET", "/api/v2/dags/pychain/dagRuns", "viewer", params={"run_id_pattern": "x"})
    assert answer.status_code == 400 and "run_id_pattern" in answer.json()["detail"]
    assert api.call("GET", "/api/v2/dags/pychain/dagRuns", "viewer", params={"limit": 1}).status_code == 200
