"""Whether a task instance may run: trigger rules and depends_on_past, as pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledgerflow.engine.domain.run_state import FAILED_LIKE, FINISHED, SUCCESS_LIKE

RUN, WAIT, SKIP, UPSTREAM_FAILED = "run", "wait", "skipped", "upstream_failed"


@dataclass(frozen=True)
class Verdict:
    action: str  # RUN, WAIT, SKIP or UPSTREAM_FAILED
    reason: str = ""


_GO = Verdict(RUN)


def trigger_rule_verdict(rule: str, upstream: dict[str, str | None]) -> Verdict:
    """Airflow's trigger rules with "flag upstream failed" on, over direct upstream states."""
    if not upstream:
        return _GO
    states = list(upstream.values())
    n = len(states)
    success = sum(s == "success" for s in states)
    skipped = sum(s == "skipped" for s in states)
    failed = sum(s == "failed" for s in states)
    up_failed = sum(s == "upstream_failed" for s in states)
    done = sum(s in FINISHED for s in states)
    all_done = done == n

    def waiting() -> Verdict:
        pending = sorted(t for t, s in upstream.items() if s not in FINISHED)
        return Verdict(WAIT, f"waiting for upstream {', '.join(pending)}")

    if rule == "always":
        return _GO
    if rule == "all_success":
        if failed or up_failed:
            return Verdict(UPSTREAM_FAILED, "an upstream failed")
        if skipped:
            return Verdict(SKIP, "an upstream was skipped")
        return _GO if success == n else waiting()
    if rule == "all_failed":
        if success or skipped:
            return Verdict(SKIP, "an upstream did not fail")
        return _GO if failed + up_failed == n else waiting()
    if rule in ("all_done", "all_done_setup_success"):
        return _GO if all_done else waiting()
    if rule == "one_success":
        if success:
            return _GO
        if all_done:
            if skipped == n:
                return Verdict(SKIP, "all upstreams were skipped")
            return Verdict(UPSTREAM_FAILED, "no upstream succeeded")
        return waiting()
    if rule == "one_failed":
        if failed or up_failed:
            return _GO
        return Verdict(SKIP, "no upstream failed") if all_done else waiting()
    if rule == "one_done":
        if success or failed:
            return _GO
        return Verdict(SKIP, "no upstream succeeded or failed") if all_done else waiting()
    if rule == "none_failed":
        if failed or up_failed:
            return Verdict(UPSTREAM_FAILED, "an upstream failed")
        return _GO if all_done else waiting()
    if rule == "none_failed_min_one_success":
        if failed or up_failed:
            return Verdict(UPSTREAM_FAILED, "an upstream failed")
        if all_done:
            return Verdict(SKIP, "all upstreams were skipped") if skipped == n else _GO
        return waiting()
    if rule == "none_skipped":
        if skipped:
            return Verdict(SKIP, "an upstream was skipped")
        return _GO if all_done else waiting()
    if rule == "all_skipped":
        if success or failed or up_failed:
            return Verdict(SKIP, "an upstream did not skip")
        return _GO if skipped == n else waiting()
    raise ValueError(f"unknown trigger rule {rule}")


def past_verdict(
    task_id: str,
    downstream: Iterable[str],
    wait_for_downstream: bool,
    previous: dict[str, str | None] | None,
    previous_label: str,
    task_ran_before: bool,
) -> Verdict:
    """depends_on_past against the previous run's task instances (None: no previous run)."""
    if previous is None:
        return _GO
    if task_id not in previous:
        if task_ran_before:
            return Verdict(WAIT, f"depends_on_past, previous run {previous_label} has no {task_id}")
        return _GO
    state = previous[task_id]
    if state not in SUCCESS_LIKE:
        return Verdict(
            WAIT, f"depends_on_past, previous run {previous_label} is {state or 'not run'}"
        )
    if wait_for_downstream:
        for child in sorted(downstream):
            child_state = previous.get(child, "success")
            if child_state not in SUCCESS_LIKE:
                return Verdict(
                    WAIT,
                    f"wait_for_downstream, {child} in previous run {previous_label} "
                    f"is {child_state or 'not run'}",
                )
    return _GO


def run_outcome(states: dict[str, str | None], leaves: Iterable[str]) -> str | None:
    """The run's final state once every task instance finished, else None (Airflow update_state)."""
    if any(s not in FINISHED for s in states.values()):
        return None
    leaf_states = [states[t] for t in leaves if t in states and states[t] != "removed"]
    if any(s in FAILED_LIKE for s in leaf_states):
        return "failed"
    return "success"
