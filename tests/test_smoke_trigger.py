import json
import textwrap

import pytest
from dagfiles import cli


def test_trigger_then_list_runs_shows_the_queued_manual_run(database_url, tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "d.py").write_text(textwrap.dedent("""
        from datetime import datetime
        from ledgerflow import DAG, EmptyTask
        with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
            EmptyTask("a") >> EmptyTask("b")
    """))
    result = cli("dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-02")
    assert result.exit_code == 0, result.output
    result = cli("dags", "list-runs", "d", "-o", "json")
    runs = json.loads(result.stdout)
    assert [(r["run_id"], r["state"], r["run_type"]) for r in runs] == [
        ("manual__2024-01-02T00:00:00+00:00", "queued", "manual")
    ]


def test_a_run_id_is_claimed_so_two_runs_can_never_share_it(database_url, tmp_path):
    from ledgerflow.engine.application.trigger import trigger
    from ledgerflow.engine.authoring.dagbag import load_dag
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.domain.scheduling import new_run
    from ledgerflow.engine.errors import RefusedCommand
    from ledgerflow.engine.infrastructure.migrations import open_ledger

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "d.py").write_text(textwrap.dedent("""
        from datetime import datetime
        from ledgerflow import DAG, EmptyTask
        with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
            EmptyTask("a")
    """))
    dag = load_dag(dags, "d")
    ledger = open_ledger(database_url)
    trigger(ledger, dag, new_operation("t", actor=None, reason=None),
            logical_date=parse_date("2024-01-02"), run_id="nightly")
    # a racing trigger that passed its checks before the first landed: same run_id, other date
    op = new_operation("t", actor=None, reason=None)
    racer = new_run(dag, parse_date("2024-01-03"), "manual", "queued", {}, op, run_id="nightly")
    from ledgerflow.engine.domain.dagrun import RunIdClaim
    from ledgerflow.engine.errors import ConcurrentModification

    with pytest.raises(ConcurrentModification):
        ledger.append(op.started(), RunIdClaim.claim(racer, op.stamp), racer)
    with pytest.raises(RefusedCommand):
        trigger(ledger, dag, new_operation("t", actor=None, reason=None),
                logical_date=parse_date("2024-01-03"), run_id="nightly")
    with ledger.cursor() as curs:
        curs.execute("SELECT count(*) AS n FROM ledgerflow_events WHERE topic LIKE 'engine.dagrun:DagRun.%'")
        assert curs.fetchone()["n"] == 1
