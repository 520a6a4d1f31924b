"""Schedules (cron and presets in the DAG's timezone, `@once`, a timedelta or relativedelta, or none);
every instant returned is UTC.

A data-interval schedule (Airflow 2's, and ledgerflow's own) gives a run the interval up to the
next point; a trigger schedule (Airflow 3's default for Airflow DAG files) a zero-length one.
A delta schedule steps from the start it is walked from, as Airflow's delta timetables do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from dateutil.relativedelta import relativedelta

from ledgerflow.engine.errors import DagDefinitionError

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_TICK = timedelta(microseconds=1)
_SOME_DAY = datetime(2000, 1, 1)


@cache
def _fires(cron: str) -> bool:
    """A valid cron may name a day no month has (30 February): refused when the DAG is built,
    not when its schedule is first walked. Cached: DAG folders share a few schedules."""
    try:
        croniter(cron, _SOME_DAY).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


Schedule: TypeAlias = str | timedelta | relativedelta | None


def describe(schedule: Schedule) -> str | None:
    """The schedule as text (listings and JSON show it)."""
    if schedule is None or isinstance(schedule, str):
        return schedule
    return repr(schedule) if isinstance(schedule, relativedelta) else str(schedule)


class Timetable:
    """Logical dates and data intervals of a schedule (None: no schedule)."""

    def __init__(self, schedule: Schedule, timezone: str = "UTC", *, trigger: bool = False) -> None:
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DagDefinitionError(f"unknown timezone {timezone!r}") from None
        self.trigger = trigger
        self.once = schedule == "@once"
        self.delta: timedelta | relativedelta | None = None
        self.cron: str | None = None
        if isinstance(schedule, timedelta | relativedelta):
            probe = _SOME_DAY + schedule
            if probe <= _SOME_DAY:
                raise DagDefinitionError(f"invalid schedule {describe(schedule)!r}: it must move forward")
            self.delta = schedule
        elif schedule and not self.once:
            if not isinstance(schedule, str):
                raise DagDefinitionError(f"schedule={schedule!r} is not supported: use a cron expression, a preset, "
                                         f"@once, None, a timedelta or a relativedelta")
            self.cron = PRESETS.get(schedule, schedule)
            if not croniter.is_valid(self.cron):
                raise DagDefinitionError(f"invalid schedule {schedule!r}")
            if not _fires(self.cron):
                raise DagDefinitionError(f"invalid schedule {schedule!r}: it never fires")

    @property
    def periodic(self) -> bool:
        return self.cron is not None or self.delta is not None or self.once

    def _step(self, moment: datetime) -> datetime:
        """A delta schedule's next point: a timedelta in absolute time, a relativedelta on the wall clock."""
        assert self.delta is not None
        if isinstance(self.delta, timedelta):
            return moment + self.delta
        return (moment.astimezone(self.zone) + self.delta).astimezone(UTC)

    def previous_before(self, moment: datetime, hint: timedelta | None = None) -> datetime | None:
        """The last schedule point strictly before moment (None: no schedule, or @once); `hint`, the
        length of the interval after it, sizes the first window searched."""
        if self.delta is not None:
            if isinstance(self.delta, timedelta):
                return moment - self.delta
            return (moment.astimezone(self.zone) - self.delta).astimezone(UTC)
        if self.cron is None:
            return None
        back = max(2 * hint, timedelta(minutes=2)) if hint else timedelta(hours=2)
        while back < timedelta(days=1500):
            points = self.logical_dates(moment - back, moment - _TICK)
            if points:
                return points[-1]
            back *= 4
        return None

    def _iter(self, after: datetime) -> Iterator[datetime]:
        local = after.astimezone(self.zone)
        try:
            every_hour = croniter(self.cron).expanded[1] == ["*"]
            # A fixed-hour cron is wall-clock time: once per local day even when DST
            # repeats an hour, and a skipped time moves forward by the gap (as Airflow).
            # Stepping starts one gap earlier so a moved time just after `after` is found.
            day_before = (after - timedelta(days=1)).astimezone(self.zone)
            offset, offset_before = local.utcoffset(), day_before.utcoffset()
            assert offset is not None and offset_before is not None  # astimezone(zone) is aware
            gap = max(timedelta(0), offset - offset_before)
            wall = local.replace(tzinfo=None) - gap
            it = croniter(self.cron, local if every_hour else wall)
        except CroniterBadCronError as exc:  # pragma: no cover - validated in __init__
            raise DagDefinitionError(str(exc)) from None
        last = after
        if self._hourly_in_utc():  # the same minute of every hour: one step of an hour, no cron walk
            point = it.get_next(datetime).astimezone(UTC)
            while True:
                yield point
                point += timedelta(hours=1)
        while True:
            point = it.get_next(datetime)
            point = (point if every_hour else point.replace(tzinfo=self.zone)).astimezone(UTC)
            if point > last:
                last = point
                yield point

    def _hourly_in_utc(self) -> bool:
        """A cron firing at one minute of every hour of every day, in UTC (no offset change ever)."""
        fields = croniter(self.cron).expanded
        return (str(self.zone) == "UTC" and len(fields[0]) == 1 and fields[0] != ["*"]
                and all(f == ["*"] for f in fields[1:]))

    def next_after(self, moment: datetime) -> datetime:
        """The first schedule point strictly after moment (@once: the moment itself has passed)."""
        if self.delta is not None:
            return self._step(moment)
        if self.once:
            return moment + _TICK
        return next(self._iter(moment))

    def data_interval(self, logical_date: datetime) -> tuple[datetime, datetime]:
        """[logical_date, next point) for a periodic data-interval schedule, else a zero-length interval."""
        if self.trigger or self.once or not self.periodic:
            return logical_date, logical_date
        return logical_date, self.next_after(logical_date)

    def logical_dates(self, start: datetime, end: datetime) -> list[datetime]:
        """Schedule points in [start, end]; an off-schedule start aligns forward (a delta steps from start)."""
        if not self.periodic or start > end:
            return []
        if self.once:
            return [start]
        dates: list[datetime] = []
        points = self._deltas(start) if self.delta is not None else self._iter(start - _TICK)
        for point in points:
            if point > end:
                break
            dates.append(point)
        return dates

    def intervals(self, start: datetime, end: datetime) -> dict[datetime, tuple[datetime, datetime]]:
        """Data intervals of every logical date in [start, end], from one cron walk."""
        points = self.logical_dates(start, end)
        if not points:
            return {}
        if self.trigger or self.once:
            return {a: (a, a) for a in points}
        points.append(self.next_after(points[-1]))
        return {a: (a, b) for a, b in zip(points, points[1:], strict=False)}

    def _deltas(self, start: datetime) -> Iterator[datetime]:
        point = start
        while True:
            yield point
            point = self._step(point)

    def is_on_schedule(self, moment: datetime) -> bool:
        return self.cron is not None and self.next_after(moment - _TICK) == moment
