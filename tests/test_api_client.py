"""The official apache-airflow-client 3.x drives the HTTP API: its strict models fail on any missing
required field, so each call proves the shapes as well as the answers."""

from __future__ import annotations

import json

import pytest
from airflow_client.client.api import (
    dag_api,
    dag_run_api,
    event_log_api,
    monitor_api,
    pool_api,
    task_api,
    task_instance_api,
    version_api,
)
from airflow_client.client.models import (
    ClearTaskInstancesBody,
    ClearTaskInstancesBodyTaskIdsInner,
    DAGRunClearBody,
    PatchTaskInstanceBody,
    PoolBody,
    TriggerDAGRunPostBody,
)
from recorded import query

RUN1 = "backfill__2024-01-01T00:00:00+00:00"
RUN3 = "backfill__2024-01-03T00:00:00+00:00"


def test_version_and_health_answer_without_a_token(api):
    import airflow_client.client as ac

    with ac.ApiClient(ac.Configuration(host=api.url)) as c:
        assert version_api.VersionApi(c).get_version().version
        assert monitor_api.MonitorApi(c).get_health().metadatabase.status == "healthy"


def test_dags_and_their_tasks_list_as_airflow_shapes_them(api):
    with api.client("viewer") as c:
        dags = dag_api.DAGApi(c).get_dags()
        assert dags.total_entries == 1 and dags.dags[0].dag_id == "pychain"
        assert dag_api.DAGApi(c).get_dag("pychain").fileloc.endswith("pychain.py")
        tasks = task_api.TaskApi(c).get_tasks("pychain")
        assert [t.task_id for t in tasks.tasks] == ["a", "b", "c"]
        assert tasks.tasks[0].downstream_task_ids == ["b"]


def test_dag_runs_filter_order_and_page_with_the_total(api):
    with api.client("viewer") as c:
        runs = dag_run_api.DagRunApi(c)
        page = runs.get_dag_runs("pychain", limit=2, offset=0, order_by=["-logical_date"])
        assert page.total_entries == 3
        assert [r.dag_run_id for r in page.dag_runs] == [RUN3, "backfill__2024-01-02T00:00:00+00:00"]
        assert [r.dag_run_id for r in runs.get_dag_runs("pychain", limit=2, offset=2,
                                                       order_by=["-logical_date"]).dag_runs] == [RUN1]
        ranged = runs.get_dag_runs("pychain", logical_date_gte="2024-01-02T00:00:00Z",
                                   logical_date_lte="2024-01-02T00:00:00Z")
        assert [r.dag_run_id for r in ranged.dag_runs] == ["backfill__2024-01-02T00:00:00+00:00"]
        assert runs.get_dag_runs("pychain", state=["failed"]).total_entries == 0
        assert runs.get_dag_runs("pychain", run_type=["backfill"]).total_entries == 3
        assert runs.get_dag_runs("pychain", run_type=["manual"]).total_entries == 0
        one = runs.get_dag_run("pychain", RUN1)
        assert (one.state.value, one.run_type.value) == ("success", "backfill")


def test_task_instances_of_a_run_and_across_runs_with_tries_and_logs(api):
    with api.client("viewer") as c:
        tis = task_instance_api.TaskInstanceApi(c)
        of_run = tis.get_task_instances("pychain", RUN1)
        assert [(t.task_id, t.state.value, t.try_number) for t in of_run.task_instances] == [
            ("a", "success", 1), ("b", "success", 1), ("c", "success", 1)]
        across = tis.get_task_instances("pychain", "~", task_id="b")
        assert across.total_entries == 3 and {t.dag_run_id for t in across.task_instances} >= {RUN1, RUN3}
        assert tis.get_task_instance("pychain", RUN1, "b").state.value == "success"
        tries = tis.get_task_instance_tries("pychain", RUN1, "b")
        assert [(t.try_number, t.state.value) for t in tries.task_instances] == [(1, "success")]
        assert tis.get_log("pychain", RUN1, "b", 1).content is not None


def test_a_try_that_does_not_exist_is_404(api):
    from airflow_client.client.exceptions import NotFoundException

    with api.client("viewer") as c, pytest.raises(NotFoundException):
        task_instance_api.TaskInstanceApi(c).get_log("pychain", RUN1, "b", 2)


