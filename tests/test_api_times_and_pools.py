"""Task instances carry their current try's start, end and duration (from the audit trail), and pools
the slots their queued and running task instances hold."""

from __future__ import annotations

from airflow_client.client.api import pool_api, task_instance_api
from airflow_client.client.models import ClearTaskInstancesBody, PoolBody
from cli_runner import finished, spawn_backfill, wait_for

RUN1 = "backfill__2024-01-01T00:00:00+00:00"
HOLDS = """
with DAG("holds", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    BashTask("hold", bash_command="while [ ! -f {state}/go ]; do sleep 0.1; done", pool="gpu", pool_slots=2)
"""


def test_a_finished_instance_has_start_end_and_duration_and_a_cleared_one_none(api):
    with api.client("operator") as c:
        tis = task_instance_api.TaskInstanceApi(c)
        b = tis.get_task_instance("pychain", RUN1, "b")
        assert b.start_date is not None and b.end_date >= b.start_date
        assert abs(b.duration - (b.end_date - b.start_date).total_seconds()) < 1e-3
        listed = {t.task_id: t for t in tis.get_task_instances("pychain", RUN1).task_instances}
        assert listed["b"].start_date == b.start_date and listed["c"].start_date >= b.end_date
        (only,) = tis.get_task_instance_tries("pychain", RUN1, "b").task_instances
        assert (only.start_date, only.end_date) == (b.start_date, b.end_date) and only.duration == b.duration
        tis.post_clear_task_instances("pychain", ClearTaskInstancesBody(dry_run=False, only_failed=False,
                                                                        dag_run_id=RUN1))
        cleared = tis.get_task_instance("pychain", RUN1, "b")
        assert (cleared.state, cleared.start_date, cleared.end_date, cleared.duration) == (None, None, None, None)


def test_pools_show_the_slots_their_running_instances_hold(api, database_url):
    with api.client("admin") as c:
        pools = pool_api.PoolApi(c)
        pools.post_pool(PoolBody(name="gpu", slots=3))
        api.dags.write("holds", HOLDS.format(state=api.dags.state))
        proc = spawn_backfill(api.dags, database_url, "holds", "-s", "2024-01-01", "-e", "2024-01-01", "-y")
        try:
            gpu = wait_for(lambda: next(p for p in pools.get_pools().pools if p.name == "gpu").running_slots == 2
                           and next(p for p in pools.get_pools().pools if p.name == "gpu"), what="a running try")
            assert (gpu.occupied_slots, gpu.queued_slots, gpu.open_slots) == (2, 0, 1)
            default = next(p for p in pools.get_pools().pools if p.name == "default_pool")
            assert (default.running_slots, default.open_slots) == (0, 128)
        finally:
            (api.dags.state / "go").touch()
            code, _, err = finished(proc)
        assert code == 0, err
        assert next(p for p in pools.get_pools().pools if p.name == "gpu").open_slots == 3


def test_pools_filter_by_name_and_order_by_name(api):
    with api.client("admin") as c:
        pools = pool_api.PoolApi(c)
        pools.post_pool(PoolBody(name="gpu", slots=3))
        assert [p.name for p in pools.get_pools(order_by=["-name"]).pools] == ["gpu", "default_pool"]
        assert [p.name for p in pools.get_pools(pool_name_pattern="GP").pools] == ["gpu"]
    assert api.call("GET", "/api/v2/pools", "admin", params={"order_by": "slots"}).status_code == 400
