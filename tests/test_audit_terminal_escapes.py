"""A reason or actor holding terminal control characters is shown escaped in tables and plain output,
never raw; JSON keeps it exactly."""

from __future__ import annotations

import json
import re

import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli, cli_json

REASON = "fix\x1b[2J\x1b]0;owned\x07 data\rnothing to see\x9b31m"
ACTOR = "eve\x1b[8m"
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # anything but the line ends a table is made of


@pytest.fixture
def operation_id(dags, database_url) -> str:
    result = cli("dags", "trigger", "daily", "-e", "2024-01-02", "--reason", REASON, "--actor", ACTOR)
    assert result.exit_code == 0, result.output
    (entry,) = cli_json("audit", "log", "-o", "json")
    return entry["operation_id"]


def assert_shown_escaped(stdout: str) -> None:
    assert RAW_CONTROL.search(stdout) is None, repr(stdout)
    flat = "".join(stdout.split())  # a table may fold a long cell over lines
    assert "fix\\x1b[2J\\x1b]0;owned\\x07" in flat
    assert "data\\x0dnothing" in flat and "\\x9b31m" in flat
    assert "eve\\x1b[8m" in flat


def test_audit_log_as_a_table_shows_control_characters_escaped(operation_id):
    result = cli("audit", "log")
    assert result.exit_code == 0, result.output
    assert_shown_escaped(result.stdout)


def test_audit_show_shows_control_characters_escaped(operation_id):
    result = cli("audit", "show", operation_id)
    assert result.exit_code == 0, result.output
    assert_shown_escaped(result.stdout)
    assert "reason:    fix\\x1b[2J" in result.stdout


def test_json_output_keeps_the_reason_and_actor_exactly(operation_id):
    (entry,) = cli_json("audit", "log", "-o", "json")
    assert (entry["reason"], entry["actor"]) == (REASON, ACTOR)
    (shown,) = cli_json("audit", "show", operation_id, "-o", "json")
    assert (shown["reason"], shown["actor"]) == (REASON, ACTOR)
    lines = cli("audit", "log", "-o", "jsonl").stdout.splitlines()
    assert [json.loads(line)["reason"] for line in lines] == [REASON]
