"""Schedules: presets, cron in the DAG's timezone, forward alignment, DST."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerflow import DAG
from ledgerflow.engine.authoring.timetable import Timetable
from ledgerflow.engine.domain.dates import parse_date
from ledgerflow.engine.errors import DagDefinitionError

TICK = timedelta(microseconds=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def enumerate_dates(schedule: str, start: str, end: str | None = None, zone: str = "UTC"):
    """As the CLI does: naive -s/-e in the DAG's zone, -e defaults to -s."""
    lo = parse_date(start, zone)
    hi = parse_date(end, zone) if end else lo
    return Timetable(schedule, zone).logical_dates(lo, hi)


@pytest.mark.parametrize(("preset", "after", "expected"), [
    ("@hourly", utc(2024, 1, 1, 10, 30), utc(2024, 1, 1, 11)),
    ("@daily", utc(2024, 1, 1, 10, 30), utc(2024, 1, 2)),
    ("@weekly", utc(2024, 1, 3), utc(2024, 1, 7)),  # Sunday midnight
    ("@monthly", utc(2024, 1, 15), utc(2024, 2, 1)),
    ("@yearly", utc(2024, 1, 15), utc(2025, 1, 1)),
    ("@annually", utc(2024, 1, 15), utc(2025, 1, 1)),
])
def test_presets_fire_at_their_airflow_times(preset, after, expected):
    assert Timetable(preset).next_after(after) == expected


def test_a_cron_string_is_evaluated_in_the_dags_timezone_and_returned_in_utc():
    berlin = Timetable("0 9 * * *", "Europe/Berlin")
    point = berlin.next_after(utc(2024, 1, 10))
    assert point == utc(2024, 1, 10, 8) and point.tzinfo is UTC


def test_next_after_is_strictly_after_even_on_a_schedule_point():
    assert Timetable("@daily").next_after(utc(2024, 1, 1)) == utc(2024, 1, 2)


def test_berlin_nine_oclock_is_0800z_before_and_0700z_after_the_march_2024_change():
    tt = Timetable("0 9 * * *", "Europe/Berlin")
    dates = tt.logical_dates(utc(2024, 3, 29), utc(2024, 4, 2))
    assert dates == [
        utc(2024, 3, 29, 8), utc(2024, 3, 30, 8), utc(2024, 3, 31, 7), utc(2024, 4, 1, 7),
    ]


def test_berlin_nine_oclock_is_0800z_again_after_the_october_2024_change():
    tt = Timetable("0 9 * * *", "Europe/Berlin")
    dates = tt.logical_dates(utc(2024, 10, 26), utc(2024, 10, 28))
    assert dates == [utc(2024, 10, 26, 7), utc(2024, 10, 27, 8)]


def test_a_daily_run_in_the_hour_repeated_by_the_autumn_change_happens_once_that_day():
    tt = Timetable("30 2 * * *", "Europe/Berlin")
    dates = tt.logical_dates(utc(2024, 10, 26), utc(2024, 10, 29))
    assert dates == [utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]


def test_a_daily_run_in_the_hour_skipped_by_the_spring_change_moves_forward_by_the_gap():
    tt = Timetable("30 2 * * *", "Europe/Berlin")
    dates = tt.logical_dates(utc(2024, 3, 30), utc(2024, 4, 2))
    # 2024-03-31 02:30 does not exist in Berlin; 03:30 CEST is 01:30Z
    assert dates == [utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 0, 30)]


def test_an_hourly_schedule_keeps_one_hour_steps_through_both_changes():
    tt = Timetable("@hourly", "America/New_York")
    autumn = tt.logical_dates(utc(2024, 11, 3, 4), utc(2024, 11, 3, 8))
    spring = tt.logical_dates(utc(2024, 3, 10, 5), utc(2024, 3, 10, 9))
    assert autumn == [utc(2024, 11, 3, h) for h in range(4, 9)]
    assert spring == [utc(2024, 3, 10, h) for h in range(5, 10)]


def test_data_interval_runs_from_the_logical_date_to_the_next_point():
    tt = Timetable("0 9 * * *", "Europe/Berlin")
    assert tt.data_interval(utc(2024, 3, 30, 8)) == (utc(2024, 3, 30, 8), utc(2024, 3, 31, 7))


