"""`ledgerflow users`: users and roles are events with their actor and reason, passwords only as hashes."""

from __future__ import annotations

import pytest
from cli_runner import cli, cli_json
from recorded import event_count, events, query
from refusals import assert_refused

PASSWORD = "s3cret-enough"


def create(name: str = "alice", role: str = "admin", *extra: str, password: str = PASSWORD):
    return cli("users", "create", name, "--role", role, "--password-stdin", *extra, input=password + "\n")


def test_a_created_user_lists_with_the_contract_fields(database_url):
    done = create("alice", "admin", "-y", "--reason", "first admin")
    assert done.exit_code == 0, done.output
    (user,) = cli_json("users", "list", "-o", "json")
    assert set(user) == {"username", "role", "active", "created_at", "created_by"}
    assert (user["username"], user["role"], user["active"], user["created_by"]) == ("alice", "admin", True, "tester")
    assert user["created_at"].endswith("+00:00")


def test_create_asks_for_confirmation_and_a_no_writes_nothing(database_url):
    before = event_count(database_url)
    done = cli("users", "create", "alice", "--role", "viewer", "--password-stdin", input=PASSWORD + "\nn\n")
    assert done.exit_code == 1
    assert "Create user alice with role viewer?" in done.output
    assert event_count(database_url) == before
    yes = cli("users", "create", "alice", "--role", "viewer", "--password-stdin", input=PASSWORD + "\ny\n")
    assert yes.exit_code == 0, yes.output
    assert [u["username"] for u in cli_json("users", "list", "-o", "json")] == ["alice"]


def test_the_password_is_kept_only_as_a_slow_salted_hash(database_url):
    create("alice", "admin", "-y")
    create("bob", "admin", "-y")
    stored = [e for e in events(database_url, "engine.users") if e["kind"] == "Created"]
    hashes = [e["password_hash"] for e in stored]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert hashes[0] != hashes[1]  # salted: the same password hashes apart
    raw = query(database_url, "SELECT count(*) AS n FROM ledgerflow_events WHERE position(%s in "
                              "convert_from(state, 'UTF8')) > 0", PASSWORD)
    assert raw[0]["n"] == 0


@pytest.mark.parametrize(("args", "password", "needle"), [
    (("alice", "--role", "superuser"), PASSWORD, "unknown role 'superuser'"),
    (("al ice", "--role", "viewer"), PASSWORD, "invalid username"),
    (("alice", "--role", "viewer"), "short", "a password must be 8"),
], ids=["unknown role", "username with a space", "short password"])
def test_bad_users_are_refused_with_nothing_written(database_url, args, password, needle):
    before = event_count(database_url)
    done = cli("users", "create", *args, "--password-stdin", "-y", input=password + "\n")
    assert_refused(done, database_url, before, needle)


def test_a_second_user_of_the_same_name_is_refused(database_url):
    create("alice", "admin", "-y")
    before = event_count(database_url)
    assert_refused(create("alice", "viewer", "-y"), database_url, before, "exists already")


def test_set_role_and_disable_are_events_in_the_audit_log_with_actor_and_reason(database_url):
    create("alice", "viewer", "-y", "--reason", "new analyst")
    asked = cli("users", "set-role", "alice", "operator", input="n\n")
    assert asked.exit_code == 1 and "from role viewer to operator" in asked.output
    done = cli("users", "set-role", "alice", "operator", "-y", "--reason", "on call", "--actor", "carol")
    assert done.exit_code == 0, done.output
    gone = cli("users", "disable", "alice", "-y", "--reason", "left the team")
    assert gone.exit_code == 0, gone.output
    (user,) = cli_json("users", "list", "-o", "json")
    assert (user["role"], user["active"]) == ("operator", False)
    log = cli_json("audit", "log", "-o", "json")
    assert [(e["event"], e["from_state"], e["to_state"], e["actor"], e["reason"]) for e in log] == [
        ("UserCreated", None, "viewer", "tester", "new analyst"),
        ("UserRoleSet", "viewer", "operator", "carol", "on call"),
        ("UserDisabled", "active", "disabled", "tester", "left the team"),
    ]


def test_a_role_it_has_already_and_a_disabled_user_are_refused(database_url):
    create("alice", "viewer", "-y")
    before = event_count(database_url)
    assert_refused(cli("users", "set-role", "alice", "viewer", "-y"), database_url, before, "has role viewer already")
    assert_refused(cli("users", "set-role", "nobody", "viewer", "-y"), database_url, before, "no user 'nobody'")
    cli("users", "disable", "alice", "-y")
    before = event_count(database_url)
    assert_refused(cli("users", "disable", "alice", "-y"), database_url, before, "disabled already")


def test_the_users_view_rebuilds_to_the_same_rows(database_url):
    create("alice", "viewer", "-y")
    cli("users", "set-role", "alice", "admin", "-y")
    before = cli_json("users", "list", "-o", "json")
    assert cli("projections", "rebuild", "-y").exit_code == 0
    assert cli_json("users", "list", "-o", "json") == before
