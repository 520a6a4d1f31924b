"""Who runs cleared work next: the process driving the DAG now, the scheduler, or a parent task."""

from __future__ import annotations

from collections import Counter

from ledgerflow.engine.application.clear import ClearPlan, RunClear
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import Message, Term
from ledgerflow.engine.infrastructure.locks import driven_now
from ledgerflow.engine.infrastructure.store import Ledger


def _types(runs: list[RunClear]) -> str:
    counts = Counter(r.run.run_type for r in runs)
    return ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))


SCHEDULER = Term("scheduler", "the scheduler")
BACKFILL = Term("backfill", "a backfill")


def handoff(ledger: Ledger, plan: ClearPlan) -> list[Message]:
    """One message per DAG saying which process picks its cleared runs up."""
    by_dag: dict[str, list[RunClear]] = {}
    for rc in plan.runs:
        by_dag.setdefault(rc.run.dag_id, []).append(rc)
    lines: list[Message] = []
    for dag_id, runs in sorted(by_dag.items()):
        dag = plan.selection.scopes[dag_id].dag
        queued = [r for r in runs if r.run_to == "queued"]
        running = [r for r in runs if r.run_to == "running"]
        restarting = sum(1 for r in runs for c in r.changes if c["to"] == "restarting")
        if dag.parent is not None:
            parent = dag.parent.dag_id
            task_id = dag_id[len(parent) + 1:]
            cleared_too = parent in plan.selection.scopes and (
                task_id in plan.selection.scopes[parent].task_ids)
            head = f"{dag_id}: {len(runs)} sub-DAG run(s) run again when {parent}.{task_id} runs"
            lines.append(Message(head, "; it was cleared too, so the scheduler re-runs it") if cleared_too
                         else Message(head, "; it was not cleared (", Term("exclude_parentdag", "parent excluded"),
                                      "), so clear it to re-run them"))
            continue
        if driven_now(ledger, dag_id):
            parts: list[object] = [f"{dag_id}: a backfill or scheduler process is driving this DAG now; it "
                                   f"re-runs the cleared task instances of the {len(running)} run(s) it drives"]
            if restarting:
                parts.append(f", stopping the {restarting} restarting tr(ies) first (then up_for_retry)")
            if queued:
                parts += [f"; the {len(queued)} queued run(s) ({_types(queued)}) are picked up by ", SCHEDULER,
                          " after it"]
            lines.append(Message(*parts))
            continue
        held = views(ledger).backfill_held_runs(dag_id)
        for number, state in sorted({held[r.run.run_id] for r in queued if r.run.run_id in held}):
            mine = [r for r in queued if held.get(r.run.run_id) == (number, state)]
            lines.append(Message(
                f"{dag_id}: {len(mine)} queued run(s) of backfill {number} will be run by ", SCHEDULER,
                " as part of it" if state == "running" else
                f" once backfill {number} is unpaused (`ledgerflow backfill unpause {number}`), or by re-running "
                f"its command; it is paused",
            ))
        queued = [r for r in queued if r.run.run_id not in held]
        paused = views(ledger).pause_flags().get(dag_id, False)
        if queued and paused:
            lines.append(Message(
                f"{dag_id}: the DAG is paused, so its {len(queued)} queued run(s) ({_types(queued)}) wait: ",
                SCHEDULER, " runs them once it is unpaused (`ledgerflow dags unpause`), or ", BACKFILL,
                " over their dates runs them now",
            ))
        elif queued:
            lines.append(Message(
                f"{dag_id}: {len(queued)} queued run(s) ({_types(queued)}) will be run by ", SCHEDULER,
                ", which runs every queued run whatever its run_type (or by ", BACKFILL, " over their dates)",
            ))
        if running or restarting:
            lines.append(Message(
                f"{dag_id}: no process is driving {len(running)} run(s) marked running "
                f"({restarting} restarting task instance(s)); the next scheduler loop or "
                f"backfill over their dates resets and re-runs them"
            ))
    return lines
