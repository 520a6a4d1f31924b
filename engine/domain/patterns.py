"""Regular expressions users give (task and DAG selections): compiled once, matched in bounded time.

The syntax is Python's `re`, as in Airflow, and `re` checks it. `re` cannot be
stopped once it matches (it holds the interpreter, Ctrl-C included), so a
catastrophic pattern such as `(a|a)+$` would hang the command; the `regex`
package, which reads the same syntax the same way (tests/test_patterns.py checks
it), matches instead, with a timeout. Two places where they differ are refused
rather than read one way or the other: a POSIX class inside a set (`[[:alpha:]]`),
which `re` reads as the characters `[:alph`, and counted repetitions so large that
`regex` would spend unbounded time and memory unrolling them when it compiles.
"""

from __future__ import annotations

import importlib
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from ledgerflow.engine.errors import InvalidInput, Term

MATCH_SECONDS = 1.0  # for every search of one pattern together: ids are short, sane patterns take microseconds
MAX_STEPS = 100_000  # pattern nodes once counted repetitions are unrolled
_POSIX_IN_SET = re.compile(r"\[[^\]]*\[:\^?\w*:\]")
_sre = importlib.import_module("re._parser")  # re's own parser: the pattern as re reads it
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


class TaskPattern:
    """An unanchored search whose matches, all together, take at most MATCH_SECONDS."""

    def __init__(self, text: str, what: str, compiled: Any) -> None:
        self.text = text
        self.what = what
        self._compiled = compiled  # a regex.Pattern
        self._left = MATCH_SECONDS
        self._seen: dict[str, bool] = {}

    def search(self, candidate: str) -> bool:
        """True when the pattern occurs in `candidate`; the same id asked again costs nothing."""
        if candidate in self._seen:
            return self._seen[candidate]
        started = time.monotonic()
        try:
            found = self._compiled.search(candidate, timeout=max(self._left, 0.001)) is not None
        except TimeoutError:
            raise InvalidInput(
                Term(self.what), f" {self.text!r} took too long to match {candidate!r} "
                f"(over {MATCH_SECONDS:g} s): write one that does not backtrack so much"
            ) from None
        self._left -= time.monotonic() - started
        self._seen[candidate] = found
        return found


def compile_pattern(text: str, what: str = "task_regex") -> TaskPattern:
    """The pattern `what` (a Term: task_regex or dag_regex) names, or a one-line refusal."""
    import regex  # imported here: a read command without -t never pays for it

    def refuse(why: object) -> InvalidInput:
        return InvalidInput("invalid ", Term(what), f" {text!r}: {why}")

    with warnings.catch_warnings():  # "possible nested set": both read `[[` as re does today
        warnings.simplefilter("ignore", FutureWarning)
        try:
            re.compile(text)
            steps = _steps(_sre.parse(text))
        except (re.error, ValueError, OverflowError, RecursionError) as exc:
            raise refuse(exc) from None
        if _POSIX_IN_SET.search(text):
            raise refuse("POSIX classes such as [:alpha:] are not Python regex syntax; use [a-zA-Z], \\d or \\w")
        if steps > MAX_STEPS:
            raise refuse(f"its counted repetitions unroll to more than {MAX_STEPS} steps")
        try:
            return TaskPattern(text, what, regex.compile(text))
        except (regex.error, ValueError, OverflowError, RecursionError) as exc:
            raise refuse(exc) from None


def _steps(items: Iterable[tuple[Any, Any]]) -> int:
    """How many nodes the pattern has with every counted repetition unrolled, as `regex` compiles it."""
    total = 0
    for op, arg in items:
        if str(op) in _REPEATS:
            low, high, body = arg
            total += max(1, low if high == _sre.MAXREPEAT else high) * _steps(body)
        else:
            total += 1 + sum(_steps(part) for part in _parts(arg))
    return total


def _parts(arg: Any) -> Iterator[Any]:
    """The sub-patterns inside an item's argument (groups, branches, lookarounds)."""
    if isinstance(arg, _sre.SubPattern):
        yield arg
    elif isinstance(arg, tuple | list):
        for part in arg:
            yield from _parts(part)
