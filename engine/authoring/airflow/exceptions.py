"""The `airflow.exceptions` a task raises or a DAG file catches; the try records their meaning."""

from __future__ import annotations

from ledgerflow.engine.errors import TryFailedForGood, TrySkipped


class AirflowException(Exception):
    """Airflow's root exception: raised in a task, it fails the try (retries apply)."""


class AirflowSkipException(AirflowException, TrySkipped):
    """Raised in a task: the task instance is skipped."""


class AirflowFailException(AirflowException, TryFailedForGood):
    """Raised in a task: the task instance fails without its retries."""


class AirflowNotFoundException(AirflowException):
    pass


class AirflowBadRequest(AirflowException):
    pass


class AirflowConfigException(AirflowException):
    pass


class AirflowTaskTimeout(AirflowException):
    pass


class AirflowSensorTimeout(AirflowException, TryFailedForGood):
    """A sensor ran past its timeout: it fails without its retries."""


class ParamValidationError(AirflowException):
    pass


class DuplicateTaskIdFound(AirflowException):
    pass


class XComNotFound(AirflowException):
    pass


NAMES = {cls.__name__: cls for cls in (
    AirflowException, AirflowSkipException, AirflowFailException, AirflowNotFoundException, AirflowBadRequest,
    AirflowConfigException, AirflowTaskTimeout, AirflowSensorTimeout, ParamValidationError, DuplicateTaskIdFound,
    XComNotFound)}
