"""Cron schedules evaluated in the DAG's timezone; every instant returned is UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from ledgerflow.engine.errors import DagDefinitionError

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
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


class Timetable:
    """Logical dates and data intervals of a cron schedule (None: no schedule)."""

    def __init__(self, schedule: str | None, timezone: str = "UTC") -> None:
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DagDefinitionError(f"unknown timezone {timezone!r}") from None
        self.cron = PRESETS.get(schedule, schedule) if schedule else None
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise DagDefinitionError(f"invalid schedule {schedule!r}")
        if self.cron is not None and not _fires(self.cron):
            raise DagDefinitionError(f"invalid schedule {schedule!r}: it never fires")

    @property
    def periodic(self) -> bool:
        return self.cron is not None

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
        while True:
            point = it.get_next(datetime)
            point = (point if every_hour else point.replace(tzinfo=self.zone)).astimezone(UTC)
            if point > last:
                last = point
                yield point

    def next_after(self, moment: datetime) -> datetime:
        """The first schedule point strictly after moment."""
        return next(self._iter(moment))

    def data_interval(self, logical_date: datetime) -> tuple[datetime, datetime]:
        """[logical_date, next point) for a periodic schedule, else a zero-length interval."""
        if self.cron is None:
            return logical_date, logical_date
        return logical_date, self.next_after(logical_date)

    def logical_dates(self, start: datetime, end: datetime) -> list[datetime]:
        """Schedule points in [start, end]; an off-schedule start aligns forward."""
        if self.cron is None or start > end:
            return []
        dates: list[datetime] = []
        for point in self._iter(start - _TICK):
            if point > end:
                break
            dates.append(point)
        return dates

    def intervals(self, start: datetime, end: datetime) -> dict[datetime, tuple[datetime, datetime]]:
        """Data intervals of every logical date in [start, end], from one cron walk."""
        points = self.logical_dates(start, end)
        if not points:
            return {}
        points.append(self.next_after(points[-1]))
        return {a: (a, b) for a, b in zip(points, points[1:], strict=False)}

    def is_on_schedule(self, moment: datetime) -> bool:
        return self.cron is not None and self.next_after(moment - _TICK) == moment
