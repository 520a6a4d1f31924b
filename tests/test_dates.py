"""Date arguments (-s, -e, --as-of) and the ISO rendering of stored instants."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledgerflow.engine.domain.dates import from_iso, iso, now, parse_date
from ledgerflow.engine.errors import BadDate, InvalidInput


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-02", utc(2024, 1, 2)),
    ("2024-01-02T03:04", utc(2024, 1, 2, 3, 4)),
    ("2024-01-02T03:04:05", utc(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02 03:04:05", utc(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05.250", utc(2024, 1, 2, 3, 4, 5, 250000)),
    ("2024-01-02T03:04:05Z", utc(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05+01:00", utc(2024, 1, 2, 2, 4, 5)),
    ("2024-01-02T03:04:05-05:30", utc(2024, 1, 2, 8, 34, 5)),
    ("  2024-01-02  ", utc(2024, 1, 2)),
])
def test_the_documented_formats_parse_to_the_utc_instant(text, expected):
    parsed = parse_date(text)
    assert parsed == expected and parsed.tzinfo is UTC


def test_naive_values_are_read_in_the_given_zone_with_its_offset_on_that_day():
    assert parse_date("2024-01-15", "Europe/Berlin") == utc(2024, 1, 14, 23)
    assert parse_date("2024-07-15", "Europe/Berlin") == utc(2024, 7, 14, 22)
    assert parse_date("2024-07-15T09:00", "America/New_York") == utc(2024, 7, 15, 13)


def test_an_explicit_offset_wins_over_the_zone():
    assert parse_date("2024-07-15T09:00:00Z", "Europe/Berlin") == utc(2024, 7, 15, 9)
    assert parse_date("2024-07-15T09:00:00+00:00", "Asia/Tokyo") == utc(2024, 7, 15, 9)


def test_a_tzinfo_object_works_as_the_zone_too():
    assert parse_date("2024-01-01T12:00", timezone(timedelta(hours=2))) == utc(2024, 1, 1, 10)


@pytest.mark.parametrize("text", [
    "", "yesterday", "2024/01/02", "02-01-2024", "2024-1-2", "20240102",
    "2024-13-01", "2024-02-30", "2024-01-02T25:00", "2024-01-02T10:61",
    "2024-01-02T10:00:00+25:00", "2024-01-02T10:00:00 UTC", "2024-01-02Tnoon",
])
def test_anything_else_is_a_bad_date_that_names_the_date_and_the_value(text):
    with pytest.raises(BadDate) as refused:
        parse_date(text, what="start_date")
    message = str(refused.value)
    assert message.startswith(f"invalid start date {text!r}")
    assert "\n" not in message
    assert refused.value.say({"start_date": "-s"}).startswith(f"invalid -s {text!r}")


def test_a_bad_date_is_invalid_input_so_the_cli_exits_2():
    assert issubclass(BadDate, InvalidInput)
    with pytest.raises(InvalidInput):
        parse_date(None)  # type: ignore[arg-type]


def test_iso_renders_any_aware_instant_in_utc_with_plus_zero_offset():
    moment = datetime(2024, 3, 31, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2024-03-31T07:00:00+00:00"
    assert iso(utc(2022, 9, 1, 0, 10)) == "2022-09-01T00:10:00+00:00"


def test_iso_and_from_iso_round_trip():
    moment = utc(2024, 2, 29, 23, 59, 59, 999999)
    assert from_iso(iso(moment)) == moment


def test_now_is_aware_and_in_utc():
    moment = now()
    assert moment.tzinfo is UTC
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)
