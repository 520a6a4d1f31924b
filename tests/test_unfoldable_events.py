"""An event the views cannot fold (here appended by hand: the append-only triggers refuse UPDATE
and DELETE, not INSERT) stops them just before it: reads still show everything before it, one
line names its position, the CLI exits 1, writes are refused, and `projections status` shows the lag."""

from __future__ import annotations

import json

import psycopg
import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli, query

from ledgerflow.engine.errors import ViewsStuck

STAMP = {"timestamp": {"_type_": "datetime_iso", "_data_": "2024-01-01T00:00:00+00:00"}}
BAD = {
    "a value no column holds": ("engine.pools:Pool.Created", json.dumps({**STAMP, "name": "x", "slots": 2**32})),
    "a payload the fold cannot read": ("engine.dagrun:DagRun.StateChanged", json.dumps({**STAMP, "what": 1})),
    "a NUL jsonb refuses": ("engine.operation:Operation.Started", json.dumps({
        **STAMP, "name": "x", "arguments": {"a": "\x00"}, "actor": "a", "reason": None, "host": "h",
        "ledgerflow_version": "0"})),
    "a payload that is not UTF-8": ("engine.pools:Pool.Created", b"\xff{"),
}


def insert(database_url: str, topic: str, state: str | bytes, originator: str | None = None) -> int:
    """Appends the event with its hash-chain link, as an append the ledger accepted would."""
    data = state if isinstance(state, bytes) else state.encode()
    with psycopg.connect(database_url) as conn:
        oid = originator or conn.execute("SELECT gen_random_uuid()").fetchone()[0]
        version = conn.execute("SELECT coalesce(max(originator_version), 0) + 1 FROM ledgerflow_events "
                               "WHERE originator_id = %s", (oid,)).fetchone()[0]
        position = conn.execute(
            "INSERT INTO ledgerflow_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s) RETURNING notification_id", (oid, version, topic, data),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO ledgerflow_chain SELECT %(p)s, now(), 1, ledgerflow_chain_link_v1((SELECT hash "
            "FROM ledgerflow_chain ORDER BY notification_id DESC LIMIT 1), %(p)s, %(o)s, %(v)s, now(), "
            "%(t)s, %(s)s)", {"p": position, "o": oid, "v": version, "t": topic, "s": data})
        return position


def events(database_url: str) -> int:
    return query(database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"]


def stuck_line(result, position: int) -> str:
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: the views stop before position {position}: "), line
    return line


@pytest.fixture(params=list(BAD), ids=list(BAD))
def bad(request, dags, database_url) -> int:
    """Two runs folded, then the bad event; returns its position."""
    for day in ("2024-01-02", "2024-01-03"):
        assert cli("dags", "trigger", "daily", "-e", day).exit_code == 0
    assert cli("dags", "list-runs", "daily").exit_code == 0
    topic, state = BAD[request.param]
    run = query(database_url, "SELECT run_uuid FROM dag_run LIMIT 1")[0]["run_uuid"]
    return insert(database_url, topic, state, str(run) if "DagRun" in topic else None)


def test_reads_show_what_came_before_it_and_name_its_position_with_exit_1(bad):
    for args in (("dags", "list-runs", "daily"), ("tasks", "states", "daily"),
                 ("dags", "list-runs", "daily", "--as-of", "2999-01-01"), ("pools", "list"),
                 ("audit", "log")):
        result = cli(*args, "-o", "json")
        assert result.exit_code == 1, (args, result.output)
        stuck_line(result, bad)
        assert json.loads(result.stdout), args
    runs = json.loads(cli("dags", "list-runs", "daily", "-o", "json").stdout)
    assert [r["logical_date"][:10] for r in runs] == ["2024-01-02", "2024-01-03"]


def test_status_shows_the_lag_and_a_rebuild_keeps_everything_before_it(bad, database_url):
    status = cli("projections", "status")
    assert status.exit_code == 0 and status.stdout.split() == ["position", str(bad - 1), "head", str(bad),
                                                                "lag", "1"]
    rebuilt = cli("projections", "rebuild", "-y")
    assert rebuilt.exit_code == 1
    assert "its event (" in stuck_line(rebuilt, bad)
    assert len(query(database_url, "SELECT * FROM dag_run")) == 2
    assert cli("projections", "status").stdout.split()[-1] == "1"


def test_writes_are_refused_with_exit_1_and_write_nothing(bad, database_url):
    before = events(database_url)
    for args in (("dags", "trigger", "daily", "-e", "2024-01-05"), ("pools", "set", "etl", "3"),
                 ("tasks", "clear", "daily", "-y")):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        stuck_line(result, bad)
    assert events(database_url) == before


def test_events_before_it_in_the_same_batch_are_applied_and_those_after_it_wait(dags, ledger, database_url):
    from ledgerflow.engine.domain.operation import new_operation
    from ledgerflow.engine.domain.pools import Pool
    from ledgerflow.projections.projector import ViewProjector

    def pool(name: str) -> None:
        op = new_operation("pools set", actor="tester", reason=None, arguments={})
        ledger.append(op.started(), Pool._create(Pool.Created, **op.stamp, name=name, slots=1),
                      op.ended("success"))

    pool("first")
    position = insert(database_url, *BAD["a value no column holds"])
    pool("after")
    with pytest.raises(ViewsStuck) as stuck:
        ViewProjector(ledger).catch_up()
    assert stuck.value.position == position
    assert [r["name"] for r in query(database_url, "SELECT name FROM pool ORDER BY name")] == ["first"]
    assert ViewProjector(ledger).status() == {"position": position - 1, "head": position + 3, "lag": 4}
    with pytest.raises(ViewsStuck):
        ViewProjector(ledger, batch=2).rebuild()
    assert [r["name"] for r in query(database_url, "SELECT name FROM pool ORDER BY name")] == ["first"]
