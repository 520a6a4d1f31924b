"""engine.domain.values: what the store can keep, and the store's own last check before an append."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledgerflow.engine.domain import values
from ledgerflow.engine.errors import BadValue, Term


def _id(value: object) -> str:
    """A test id; Python prints no integer of more than 4300 digits."""
    name = getattr(value, "__name__", None)
    if name:
        return name
    try:
        return ascii(value)[:24]
    except ValueError:
        return "huge-integer"


@pytest.mark.parametrize(("check", "value"), [
    (values.integer, 2**31), (values.integer, -1), (values.integer, True), (values.integer, 2.0),
    (values.integer, 10**5000), (values.number, float("nan")), (values.number, float("inf")),
    (values.number, 10**400), (values.number, -0.5), (values.number, "1"),
    (values.duration, timedelta(days=-1)), (values.duration, timedelta(days=10**6)), (values.duration, 1e300),
    (values.text, "a\x00"), (values.text, "\ud800"),
], ids=lambda v: _id(v))
def test_values_the_views_cannot_hold_are_refused_naming_them(check, value):
    with pytest.raises(BadValue) as refused:
        check(value, Term("slots"))
    assert refused.value.say({"slots": "SLOTS"}).startswith("SLOTS ")


def test_values_within_their_columns_pass_as_they_are():
    assert values.integer(2**31 - 1, "n") == 2**31 - 1
    assert values.number(0, "n") == 0.0
    assert values.duration(90, "d") == timedelta(seconds=90)
    assert values.json_document({"a": [1, 2.5, None, True, "\\u0000 spelled out"]}, "c")


@pytest.mark.parametrize("document", [
    {"x": float("nan")}, {"x": [float("-inf")]}, {"x": "\x00"}, {"\ud800": 1}, {1: "key"}, {"x": {1, 2}},
    {"x": 10**5000},
], ids=lambda v: _id(v))
def test_json_documents_are_strict_json_of_storable_text(document):
    with pytest.raises(BadValue):
        values.json_document(document, "conf")


def test_a_document_far_deeper_than_python_recurses_is_refused_without_recursing():
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    with pytest.raises(BadValue, match="levels deep"):
        values.json_document({"x": deep}, "conf")


def test_error_text_is_escaped_not_refused():
    assert values.storable_text("a\x00b\udcff") == "a\\x00b\\udcff"
    assert values.storable_text("plain") == "plain"


def test_the_store_refuses_an_event_no_check_caught_and_writes_nothing(ledger):
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.domain.pools import Pool

    op = new_operation("pools set", actor="tester", reason=None, arguments={})
    for name, slots, reason in (("nan", float("nan"), None), ("nul\x00", 1, None), ("lone", 1, "\udcff")):
        pool = Pool._create(Pool.Created, **{**op.stamp, "reason": reason}, name=name, slots=slots)
        with pytest.raises(BadValue, match="Pool.Created"):
            ledger.append(op.started(), pool)
    with ledger.cursor() as curs:
        curs.execute("SELECT count(*) AS n FROM ledgerflow_events")
        assert curs.fetchone()["n"] == 0
    spelled = Pool._create(Pool.Created, **op.stamp, name="spelled \\u0000 out", slots=1)
    ledger.append(op.started(), spelled)  # a backslash and 'u0000' are text like any other
