"""What every refusal must look like: exit 2, one line on stderr naming what was wrong, nothing on
stdout, no traceback, and not one event written."""

from __future__ import annotations

from typing import Any

from recorded import event_count


def assert_refused(result: Any, database_url: str, written_before: int, *needles: str) -> str:
    """Returns the error line, for tests that look closer."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("Error: ")
    for needle in needles:
        assert needle in line, line
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert event_count(database_url) == written_before
    return str(line)
