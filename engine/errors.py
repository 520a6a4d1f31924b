"""Domain errors: one root, precise names. Only the CLI turns them into exit codes."""


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
