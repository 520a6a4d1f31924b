"""Task and DAG regexes: Python's re syntax and meaning, matched in bounded time, refused in one line.

`re` cannot be interrupted while it backtracks (not even by Ctrl-C), so the
commands that hung on a catastrophic pattern are run as subprocesses here: a hang
fails the test instead of stalling the suite.
"""

from __future__ import annotations

import re
import time
import warnings

import pytest
from cli_runner import finished
from dagfiles import cli, event_count, make_dags, spawn
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerflow.engine.domain import patterns
from ledgerflow.engine.domain.patterns import compile_pattern
from ledgerflow.engine.errors import InvalidInput

LONG = "a" * 40 + "b"  # `re` needs hours to find that (a+)+$ does not occur in it
GREEDY = f"""
with DAG("greedy", schedule="@daily", start_date=datetime(2024, 1, 1)):
    EmptyTask("{LONG}") >> EmptyTask("load")
"""


@pytest.fixture
def greedy(tmp_path, database_url):
    dags = make_dags(tmp_path, greedy=GREEDY)
    assert cli("dags", "trigger", "greedy", "-S", str(dags.folder), "-e", "2024-01-02").exit_code == 0
    return dags


def test_tasks_states_with_the_classic_catastrophic_pattern_answers_at_once(greedy, database_url):
    code, out, err = finished(spawn(greedy, database_url, "tasks", "states", "greedy", "-t", "(a+)+$", "-o", "json"))
    assert (code, out, err) == (0, "[]\n", "")


def test_tasks_states_refuses_a_pattern_that_backtracks_too_long_in_one_line(greedy, database_url):
    code, out, err = finished(spawn(greedy, database_url, "tasks", "states", "greedy", "-t", "(a|a)+$"))
    assert (code, out) == (2, "")
    assert err.startswith(f"Error: --task-regex '(a|a)+$' took too long to match '{LONG}'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_tasks_clear_refuses_a_pattern_that_backtracks_too_long_and_writes_nothing(greedy, database_url):
    before = event_count(database_url)
    code, out, err = finished(spawn(greedy, database_url, "tasks", "clear", "greedy", "-t", "(a|a)+$", "-y"))
    assert code == 2, err
    assert err.startswith("Error: --task-regex '(a|a)+$' took too long to match")
    assert err.count("\n") == 1
    assert event_count(database_url) == before


def test_matching_stops_at_the_time_bound_and_names_the_pattern_and_the_id(monkeypatch):
    monkeypatch.setattr(patterns, "MATCH_SECONDS", 0.05)
    pattern = compile_pattern("(a|a)+$", "dag_regex")
    started = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        pattern.search("a" * 22 + "b")  # `re` takes about half a second on it
    assert time.monotonic() - started < 0.4
    assert refused.value.say({"dag_regex": "--dag-regex"}).startswith(
        "--dag-regex '(a|a)+$' took too long to match 'aaaa")


@pytest.mark.parametrize(("text", "why"), [
    ("[[:alpha:]]", "POSIX classes such as [:alpha:] are not Python regex syntax"),
    ("load[_[:digit:]]", "POSIX classes"),
    ("(?:a{1000}){1000}", "counted repetitions unroll to more than 100000 steps"),
    ("(?:(?:a?){65535}){65535}", "counted repetitions"),
    ("(?a)(?u)x", "ASCII and UNICODE flags are incompatible"),
    ("(", "missing ), unterminated subpattern"),
    (r"\p{L}", r"bad escape \p"),
])
def test_what_re_and_regex_would_read_differently_or_cannot_bound_is_refused(text, why):
    with pytest.raises(InvalidInput, match=re.escape(why)) as refused:
        compile_pattern(text)
    assert str(refused.value).startswith(f"invalid task regex {text!r}: ")


@pytest.mark.parametrize(("text", "hits"), [
    ("^load$", {"load"}), ("lo", {"load", "reload", "group.load"}), ("^(extract|load)", {"extract", "load"}),
    (r"\.", {"group.load"}), ("(?i)LOAD", {"load", "reload", "group.load"}),
    ("[[l]oad$", {"load", "reload", "group.load"}),
    (r"^(?!re)\w+$", {"load", "extract"}), (r"(?<=\.)l", {"group.load"}), ("x{0,}t$", {"extract"}),
])
def test_the_usual_patterns_select_what_they_select_with_re(text, hits):
    ids = ["extract", "load", "reload", "group.load"]
    assert {i for i in ids if compile_pattern(text).search(i)} == hits


ATOMS = [*"ab.^$|()[]-*+?{},:\\_019", r"\d", r"\w", r"\s", r"\b", r"\B", r"\A", r"\Z", "(?i)", "(?:",
         "(?=", "(?!", "(?<=", "(?<!", "(?P<n>", "(?P=n)", "[^", r"\1", "{2}", "{1,3}", "*?", "+?", "??",
         "*+", "++", "(?>", "(?x)", "(?s)", "(?m)", "(?a)", "(?#c)", "[[", "&&", "--", "||", "~~", r"\.",
         r"\-", r"\x41", "A", "B", "[=", "=]", " ", "#"]
IDS = st.text(alphabet="abAB019_.-", min_size=1, max_size=12)  # the characters a task or DAG id may use


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=7).map("".join), st.lists(IDS, min_size=1, max_size=5))
def test_every_pattern_re_accepts_is_refused_in_one_line_or_matches_the_ids_re_matches(text, ids):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            reference = re.compile(text)
        except (re.error, ValueError, OverflowError, RecursionError):
            reference = None
    try:
        pattern = compile_pattern(text)
    except InvalidInput as refused:
        assert reference is None or "POSIX classes" in str(refused) or "counted repetitions" in str(refused)
        return
    assert reference is not None, f"{text!r} is accepted but re refuses it"
    assert [pattern.search(i) for i in ids] == [reference.search(i) is not None for i in ids]
