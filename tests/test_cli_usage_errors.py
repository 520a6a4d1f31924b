"""The console script reports usage errors like every other refusal: one line, exit 2."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _ledgerflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ledgerflow.cli.main import main; main()", *args],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("dags", "backfill", "chain", "-s", "2024-01-01", "--delay-on-limit", "abc"), "--delay-on-limit"),
        (("dags", "list-runs", "chain", "-o", "xml"), "'xml' is not one of"),
        (("dags", "backfill",), "Missing argument"),
        (("dags", "no-such-command",), "No such command"),
    ],
)
def test_a_usage_error_is_one_line_on_stderr_with_exit_code_2(args, says):
    done = _ledgerflow(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0]


def test_help_and_version_still_exit_0():
    assert _ledgerflow("dags", "backfill", "-h").returncode == 0
    version = _ledgerflow("--version")
    assert version.returncode == 0 and version.stdout.startswith("ledgerflow ")
