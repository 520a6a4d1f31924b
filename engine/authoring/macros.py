"""`macros` in templates: Airflow's names (ds_add, ds_format, datetime, timedelta, dateutil, ...)."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import dateutil
import dateutil.relativedelta  # noqa: F401 (macros.dateutil.relativedelta works in templates)


def ds_add(ds: str, days: int) -> str:
    """`ds` moved by `days` days (0 returns it unchanged)."""
    if not days:
        return str(ds)
    return (datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def ds_format_locale(ds: str, input_format: str, output_format: str, locale: str | None = None) -> str:
    return ds_format(ds, input_format, output_format)


def datetime_diff_for_humans(dt: Any, since: Any = None) -> str:
    import pendulum

    return pendulum.instance(dt).diff_for_humans(pendulum.instance(since) if since else None)


class _Macros:
    """Attribute access for templates (`macros.ds_add(...)`)."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.__dict__.update(names)


MACROS: dict[str, Any] = {
    "datetime": datetime, "timedelta": timedelta, "dateutil": dateutil, "time": time, "uuid": uuid, "json": json,
    "random": random.random, "ds_add": ds_add, "ds_format": ds_format, "ds_format_locale": ds_format_locale,
    "datetime_diff_for_humans": datetime_diff_for_humans,
}
macros = _Macros(MACROS)
