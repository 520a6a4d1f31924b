"""`pools set` records slots as events; changing an existing pool asks unless -y."""

import json

from dagfiles import cli


def _slots(name):
    result = cli("pools", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    return {p["name"]: p["slots"] for p in json.loads(result.stdout)}.get(name)


def test_a_new_pool_is_created_without_asking(database_url):
    assert cli("pools", "set", "etl", "3").exit_code == 0
    assert _slots("etl") == 3


def test_changing_a_pool_lists_the_change_and_declining_writes_nothing(database_url):
    assert cli("pools", "set", "etl", "3").exit_code == 0
    declined = cli("pools", "set", "etl", "1", input="n\n")
    assert declined.exit_code == 1
    assert "from 3 to 1" in declined.output
    assert _slots("etl") == 3
    accepted = cli("pools", "set", "etl", "1", input="y\n")
    assert accepted.exit_code == 0 and _slots("etl") == 1


def test_yes_changes_a_pool_without_asking(database_url):
    assert cli("pools", "set", "etl", "3").exit_code == 0
    result = cli("pools", "set", "etl", "5", "-y")
    assert result.exit_code == 0 and "Change it?" not in result.output
    assert _slots("etl") == 5
