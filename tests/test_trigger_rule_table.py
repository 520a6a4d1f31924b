"""Trigger rules against an independent oracle written from AIRFLOW_SEMANTICS.md §3.4 ("flag upstream failed" on).

The oracle reads the spec table literally, one row per rule, as two predicates over the counts of upstream states:
`flag` (the state the TI is pre-empted into, or None) and `passes` (the TI may run). The flag is consulted first,
because for none_failed_min_one_success the "min one success" part is enforced *only* by the flag-driven skip
(so "all skipped" both passes and is flagged, and the flag wins). Anything neither flagged nor passing waits.

`removed` is left out of the exhaustive product on purpose: §3.4 counts it as finished ("done") but no row of the
table says whether it satisfies "every upstream is success" / "success or skipped" / "skipped" (Airflow's source only
discounts removed TIs for mapped tasks). Only the rows whose wording is clear for `removed` (all_done, none_skipped,
always, and the "once all are done" flags of one_success / one_failed / one_done) are pinned, as named cases below.

all_done_setup_success: the function sees no setup/non-setup distinction, so it is checked as the spec's
"no setup upstream" case, where the rule reduces to all_done.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from ledgerflow.engine.domain.deps import RUN, SKIP, UPSTREAM_FAILED, WAIT, trigger_rule_verdict

FINISHED_STATES = ("success", "failed", "skipped", "upstream_failed")
UNFINISHED_STATES = (None, "running")
OTHER_UNFINISHED = ("scheduled", "queued", "up_for_retry", "up_for_reschedule", "restarting", "deferred")


class Counts:
    """The §3.4 counts over a list of upstream states."""

    def __init__(self, states: list[str | None]) -> None:
        c = Counter(states)
        self.upstream = len(states)
        self.success, self.failed, self.skipped = c["success"], c["failed"], c["skipped"]
        self.upstream_failed, self.removed = c["upstream_failed"], c["removed"]
        self.done = self.success + self.failed + self.skipped + self.upstream_failed + self.removed
        self.all_done = self.done == self.upstream
        self.failed_like = self.failed + self.upstream_failed


def _one_success_flag(c: Counts) -> str | None:
    if not c.all_done:
        return None
    if c.skipped == c.upstream:
        return SKIP
    return UPSTREAM_FAILED if c.success == 0 else None


# rule -> (flag: Counts -> state or None, passes: Counts -> bool), one line per row of the §3.4 table.
SPEC = {
    "all_success": (
        lambda c: UPSTREAM_FAILED if c.failed_like else SKIP if c.skipped else None,
        lambda c: c.success == c.upstream,
    ),
    "all_failed": (lambda c: SKIP if c.success or c.skipped else None, lambda c: c.failed_like == c.upstream),
    "all_done": (lambda c: None, lambda c: c.all_done),
    "all_done_setup_success": (lambda c: None, lambda c: c.all_done),
    "one_success": (_one_success_flag, lambda c: c.success >= 1),
    "one_failed": (lambda c: SKIP if c.all_done and not c.failed_like else None, lambda c: c.failed_like >= 1),
    "one_done": (
        lambda c: SKIP if c.all_done and not (c.success or c.failed) else None,
        lambda c: c.success + c.failed >= 1,
    ),
    "none_failed": (
        lambda c: UPSTREAM_FAILED if c.failed_like else None,
        lambda c: c.success + c.skipped == c.upstream,
    ),
    "none_failed_min_one_success": (
        lambda c: UPSTREAM_FAILED if c.failed_like else SKIP if c.skipped == c.upstream else None,
        lambda c: c.success + c.skipped == c.upstream,
    ),
    "none_skipped": (lambda c: SKIP if c.skipped else None, lambda c: c.all_done and not c.skipped),
    "all_skipped": (
        lambda c: SKIP if c.success or c.failed or c.upstream_failed else None,
        lambda c: c.skipped == c.upstream,
    ),
    "always": (lambda c: None, lambda c: True),
}
RULES = sorted(SPEC)


def oracle(rule: str, states: list[str | None]) -> str:
    if not states:
        return RUN  # "A task with no upstream always passes."
    flag, passes = SPEC[rule]
    c = Counts(states)
    return flag(c) or (RUN if passes(c) else WAIT)


def _upstream(states: tuple[str | None, ...]) -> dict[str, str | None]:
    return {f"u{i}": s for i, s in enumerate(states)}


def _id(rule: str, states: tuple[str | None, ...]) -> str:
    return f"{rule}:" + "+".join(s or "none" for s in states)


COMBOS = [
    combo
    for width in (1, 2, 3)
    for combo in itertools.product(FINISHED_STATES + UNFINISHED_STATES, repeat=width)
]
EXHAUSTIVE = [(rule, combo) for rule in RULES for combo in COMBOS]


@pytest.mark.parametrize(("rule", "states"), EXHAUSTIVE, ids=[_id(r, s) for r, s in EXHAUSTIVE])
def test_every_rule_matches_the_spec_for_every_combination_of_up_to_three_upstreams(rule, states):
    assert trigger_rule_verdict(rule, _upstream(states)).action == oracle(rule, list(states))


OTHER = [
    (rule, (pending, *rest))
    for rule in RULES
    for pending in OTHER_UNFINISHED
    for rest in [(), *((s,) for s in FINISHED_STATES)]
]


@pytest.mark.parametrize(("rule", "states"), OTHER, ids=[_id(r, s) for r, s in OTHER])
def test_every_other_unfinished_state_counts_as_not_done(rule, states):
    assert trigger_rule_verdict(rule, _upstream(states)).action == oracle(rule, list(states))


NAMED = [
    ("a task with no upstream always passes", "all_success", (), RUN),
    ("all_success runs when every upstream succeeded", "all_success", ("success", "success"), RUN),
    ("all_success is upstream_failed as soon as one upstream failed", "all_success", ("failed", None), UPSTREAM_FAILED),
    ("all_success prefers upstream_failed to skipped", "all_success", ("skipped", "upstream_failed"), UPSTREAM_FAILED),
    ("all_success is skipped when an upstream skipped", "all_success", ("skipped", "running"), SKIP),
    ("all_success waits while an upstream is running", "all_success", ("success", "running"), WAIT),
    ("all_failed runs when every upstream failed or upstream_failed", "all_failed", ("failed", "upstream_failed"), RUN),
    ("all_failed is skipped as soon as one upstream succeeded", "all_failed", ("success", None), SKIP),
    ("all_done runs whatever the terminal states", "all_done", ("failed", "skipped", "upstream_failed"), RUN),
    ("all_done is never pre-empted while an upstream runs", "all_done", ("failed", "running"), WAIT),
    ("all_done counts removed as finished", "all_done", ("removed", "success"), RUN),
    ("one_success runs without waiting for the others", "one_success", ("success", None), RUN),
    ("one_success is skipped when every upstream skipped", "one_success", ("skipped", "skipped"), SKIP),
    ("one_success is upstream_failed if none succeeded", "one_success", ("skipped", "failed"), UPSTREAM_FAILED),
    ("one_success is upstream_failed when every upstream was removed", "one_success", ("removed",), UPSTREAM_FAILED),
    ("one_failed runs on an upstream_failed upstream", "one_failed", ("upstream_failed", None), RUN),
    ("one_failed is skipped when all done and none failed", "one_failed", ("success", "removed"), SKIP),
    ("one_done runs on a failed upstream", "one_done", ("failed", "skipped"), RUN),
    ("one_done runs on a failed upstream without waiting", "one_done", ("failed", None), RUN),
    ("one_done does not count upstream_failed or skipped", "one_done", ("upstream_failed", "skipped"), SKIP),
    ("one_done is skipped when every upstream was removed", "one_done", ("removed", "skipped"), SKIP),
    ("none_failed runs when upstreams succeeded or skipped", "none_failed", ("success", "skipped"), RUN),
    ("none_failed is upstream_failed on upstream_failed", "none_failed", ("upstream_failed", None), UPSTREAM_FAILED),
    ("none_failed_min_one_success is skipped when all skipped", "none_failed_min_one_success", ("skipped",) * 2, SKIP),
    ("none_failed_min_one_success runs on one success", "none_failed_min_one_success", ("skipped", "success"), RUN),
    ("none_skipped is skipped as soon as one upstream skipped", "none_skipped", ("skipped", None), SKIP),
    ("none_skipped counts removed as finished", "none_skipped", ("removed", "success"), RUN),
    ("all_skipped runs when every upstream skipped", "all_skipped", ("skipped", "skipped"), RUN),
    ("all_skipped is skipped on an upstream_failed upstream", "all_skipped", ("upstream_failed", None), SKIP),
    ("all_skipped is skipped on a failed upstream", "all_skipped", ("failed", "skipped"), SKIP),
    ("always runs concurrently with its upstreams", "always", (None, "running"), RUN),
]


@pytest.mark.parametrize(("rule", "states", "expected"), [c[1:] for c in NAMED], ids=[c[0] for c in NAMED])
def test_named_spec_case(rule, states, expected):
    assert trigger_rule_verdict(rule, _upstream(states)).action == expected
    assert oracle(rule, list(states)) == expected, "the oracle itself disagrees with the spec"


D_TRIG = {  # §3.4 "Observed all together": upstreams bad (failed) and good (success)
    "all_success": UPSTREAM_FAILED, "all_failed": SKIP, "all_done": RUN, "one_success": RUN, "one_failed": RUN,
    "one_done": RUN, "none_failed": UPSTREAM_FAILED, "none_failed_min_one_success": UPSTREAM_FAILED,
    "none_skipped": RUN, "all_skipped": SKIP, "always": RUN,
}


@pytest.mark.parametrize("rule", sorted(D_TRIG))
def test_observed_d_trig_table_with_one_failed_and_one_successful_upstream(rule):
    assert trigger_rule_verdict(rule, {"bad": "failed", "good": "success"}).action == D_TRIG[rule]
    assert oracle(rule, ["failed", "success"]) == D_TRIG[rule]
