"""The scheduler's pick-next: which DAGs get a pass this loop, decided for every DAG at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagfiles import make_dags, seed_run

from ledgerflow.engine.authoring.dagbag import load_dagbag
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.runtime.pick_next import pick_next

pytestmark = pytest.mark.usefixtures("sequential_executor")

MANUAL = '''
with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("a", work)
'''
DAILY = '''
with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3),
         catchup=False) as dag:
    PythonTask("a", work)
'''
KINDS = {"queued_open": MANUAL, "queued_paused": MANUAL, "running_paused": MANUAL, "daily_done": DAILY,
         "daily_due": DAILY, "daily_paused": DAILY}


def test_only_dags_with_something_to_do_get_a_pass(tmp_path, ledger):
    dags = make_dags(tmp_path, **{name: body.format(dag_id=name) for name, body in KINDS.items()})
    seed_run(dags, "queued_open", "2024-01-05", run_type="manual", state="queued", ti_states={"a": None})
    seed_run(dags, "queued_paused", "2024-01-05", run_type="manual", state="queued", ti_states={"a": None})
    seed_run(dags, "running_paused", "2024-01-05", run_type="backfill", state="running", ti_states={"a": "running"})
    seed_run(dags, "daily_done", "2024-01-03", ti_states={"a": "success"})  # the latest interval that ended
    views(ledger).catch_up()  # as the scheduler's loop does before it picks
    bag = load_dagbag(dags.folder)
    paused = {name: name.endswith("_paused") for name in KINDS}
    busy = pick_next(ledger, [bag.dags[name] for name in KINDS], paused, datetime(2024, 2, 1, tzinfo=UTC))
    # a queued run of an unpaused DAG; a run a dead driver left running, even paused; a due date, unpaused
    assert busy == {"queued_open", "running_paused", "daily_due"}
