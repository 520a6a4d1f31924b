"""Every DAG's runs summed up at once, as the web UI's DAG list reads them: the latest run, the runs by state."""

from __future__ import annotations

from dag_folders import make_dags
from seeded_runs import seed_run

from ledgerflow.engine.application.service import Ledgerflow


def test_each_dag_has_its_own_latest_run_and_counts_and_one_without_runs_none(tmp_path, database_url, monkeypatch):
    dags = make_dags(tmp_path, "chain", "pychain", "unscheduled")
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(dags.folder))
    for day, state in (("2024-01-01", "success"), ("2024-01-03", "failed"), ("2024-01-02", "running")):
        seed_run(dags, "chain", day, state=state)
    seed_run(dags, "pychain", "2024-02-01", state="queued")
    with Ledgerflow() as svc:
        found = svc.run_summaries(["chain", "pychain", "unscheduled"])
    assert {d: (last and (last["logical_date"][:10], last["state"]), counts) for d, (last, counts) in found.items()} \
        == {"chain": (("2024-01-03", "failed"), {"success": 1, "running": 1, "failed": 1}),
            "pychain": (("2024-02-01", "queued"), {"queued": 1}), "unscheduled": (None, {})}
