"""Values the event store can keep and every later command can read back.

An accepted value is appended as JSON, folded into the views' text, integer and
jsonb columns (sql/001_views.sql, sql/004_audit_entry.sql) and read by every
later command: one value that any of these cannot hold would make the store
unreadable. So each input is checked here, before anything is appended, and
refused with the name its face gives it (`what`: text and engine.errors.Term).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from ledgerflow.engine.errors import BadValue

INT4_MAX = 2**31 - 1  # integer columns: pool.slots, task_instance.try_number and max_tries
INT8_MAX = 2**63 - 1  # bigint: positions, versions, a LIMIT
MAX_RETRIES = INT4_MAX // 2  # max_tries is a try number plus the retries: room for both
MAX_DURATION = timedelta(days=36_500)  # a century: any date plus it is still a date
JSON_DEPTH = 100  # jsonb, the C JSON codec and the fold all recurse; well inside each limit
_INT_BITS = 14_000  # Python prints no integer of more than 4300 digits (about 14,284 bits)


def _shown(value: object) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def text(value: str, what: object) -> str:
    """Text PostgreSQL can store: no NUL character, no lone surrogate (it has no UTF-8 form)."""
    if "\x00" in value:
        raise BadValue(what, " contains a NUL character, which PostgreSQL cannot store")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadValue(what, f" contains a lone surrogate ({value[exc.start]!r}), which is not UTF-8 text") from None
    return value


def integer(value: object, what: object, *, low: int = 0, high: int = INT4_MAX) -> int:
    """An integer (not a bool: JSON's true is no count) within the column that will hold it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(what, f" must be an integer, not {_shown(value)}")
    if not low <= value <= high:
        raise BadValue(what, f" must be between {low} and {high}, not {_shown(value)}")
    return value


def number(value: object, what: object, *, low: float = 0.0) -> float:
    """A finite number of at least `low`: strict JSON has no NaN or Infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(what, f" must be a number, not {_shown(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond any float
        finite = False
    if not finite:
        raise BadValue(what, f" must be a finite number, not {_shown(value)}")
    if value < low:
        raise BadValue(what, f" must be >= {low:g}, not {_shown(value)}")
    return float(value)


def duration(value: object, what: object) -> timedelta:
    """A timedelta, or a number of seconds, from 0 up to MAX_DURATION."""
    span = value if isinstance(value, timedelta) else None
    if span is None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValue(what, f" must be a timedelta or a number of seconds, not {_shown(value)}")
        seconds = number(value, what)
        span = MAX_DURATION + timedelta(1) if seconds > MAX_DURATION.total_seconds() else timedelta(seconds=seconds)
    if not timedelta(0) <= span <= MAX_DURATION:
        raise BadValue(what, f" must be between 0 and {MAX_DURATION.days} days, not {_shown(value)}")
    return span


def json_document(value: Any, what: object, *, depth: int = JSON_DEPTH) -> Any:
    """A JSON value the store keeps as it is: strict JSON (no NaN or Infinity), text without
    NUL or lone surrogates, string keys, at most `depth` levels. Walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > depth:
            raise BadValue(what, f" is nested more than {depth} levels deep")
        if isinstance(item, str):
            text(item, what)
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if item.bit_length() > _INT_BITS:
                raise BadValue(what, f" holds {_shown(item)}, too large to store")
        elif isinstance(item, float):
            if not math.isfinite(item):
                name = {"nan": "NaN", "inf": "Infinity"}.get(repr(abs(item)), repr(item))
                raise BadValue(what, f" holds {'-' if item < 0 else ''}{name}, which strict JSON "
                                     f"(and PostgreSQL's jsonb) cannot hold")
        elif isinstance(item, list | tuple):
            stack.extend((v, level + 1) for v in item)
        elif isinstance(item, dict):
            for key, v in item.items():
                if not isinstance(key, str):
                    raise BadValue(what, f" has a key {_shown(key)} that is not text")
                text(key, what)
                stack.append((v, level + 1))
        else:
            raise BadValue(what, f" holds a {type(item).__name__}, which is not JSON")
    return value


def storable_text(value: str) -> str:
    """Text recorded as it came (a try's error message): NUL and lone surrogates escaped, not refused."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
