"""Date helpers DAG files use: `days_ago` (Airflow 2) and `airflow.utils.timezone`, as pendulum values."""

from __future__ import annotations

import os
import warnings
from datetime import datetime as _datetime
from datetime import timedelta
from typing import Any

import pendulum

utc = pendulum.UTC


class Zone:
    """A DAG's time zone: the zone of its start_date, else `[core] default_timezone` (UTC)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def aware(self, value: Any) -> _datetime | None:
        """A start or end date as an aware UTC instant: naive ones are in this zone, text is ISO."""
        if value is None:
            return None
        if isinstance(value, str):
            value = pendulum.parse(value, tz=self.name)
        if not isinstance(value, _datetime):
            raise TypeError(f"a date must be a datetime, not {value!r}")
        if value.tzinfo is None:
            value = pendulum.instance(value, tz=self.name)
        return value.astimezone(utc)


def default_zone() -> str:
    configured = os.environ.get("AIRFLOW__CORE__DEFAULT_TIMEZONE", "utc").strip()
    if configured.lower() == "utc":
        return "UTC"
    if configured.lower() == "system":
        return pendulum.local_timezone().name
    return configured


def zone_of(start: Any) -> Zone:
    tz = getattr(start, "tzinfo", None)
    if tz is None:
        return Zone(default_zone())
    name = getattr(tz, "name", None) or getattr(tz, "key", None)
    if name in (None, "+00:00") or (name and name.startswith(("+", "-"))):
        if start.utcoffset() != timedelta(0):
            from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature

            raise unsupported_feature(f"start_date {start!r} with a fixed UTC offset (use a named time zone)")
        name = "UTC"
    return Zone(name)


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0) -> _datetime:
    """Today's UTC midnight (or the given time) minus n days: it moves every day, as Airflow warns."""
    warnings.warn("days_ago is deprecated: pass a fixed start_date", DeprecationWarning, stacklevel=2)
    today = pendulum.now("UTC").replace(hour=hour, minute=minute, second=second, microsecond=microsecond)
    return today - timedelta(days=n)


def datetime(*args: Any, **kwargs: Any) -> _datetime:
    """A datetime in the default time zone (UTC) unless one is given."""
    kwargs.setdefault("tzinfo", utc)
    return _datetime(*args, **kwargs)


def utcnow() -> _datetime:
    return pendulum.now("UTC")


def convert_to_utc(value: _datetime | None) -> _datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=utc)).astimezone(utc)


def make_aware(value: _datetime, timezone: Any = None) -> _datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone or utc)


def parse(text: str, timezone: Any = None) -> _datetime:
    return pendulum.parse(text, tz=timezone or utc)  # type: ignore[return-value]