def test_mark_failed_dry_run_writes_nothing_and_the_mark_names_the_user_and_note(api):
    with api.client("operator") as c:
        tis = task_instance_api.TaskInstanceApi(c)
        before = query(api.database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"]
        dry = tis.patch_task_instance_dry_run("pychain", RUN1, "b", PatchTaskInstanceBody(new_state="failed"))
        assert [(t.task_id, t.state.value) for t in dry.task_instances] == [("b", "success")]
        assert query(api.database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"] == before
        done = tis.patch_task_instance("pychain", RUN1, "b", PatchTaskInstanceBody(
            new_state="failed", note="bad input file", include_downstream=True))
        assert [(t.task_id, t.state.value) for t in done.task_instances] == [("b", "failed"), ("c", "failed")]
    audit = query(api.database_url, "SELECT task_id, to_state, actor, reason FROM audit_entry "
                                    "WHERE operation = 'tasks mark' ORDER BY seq")
    assert audit == [{"task_id": "b", "to_state": "failed", "actor": "operator", "reason": "bad input file"},
                     {"task_id": "c", "to_state": "failed", "actor": "operator", "reason": "bad input file"}]


def test_clear_task_instances_defaults_to_a_dry_run_of_the_failed_ones(api):
    with api.client("operator") as c:
        tis = task_instance_api.TaskInstanceApi(c)
        tis.patch_task_instance("pychain", RUN3, "c", PatchTaskInstanceBody(new_state="failed"))
        dry = tis.post_clear_task_instances("pychain", ClearTaskInstancesBody())  # dry_run, only_failed
        assert [(t.dag_run_id, t.task_id) for t in dry.task_instances] == [(RUN3, "c")]
        everything = tis.post_clear_task_instances("pychain", ClearTaskInstancesBody(only_failed=False))
        assert everything.total_entries == 9
        done = tis.post_clear_task_instances("pychain", ClearTaskInstancesBody(
            dry_run=False, only_failed=False, task_ids=[ClearTaskInstancesBodyTaskIdsInner("a")],
            include_downstream=True, dag_run_id=RUN1, note="reprocess the first day"))
        assert sorted(t.task_id for t in done.task_instances) == ["a", "b", "c"]
        assert {t.state for t in done.task_instances} == {None}
        assert dag_run_api.DagRunApi(c).get_dag_run("pychain", RUN1).state.value == "queued"
    audit = query(api.database_url, "SELECT DISTINCT actor, reason FROM audit_entry WHERE event = 'Cleared'")
    assert audit == [{"actor": "operator", "reason": "reprocess the first day"}]


def test_a_clear_lists_each_task_instance_as_the_task_instance_reads_show_it(api):
    listed = api.call("POST", "/api/v2/dags/pychain/clearTaskInstances", as_user="operator",
                      json={"dry_run": True, "only_failed": False}).json()
    assert listed["total_entries"] == len(listed["task_instances"]) == 9
    read = api.call("GET", "/api/v2/dags/pychain/dagRuns/~/taskInstances").json()["task_instances"]
    timeless = {"start_date": None, "end_date": None, "duration": None}  # a clear's listing has no times
    assert sorted((t["dag_run_id"], t["task_id"], json.dumps(t, sort_keys=True)) for t in listed["task_instances"]) \
        == sorted((t["dag_run_id"], t["task_id"], json.dumps({**t, **timeless}, sort_keys=True)) for t in read)
    assert {t["operator"] for t in listed["task_instances"]} == {"PythonTask"}


def test_clear_dag_run_lists_then_clears_only_the_failed_instances_when_asked(api):
    with api.client("operator") as c:
        task_instance_api.TaskInstanceApi(c).patch_task_instance(
            "pychain", RUN1, "c", PatchTaskInstanceBody(new_state="failed"))
        runs = dag_run_api.DagRunApi(c)
        # the client's oneOf model cannot tell its two task-instance shapes apart: read the raw body
        raw = runs.clear_dag_run_without_preload_content("pychain", RUN1, DAGRunClearBody(dry_run=True,
                                                                                           only_failed=True))
        listed = json.loads(raw.data)
        assert [t["task_id"] for t in listed["task_instances"]] == ["c"]
        run = runs.clear_dag_run("pychain", RUN1, DAGRunClearBody(dry_run=False, only_failed=True, note="retry c"))
        assert run.actual_instance.state.value == "queued"
        states = {t.task_id: t.state for t in task_instance_api.TaskInstanceApi(c).get_task_instances(
            "pychain", RUN1).task_instances}
        assert states["c"] is None and states["b"].value == "success"


def test_trigger_makes_a_queued_manual_run_attributed_to_the_user(api):
    with api.client("operator") as c:
        run = dag_run_api.DagRunApi(c).trigger_dag_run("pychain", TriggerDAGRunPostBody(
            dag_run_id="by_hand_1", logical_date="2024-02-01T00:00:00Z", conf={"k": 1}, note="ad hoc"))
        assert (run.dag_run_id, run.state.value, run.run_type.value, run.conf) == (
            "by_hand_1", "queued", "manual", {"k": 1})
    (entry,) = query(api.database_url, "SELECT actor, reason FROM audit_entry WHERE run_id = 'by_hand_1'")
    assert entry == {"actor": "operator", "reason": "ad hoc"}


def test_event_logs_show_every_audit_entry_with_owner_and_extra(api):
    with api.client("auditor") as c:
        logs = event_log_api.EventLogApi(c)
        page = logs.get_event_logs(limit=5, offset=0)
        total = page.total_entries
        assert total > 5 and len(page.event_logs) == 5
        assert [e.event_log_id for e in page.event_logs] == [1, 2, 3, 4, 5]
        newest = logs.get_event_logs(limit=1, order_by=["-id"]).event_logs[0]
        assert newest.event_log_id == total
        created = [e for e in logs.get_event_logs(limit=100).event_logs if e.event == "UserCreated"]
        assert created[0].owner == "tester"
        assert json.loads(created[0].extra)["reason"] == "test users"
        assert logs.get_event_logs(owner="nobody").total_entries == 0
        assert logs.get_event_logs(dag_id="pychain", task_id="b").total_entries >= 3


def test_pools_list_and_create(api):
    with api.client("admin") as c:
        pools = pool_api.PoolApi(c)
        created = pools.post_pool(PoolBody(name="gpu", slots=2))
        assert (created.name, created.slots, created.open_slots) == ("gpu", 2, 2)
        listed = pools.get_pools()
        assert {p.name: p.slots for p in listed.pools} == {"default_pool": 128, "gpu": 2}
        assert listed.total_entries == 2
