"""Airflow's built-in timetables by class name, as schedules of ledgerflow's own model: a cron or a delta
with data intervals (CronDataInterval/DeltaDataInterval) or zero-length ones at each tick
(CronTrigger/DeltaTrigger), no schedule (Null) or one run (Once). Others (continuous, events,
custom timetables) are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature
from ledgerflow.engine.authoring.timetable import Schedule


def _zone_name(timezone: Any) -> str | None:
    if timezone is None:
        return None
    return str(getattr(timezone, "name", None) or getattr(timezone, "key", None) or timezone)


class BuiltinTimetable:
    """What a built-in timetable stands for: a schedule, its time zone, and its interval style."""

    trigger = False

    def __init__(self, schedule: Schedule, timezone: Any = None) -> None:
        self.schedule = schedule
        self.timezone = _zone_name(timezone)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.schedule!r})"


class CronDataIntervalTimetable(BuiltinTimetable):
    def __init__(self, cron: str, timezone: Any = None) -> None:
        super().__init__(cron, timezone)


class DeltaDataIntervalTimetable(BuiltinTimetable):
    def __init__(self, delta: timedelta | relativedelta) -> None:
        super().__init__(delta)


def _no_interval(name: str, interval: Any) -> None:
    empty = interval is None or interval == timedelta(0) or (isinstance(interval, relativedelta)
                                                           and interval == relativedelta())
    if not empty:
        raise unsupported_feature(f"{name}(interval=...): a trigger timetable with a data interval")


class CronTriggerTimetable(BuiltinTimetable):
    trigger = True

    def __init__(self, cron: str, *, timezone: Any = None, interval: Any = timedelta(0),
                 run_immediately: Any = False) -> None:
        _no_interval("CronTriggerTimetable", interval)
        if run_immediately is not False:
            raise unsupported_feature("CronTriggerTimetable(run_immediately=...): a first run at once, off schedule")
        super().__init__(cron, timezone)


class DeltaTriggerTimetable(BuiltinTimetable):
    trigger = True

    def __init__(self, delta: timedelta | relativedelta, *, interval: Any = timedelta(0)) -> None:
        _no_interval("DeltaTriggerTimetable", interval)
        super().__init__(delta)


class NullTimetable(BuiltinTimetable):
    def __init__(self) -> None:
        super().__init__(None)


class OnceTimetable(BuiltinTimetable):
    def __init__(self) -> None:
        super().__init__("@once")


NAMES = {cls.__name__: cls for cls in (CronDataIntervalTimetable, DeltaDataIntervalTimetable, CronTriggerTimetable,
                                       DeltaTriggerTimetable, NullTimetable, OnceTimetable)}