def test_without_a_schedule_there_are_no_dates_and_intervals_have_zero_length():
    tt = Timetable(None)
    assert tt.periodic is False
    assert tt.logical_dates(utc(2024, 1, 1), utc(2024, 12, 31)) == []
    assert tt.data_interval(utc(2024, 1, 1)) == (utc(2024, 1, 1), utc(2024, 1, 1))
    assert tt.is_on_schedule(utc(2024, 1, 1)) is False


def test_is_on_schedule_accepts_schedule_points_only():
    tt = Timetable("0 6 * * *")
    assert tt.is_on_schedule(utc(2024, 1, 2, 6)) is True
    assert tt.is_on_schedule(utc(2024, 1, 2, 6, 0, 1)) is False
    assert tt.is_on_schedule(utc(2024, 1, 2)) is False


def test_an_invalid_cron_or_zone_is_a_definition_error():
    with pytest.raises(DagDefinitionError):
        Timetable("61 * * * *")
    with pytest.raises(DagDefinitionError):
        Timetable("@daily", "Not/AZone")


# AIRFLOW_SEMANTICS.md section 4.6, worked examples for cron schedules.
@pytest.mark.parametrize(("schedule", "zone", "start", "end", "expected"), [
    ("@daily", "UTC", "2024-01-01", "2024-01-03",
     [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)]),
    ("@daily", "UTC", "2024-01-04T00:00:01", "2024-01-05", [utc(2024, 1, 5)]),
    ("@daily", "UTC", "2024-01-06", "2024-01-04", []),
    ("@daily", "UTC", "2024-01-04", None, [utc(2024, 1, 4)]),
    ("0 6 * * *", "UTC", "2024-01-01", "2024-01-03", [utc(2024, 1, 1, 6), utc(2024, 1, 2, 6)]),
    ("0 6 * * *", "UTC", "2024-01-02", None, []),
    ("0 6 * * *", "UTC", "2024-01-02T07:00:00+01:00", None, [utc(2024, 1, 2, 6)]),
    ("0 0 * * *", "Europe/Amsterdam", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z",
     [utc(2024, 1, 2, 23)]),
])
def test_enumeration_matches_the_airflow_worked_examples(schedule, zone, start, end, expected):
    assert enumerate_dates(schedule, start, end, zone) == expected


def test_enumeration_ignores_the_dags_start_date():
    dag = DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1))
    assert dag.timetable.logical_dates(utc(2023, 12, 30), utc(2023, 12, 30)) == [utc(2023, 12, 30)]


def test_an_interval_starting_at_the_end_date_is_included_though_it_ends_after_it():
    tt = Timetable("@daily")
    last = tt.logical_dates(utc(2024, 1, 1), utc(2024, 1, 3))[-1]
    assert last == utc(2024, 1, 3) and tt.data_interval(last)[1] == utc(2024, 1, 4)


# Property tests ------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham"]
TRANSITIONS = [utc(2024, 3, 31, 1), utc(2024, 10, 27, 1), utc(2024, 3, 10, 7), utc(2024, 11, 3, 6),
               utc(2024, 4, 6, 15), utc(2024, 10, 5, 15), utc(2024, 4, 7, 3), utc(2024, 9, 8, 4)]

