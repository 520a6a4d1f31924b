"""Engine messages speak of the domain; each face names the flags (or fields) itself."""

from __future__ import annotations

import pytest

from ledgerflow.engine.application.backfill_plan import BackfillRequest, make_plan
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.errors import BadConf, InvalidInput, Term


def test_a_term_reads_as_domain_words_and_as_the_face_names_it():
    error = InvalidInput("invalid JSON in ", Term("conf"), ": expected an object")
    assert str(error) == "invalid JSON in conf: expected an object"
    assert error.say({"conf": "--conf"}) == "invalid JSON in --conf: expected an object"
    assert error.say({}) == str(error)


def test_a_hint_says_nothing_in_the_domain_and_what_the_face_gives():
    error = InvalidInput("provide a start date", Term("start_date_hint", ""))
    assert str(error) == "provide a start date"
    assert error.say({"start_date_hint": " (-s)"}) == "provide a start date (-s)"


def test_a_refused_conf_names_no_flag_in_the_engine():
    with pytest.raises(BadConf) as refused:
        parse_conf("[1]")
    assert "--" not in str(refused.value)
    assert refused.value.say({"conf": "--conf"}).startswith("--conf must be a JSON object")


def test_a_backfill_without_dates_is_refused_in_domain_words(ledger):
    with pytest.raises(InvalidInput) as refused:
        make_plan(ledger, BackfillRequest(dag_id="any"))
    assert str(refused.value) == "provide a start date and/or an end date"
