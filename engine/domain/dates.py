"""Parsing of the CLI's date arguments and ISO rendering of stored instants."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from ledgerflow.engine.errors import BadDate, Term

# Python's datetimes end at years 1 and 9999; the time zones, schedules and look-backs worked
# out from a date need years of room on either side, so a date given by a person is kept within these.
FIRST_YEAR, LAST_YEAR = 1000, 8999
_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?")


def parse_date(text: str, zone: tzinfo | str = UTC, *, what: str = "date") -> datetime:
    """YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM] in years FIRST_YEAR..LAST_YEAR; naive values are in `zone`; returns UTC.
    `what` names the date in a refusal (a Term: start_date, as_of, ...)."""
    value = (text or "").strip()
    if not _FORMAT.fullmatch(value):
        raise BadDate("invalid ", Term(what), f" {text!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[+HH:MM]")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadDate("invalid ", Term(what), f" {text!r}: {exc}") from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise BadDate("invalid ", Term(what), f" {text!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone) if isinstance(zone, str) else zone)
    return parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with +00:00, as the JSON contract requires."""
    return moment.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def now() -> datetime:
    return datetime.now(UTC)
