"""`TriggerRule`: a str enum, so its members work wherever a rule's name does."""

from __future__ import annotations

from enum import StrEnum


class TriggerRule(StrEnum):
    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALL_SKIPPED = "all_skipped"
    ALWAYS = "always"
    DUMMY = "dummy"
    NONE_FAILED_OR_SKIPPED = "none_failed_or_skipped"

    @classmethod
    def is_valid(cls, rule: str) -> bool:
        return rule in {m.value for m in cls}

    @classmethod
    def all_triggers(cls) -> set[str]:
        return {m.value for m in cls}
