"""First commands on a fresh database, at the same time: one creates the schema, the others wait (issue 10.3).

Each process imports the CLI first and waits for a common start, so their first
statements meet: before the fix, the library's tables were made outside the
migrations lock and two creators collided (IntegrityError pg_type_typname_nsp_index).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import finished
from private_postgres import PrivateServer, available

ROUNDS, AT_ONCE = 8, 3  # before the fix, about one round in five collided

_FIRST_COMMAND = """
import os, sys, time
from pathlib import Path
from ledgerflow.cli.main import main
Path(sys.argv[1] + ".ready." + str(os.getpid())).touch()
while not Path(sys.argv[1]).exists():
    time.sleep(0.001)
sys.argv = ["ledgerflow", "pools", "list"]
main()
"""


def _race(server: PrivateServer, tmp_path: Path, round_no: int) -> list[tuple[int, str, str]]:
    go = tmp_path / f"go{round_no}"
    env = {**os.environ, "LEDGERFLOW_DATABASE_URL": server.database(f"fresh{round_no}")}
    procs = [subprocess.Popen([sys.executable, "-c", _FIRST_COMMAND, str(go)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(AT_ONCE)]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob(f"go{round_no}.ready.*"))) < AT_ONCE and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    return [finished(proc, 60) for proc in procs]


@pytest.mark.skipif(not available(), reason="no PostgreSQL binaries to run a private server")
def test_first_commands_at_once_on_fresh_databases_all_succeed(tmp_path):
    """On a private server: fresh databases there are quick to make (the shared one's drops wait
    for checkpoints)."""
    failures = []
    server = PrivateServer()
    try:
        for round_no in range(ROUNDS):
            for code, out, err in _race(server, tmp_path, round_no):
                if code != 0 or "default_pool" not in out:
                    failures.append(f"round {round_no}: exit {code}: {err.strip().splitlines()[-1:]}")
    finally:
        server.close()
    assert not failures, "\n".join(failures)