minutes = st.one_of(st.integers(0, 59).map(str), st.sampled_from(["*/15", "*/30", "0,45"]))
hours = st.one_of(st.integers(0, 23).map(str), st.sampled_from(["*", "*/3", "1-3", "2,3"]))
days = st.sampled_from(["*", "*/2", "1", "15", "28-31"])
weekdays = st.sampled_from(["*", "*", "*", "0", "1-5", "6"])
crons = st.one_of(
    st.sampled_from(["@hourly", "@daily", "@weekly", "@monthly"]),
    st.builds(lambda m, h, d, w: f"{m} {h} {d} * {w}", minutes, hours, days, weekdays),
)
instants = st.one_of(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                 timezones=st.just(UTC)),
    st.builds(lambda t, s: t + timedelta(seconds=s), st.sampled_from(TRANSITIONS),
              st.integers(-2 * 86400, 2 * 86400)),
)
spans = st.integers(0, 4 * 86400).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None)
@given(cron=crons, zone=st.sampled_from(ZONES), start=instants, span=spans)
def test_enumeration_is_the_sorted_on_schedule_points_inside_the_range_with_none_skipped(
    cron, zone, start, span
):
    tt = Timetable(cron, zone)
    end = start + span
    dates = tt.logical_dates(start, end)
    assert dates == sorted(set(dates))
    assert all(start <= d <= end and d.tzinfo is UTC for d in dates)
    assert all(tt.is_on_schedule(d) for d in dates)
    stepped, point = [], tt.next_after(start - TICK)
    while point <= end:
        stepped.append(point)
        point = tt.next_after(point)
    assert dates == stepped


@settings(max_examples=300, deadline=None)
@given(cron=crons, zone=st.sampled_from(ZONES), moment=instants)
def test_next_after_moves_forward_and_lands_on_schedule(cron, zone, moment):
    tt = Timetable(cron, zone)
    point = tt.next_after(moment)
    assert point > moment
    assert tt.next_after(point - TICK) == point
    start, end = tt.data_interval(point)
    assert start == point and end > point


@settings(max_examples=200, deadline=None)
@given(minute=st.integers(0, 59), hour=st.integers(0, 23), zone=st.sampled_from(ZONES),
       first=st.sampled_from(TRANSITIONS), days=st.integers(3, 10))
def test_a_fixed_time_daily_cron_fires_once_on_every_local_day_across_dst_changes(
    minute, hour, zone, first, days
):
    tz = ZoneInfo(zone)
    tt = Timetable(f"{minute} {hour} * * *", zone)
    start = first - timedelta(days=days // 2)
    end = start + timedelta(days=days)
    dates = tt.logical_dates(start, end)
    local_days = [d.astimezone(tz).date() for d in dates]
    assert len(local_days) == len(set(local_days))
    first_day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()
    whole_days = {first_day + timedelta(days=i) for i in range(1, (last_day - first_day).days)}
    assert whole_days <= set(local_days)
    for d in dates:
        local = d.astimezone(tz)
        shifted = local.fold == 0 and (local.hour, local.minute) != (hour, minute)
        if shifted:  # the wall time did not exist that day: moved forward by the gap
            gap = local.utcoffset() - (local - timedelta(hours=3)).utcoffset()
            assert gap > timedelta(0)
            assert (local - gap).hour * 60 + (local - gap).minute == hour * 60 + minute


@settings(max_examples=100, deadline=None)
@given(zone=st.sampled_from(["Europe/Berlin", "America/New_York"]), year=st.integers(2000, 2035))
def test_nine_oclock_local_is_the_same_wall_time_on_both_sides_of_every_change(zone, year):
    tz = ZoneInfo(zone)
    dates = Timetable("0 9 * * *", zone).logical_dates(utc(year, 1, 1), utc(year, 12, 31, 23))
    assert len(dates) == (366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365)
    assert {(d.astimezone(tz).hour, d.astimezone(tz).minute) for d in dates} == {(9, 0)}
    offsets = {d.astimezone(tz).utcoffset() for d in dates}
    assert len(offsets) == 2


@given(minute=st.integers(0, 59), start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)),
       hours=st.integers(0, 400))
@settings(max_examples=50, deadline=None)
def test_an_hourly_cron_in_utc_steps_by_the_hour_from_its_first_point_like_the_cron_walk(minute, start, hours):
    table = Timetable(f"{minute} * * * *")
    begin = start.replace(tzinfo=UTC)
    got = table.intervals(begin, begin + timedelta(hours=hours))
    first = begin.replace(minute=minute, second=0, microsecond=0)
    first += timedelta(hours=1) if first < begin else timedelta(0)
    want = [first + timedelta(hours=i) for i in range(hours + 2) if first + timedelta(hours=i) <= begin + timedelta(
        hours=hours)]
    assert list(got) == want
    assert all(b - a == timedelta(hours=1) for a, b in got.values())
