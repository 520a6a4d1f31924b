"""Domain errors: one root, precise names. Only the faces turn them into exit codes (or HTTP statuses).

Messages speak of the domain. A word that a face names its own way (the CLI says
`--conf` where the domain says conf, an HTTP API would name its field) is a Term:
`str(error)` reads in the domain's words, `error.say(names)` in a face's.

A task try's own failures have a root of their own (TryFailure): they are recorded
with the try, never shown as the refusal of a command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class Term(str):
    """A domain word of a message that a face may replace with its own name for it."""

    key: str

    def __new__(cls, key: str, words: str | None = None) -> Term:
        term = super().__new__(cls, key.replace("_", " ") if words is None else words)
        term.key = key
        return term


class Message:
    """Text and Terms: `str()` reads in the domain's words, `say(names)` in a face's."""

    def __init__(self, *parts: object) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return "".join(map(str, self.parts))

    def __repr__(self) -> str:
        return f"Message({str(self)!r})"

    def say(self, names: Mapping[str, str]) -> str:
        """The message with each Term a face has a name for said by that name."""
        return "".join(names.get(p.key, p) if isinstance(p, Term) else str(p) for p in self.parts)


class LedgerflowError(Exception):
    """Root of every error the engine raises on purpose; its message is text and Terms."""

    def __init__(self, *parts: object) -> None:
        self.message = Message(*parts)
        super().__init__(str(self.message))

    def say(self, names: Mapping[str, str]) -> str:
        return self.message.say(names)


class InvalidInput(LedgerflowError):
    """The command was refused before anything was written (exit code 2)."""


class NotFound(InvalidInput):
    """What was asked for does not exist (HTTP 404)."""


class DagNotFound(NotFound):
    pass


class BrokenDagFile(InvalidInput):
    pass


class DagDefinitionError(InvalidInput):
    """A DAG file built an invalid DAG (cycle, duplicate task id, bad trigger rule)."""


class BadDate(InvalidInput):
    pass


class BadConf(InvalidInput):
    pass


class RunNotFound(NotFound):
    pass


class BackfillNotFound(NotFound):
    """No backfill has that id (the HTTP API answers 404)."""


class BadValue(InvalidInput):
    """A value the store could not keep or the views could not fold (engine.domain.values)."""


class RefusedCommand(InvalidInput):
    """Valid input that the current state forbids (depends_on_past, running runs...)."""


class AlreadyExists(RefusedCommand):
    """A create of something that exists already (HTTP 409)."""


class Conflict(RefusedCommand):
    """Refused because of the state something is in right now: a second active backfill, a pause of a
    finished one (HTTP 409)."""


class NotAuthenticated(LedgerflowError):
    """No valid credentials: a wrong password, an unknown or disabled user, a bad token (HTTP 401)."""


class Forbidden(RefusedCommand):
    """The user's role does not allow the call (HTTP 403); nothing was written."""


class Throttled(RefusedCommand):
    """Too many refused logins in a short time (HTTP 429)."""


class ConcurrentModification(LedgerflowError):
    """Another operation appended to the same aggregate first; re-plan and retry."""


class DatabaseUnavailable(LedgerflowError):
    pass


class OperationNotFound(NotFound):
    pass


class BadDigest(InvalidInput):
    """A digest or export file that cannot be read as one."""


class LineageWouldBreak(RefusedCommand):
    """A clear of a depends_on_past task before later finished runs, neither extended nor accepted."""

    def __init__(self, breaks: Sequence[Any], lines: str) -> None:
        super().__init__(
            f"clearing would break the depends_on_past lineage of later runs: {lines}. Clear those runs too (",
            Term("future"), "), or accept the break (", Term("break_lineage", "break lineage"), ", with ",
            Term("reason", "a reason"), ")",
        )
        self.breaks = breaks


class ViewsStuck(LedgerflowError):
    """The views cannot fold the event at `position`: they hold everything before it, and stop there."""

    def __init__(self, position: int, event: str, problem: str) -> None:
        super().__init__(f"the views stop before position {position}: its event ({event}) cannot be folded "
                         f"({problem}); reads show the state before it")
        self.position = position


class Interrupted(LedgerflowError):
    """A driver was stopped by a signal; what it finished is recorded."""


class ChainBroken(LedgerflowError):
    """The first position where the audit hash chain does not hold."""

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"position {position}: {problem}")
        self.position = position
        self.problem = problem


class TryFailure(Exception):
    """Why a task try failed, as recorded with the try."""


class ExecutionTimeout(TryFailure):
    pass


class DagFileChanged(TryFailure):
    """The DAG file differs from the version the command planned with: the try did not run."""


class SubDagFailed(TryFailure):
    """The child run did not end success, so the parent's try fails."""


class TrySkipped(Exception):  # noqa: N818 (what happened, as Airflow's AirflowSkipException says it)
    """Raised by a task: its task instance is skipped, not failed."""


class TryFailedForGood(TryFailure):
    """Raised by a task: it fails without using its retries."""
