"""Each list filter of the implemented endpoints changes the answer (none is ignored), checked with the
official client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow_client.client.api import event_log_api, task_instance_api
from airflow_client.client.exceptions import ApiException
from airflow_client.client.models import ClearTaskInstancesBody, ClearTaskInstancesBodyTaskIdsInner

RUN2 = "backfill__2024-01-02T00:00:00+00:00"


def test_event_logs_filter_by_event_try_and_included_or_excluded_events(api):
    with api.client("auditor") as c:
        logs = event_log_api.EventLogApi(c)
        everything = logs.get_event_logs(limit=1000)
        created = logs.get_event_logs(event="UserCreated", limit=100)
        assert created.total_entries == 4 and {e.event for e in created.event_logs} == {"UserCreated"}
        both = logs.get_event_logs(included_events=["UserCreated", "StateChanged"], limit=1000)
        assert {e.event for e in both.event_logs} == {"UserCreated", "StateChanged"}
        rest = logs.get_event_logs(excluded_events=["UserCreated"], limit=1000)
        assert rest.total_entries == everything.total_entries - 4
        tried = logs.get_event_logs(try_number=1, dag_id="pychain", task_id="a", limit=100)
        assert tried.total_entries >= 3 and {e.try_number for e in tried.event_logs} == {1}
        assert logs.get_event_logs(try_number=2).total_entries == 0


def test_event_logs_filter_by_time_run_and_owner_and_order_newest_first(api):
    with api.client("auditor") as c:
        logs = event_log_api.EventLogApi(c)
        total = logs.get_event_logs().total_entries
        later = datetime.now(UTC) + timedelta(hours=1)
        assert logs.get_event_logs(after=later).total_entries == 0
        assert logs.get_event_logs(before=later).total_entries == total
        assert logs.get_event_logs(before=datetime(2000, 1, 1, tzinfo=UTC)).total_entries == 0
        of_run = logs.get_event_logs(run_id=RUN2, limit=100)
        assert of_run.total_entries > 0 and {e.run_id for e in of_run.event_logs} == {RUN2}
        assert {e.owner for e in logs.get_event_logs(owner="tester", limit=100).event_logs} == {"tester"}
        newest = [e.event_log_id for e in logs.get_event_logs(order_by=["-when"], limit=3).event_logs]
        assert newest == [total, total - 1, total - 2]
        with pytest.raises(ApiException) as bad:
            logs.get_event_logs(order_by=["extra"])
        assert bad.value.status == 400


def test_task_instances_filter_by_state_date_and_task_and_order_and_page(api):
    with api.client("viewer") as c:
        tis = task_instance_api.TaskInstanceApi(c)
        assert tis.get_task_instances("pychain", "~", state=["failed"]).total_entries == 0
        assert tis.get_task_instances("pychain", "~", state=["success"]).total_entries == 9
        ranged = tis.get_task_instances("pychain", "~", logical_date_gte="2024-01-02T00:00:00Z",
                                        logical_date_lte="2024-01-02T00:00:00Z")
        assert ranged.total_entries == 3 and {t.dag_run_id for t in ranged.task_instances} == {RUN2}
        desc = tis.get_task_instances("pychain", RUN2, order_by=["-task_id"])
        assert [t.task_id for t in desc.task_instances] == ["c", "b", "a"]
        page = tis.get_task_instances("pychain", RUN2, order_by=["task_id"], limit=1, offset=1)
        assert (page.total_entries, [t.task_id for t in page.task_instances]) == (3, ["b"])
        with pytest.raises(ApiException) as bad:
            tis.get_task_instances("pychain", RUN2, state=["nonsense"])
        assert bad.value.status == 400


@pytest.mark.parametrize(("path", "param"), [
    ("/api/v2/eventLogs", "dag_id_pattern"), ("/api/v2/dags/pychain/dagRuns", "start_date_gte"),
    ("/api/v2/dags/pychain/dagRuns/~/taskInstances", "pool"), ("/api/v2/pools", "pool_name_prefix_pattern"),
    ("/api/v2/backfills", "dag_ids"),
])
def test_a_specified_filter_ledgerflow_does_not_offer_is_refused_by_name(api, path, param):
    answer = api.call("GET", path, "admin", params={param: "x", "dag_id": "pychain"} if "backfills" in path
                      else {param: "x"})
    assert answer.status_code == 400 and param in answer.json()["detail"]


def test_task_instances_across_runs_are_ordered_and_paged_by_the_views_with_no_state_last(api):
    with api.client("operator") as c:
        tis = task_instance_api.TaskInstanceApi(c)
        tis.post_clear_task_instances("pychain", ClearTaskInstancesBody(
            dry_run=False, only_failed=False, dag_run_id=RUN2, task_ids=[ClearTaskInstancesBodyTaskIdsInner("c")]))
        ascending = tis.get_task_instances("pychain", "~", order_by=["state"])
        assert [t.state for t in ascending.task_instances][-1] is None and ascending.total_entries == 9
        first = tis.get_task_instances("pychain", "~", order_by=["-state"], limit=1).task_instances[0]
        assert (first.dag_run_id, first.task_id, first.state) == (RUN2, "c", None)
        newest = tis.get_task_instances("pychain", "~", order_by=["-logical_date", "task_id"], limit=2, offset=1)
        assert [(t.dag_run_id[10:20], t.task_id) for t in newest.task_instances] == [
            ("2024-01-03", "b"), ("2024-01-03", "c")]
        assert tis.get_task_instances("pychain", "~", state=["none"]).total_entries == 1
