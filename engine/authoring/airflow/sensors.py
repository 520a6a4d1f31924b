"""Sensors in poke mode: `poke(context)` is called every poke_interval seconds within one try until it
is truthy (or a PokeReturnValue that is done, whose xcom_value is the return value). Past `timeout`
seconds the try fails without its retries (AirflowSensorTimeout), or is skipped with soft_fail or
never_fail. `mode="reschedule"` runs as poke mode, holding its slot between pokes; a deferrable
sensor is refused."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledgerflow.engine.authoring.airflow.bash_process import run_bash
from ledgerflow.engine.authoring.airflow.calling import CallableFields, call_callable
from ledgerflow.engine.authoring.airflow.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
)
from ledgerflow.engine.authoring.airflow.operators import BaseOperator
from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature
from ledgerflow.engine.errors import DagDefinitionError, ExecutionTimeout


@dataclass
class PokeReturnValue:
    is_done: bool
    xcom_value: Any = None

    def __bool__(self) -> bool:
        return self.is_done


def _seconds(value: Any, what: str) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise DagDefinitionError(f"{what} must be 0 or more seconds, not {value!r}")
    return seconds


class BaseSensorOperator(BaseOperator):
    ui_color = "#e6f1f2"

    def __init__(self, *, poke_interval: Any = 60, timeout: Any = 604800, soft_fail: bool = False,
                 mode: str = "poke", exponential_backoff: bool = False, max_wait: Any = None,
                 silent_fail: bool = False, never_fail: bool = False, deferrable: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("poke", "reschedule"):
            raise AirflowException(f"The mode must be one of ('poke', 'reschedule'),'{self.task_id}' has '{mode}'.")
        if deferrable:
            raise unsupported_feature(f"task {self.task_id!r}: deferrable sensors")
        if soft_fail and never_fail:
            raise ValueError("soft_fail and never_fail are mutually exclusive, you can not provide both.")
        self.poke_interval = _seconds(poke_interval, f"task {self.task_id!r}: poke_interval")
        self.timeout = _seconds(timeout, f"task {self.task_id!r}: timeout")
        self.max_wait = None if max_wait is None else _seconds(max_wait, f"task {self.task_id!r}: max_wait")
        self.soft_fail, self.mode, self.exponential_backoff = soft_fail, mode, exponential_backoff
        self.silent_fail, self.never_fail = silent_fail, never_fail

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        raise AirflowException(f"{type(self).__name__} must override poke(context)")

    def _interval(self, pokes: int) -> float:
        if not self.exponential_backoff:
            return self.poke_interval
        grown = self.poke_interval * 2 ** min(pokes - 1, 60)
        return grown if self.max_wait is None else min(grown, self.max_wait)

    def _poke_once(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        try:
            return self.poke(context)
        except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException, ExecutionTimeout,
                AirflowSkipException):
            raise
        except Exception:
            if self.silent_fail:
                self.log.exception("Sensor poke failed; poking again (silent_fail)")
                return False
            if self.never_fail:
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from None
            raise

    def execute(self, context: dict[str, Any]) -> Any:
        started = time.monotonic()
        pokes = 0
        try:
            while True:
                pokes += 1
                result = self._poke_once(context)
                if result:
                    return result.xcom_value if isinstance(result, PokeReturnValue) else None
                if time.monotonic() - started > self.timeout:
                    raise AirflowSensorTimeout(f"Sensor has timed out; run duration of "
                                               f"{time.monotonic() - started:.1f} seconds exceeds the specified "
                                               f"timeout of {self.timeout:g}.")
                self.log.info("Poking again in %s seconds", f"{self._interval(pokes):g}")
                time.sleep(self._interval(pokes))
        except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException, ExecutionTimeout) as exc:
            if self.soft_fail or self.never_fail:
                flag = "soft_fail" if self.soft_fail else "never_fail"
                raise AirflowSkipException(f"Skipping due to {flag} is set to True.") from exc
            raise


class PythonSensor(CallableFields, BaseSensorOperator):
    """Pokes by calling python_callable as PythonOperator calls it."""

    def __init__(self, *, python_callable: Callable[..., Any], op_args: Iterable[Any] | None = None,
                 op_kwargs: dict[str, Any] | None = None, templates_dict: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.take_callable(python_callable, op_args, op_kwargs, templates_dict)

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        found = call_callable(self.python_callable, self.op_args,
                              {**context, **self.op_kwargs, "templates_dict": self.templates_dict})
        return found if isinstance(found, PokeReturnValue) else bool(found)


class BashSensor(BaseSensorOperator):
    """Pokes by running bash_command: exit code 0 is done."""

    template_fields: tuple[str, ...] = ("bash_command", "env")

    def __init__(self, *, bash_command: str, env: dict[str, str] | None = None, output_encoding: str = "utf-8",
                 retry_exit_code: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bash_command, self.env, self.output_encoding = bash_command, env, output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context: dict[str, Any]) -> bool:
        import os

        code, _ = run_bash(self.bash_command, os.environ if self.env is None else self.env, None,
                           self.output_encoding)
        if self.retry_exit_code is not None and code not in (0, self.retry_exit_code):
            raise AirflowFailException(f"Command exited with return code {code}")
        return code == 0


class TimeDeltaSensor(BaseSensorOperator):
    """Waits until `delta` after the run's data_interval_end."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delta = delta

    def poke(self, context: dict[str, Any]) -> bool:
        from ledgerflow.engine.domain.dates import now

        target: datetime = context["data_interval_end"] + self.delta
        return bool(now() > target)


class DateTimeSensor(BaseSensorOperator):
    """Waits until `target_time` (templated: a datetime or ISO text, naive in UTC) has passed."""

    template_fields: tuple[str, ...] = ("target_time",)

    def __init__(self, *, target_time: str | datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_time, str | datetime):
            raise TypeError(f"Expected str or datetime.datetime type for target_time. Got {type(target_time)}")
        self.target_time = target_time if isinstance(target_time, str) else target_time.isoformat()

    def poke(self, context: dict[str, Any]) -> bool:
        import pendulum

        from ledgerflow.engine.domain.dates import now

        target = pendulum.parse(str(self.target_time), tz="UTC")
        if not isinstance(target, datetime):
            raise TypeError(f"target_time {self.target_time!r} is not a date and time")
        return bool(now() > target)


class DecoratedSensor(PythonSensor):
    """`@task.sensor`: the function is the poke; a PokeReturnValue's xcom_value is its result."""
