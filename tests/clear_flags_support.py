"""What the `tasks clear` flag tests share: the backfilled chain and the listing of a clear."""

from __future__ import annotations

import pytest
from clear_support import CHAIN, backfilled


@pytest.fixture
def chain(tmp_path):
    """chain (a >> b >> c) backfilled and successful for 2024-01-10 .. 2024-01-12."""
    return backfilled(tmp_path, "chain", CHAIN, "-s", "2024-01-10", "-e", "2024-01-12")


def listed(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("<TaskInstance:")]
