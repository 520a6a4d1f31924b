"""Airflow's trigger rules, and the old names Airflow 2 still accepts for two of them."""

from __future__ import annotations

TRIGGER_RULES = frozenset(
    {
        "all_success",
        "all_failed",
        "all_done",
        "all_done_setup_success",
        "one_success",
        "one_failed",
        "one_done",
        "none_failed",
        "none_failed_min_one_success",
        "none_skipped",
        "all_skipped",
        "always",
    }
)
RULE_ALIASES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
