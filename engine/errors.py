"""Domain errors: one root, precise names. Only the faces turn them into exit codes (or HTTP statuses).

A task try's own failures have a root of their own (TryFailure): they are recorded
with the try, never shown as the refusal of a command.
"""


class LedgerflowError(Exception):
    """Root of every error the engine raises on purpose."""


class InvalidInput(LedgerflowError):
    """The command was refused before anything was written (exit code 2)."""


class DagNotFound(InvalidInput):
    pass


class BrokenDagFile(InvalidInput):
    pass


class DagDefinitionError(InvalidInput):
    """A DAG file built an invalid DAG (cycle, duplicate task id, bad trigger rule)."""


class BadDate(InvalidInput):
    pass


class BadConf(InvalidInput):
    pass


class RunNotFound(InvalidInput):
    pass


class RefusedCommand(InvalidInput):
    """Valid input that the current state forbids (depends_on_past, running runs...)."""


class ConcurrentModification(LedgerflowError):
    """Another operation appended to the same aggregate first; re-plan and retry."""


class DatabaseUnavailable(LedgerflowError):
    pass


class OperationNotFound(InvalidInput):
    pass


class BadDigest(InvalidInput):
    """A digest or export file that cannot be read as one."""


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


class SubDagFailed(TryFailure):
    """The child run did not end success, so the parent's try fails."""
