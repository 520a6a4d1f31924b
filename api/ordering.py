"""Airflow's `order_by` over rows a face already holds: fields by name, `-` for descending, several in turn.

A field the endpoint does not sort by is refused with the fields it does, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledgerflow.engine.errors import InvalidInput


def check(order_by: Sequence[str], fields: Sequence[str], aliases: Mapping[str, str]) -> list[tuple[str, bool]]:
    """(row field, descending) of each criterion; 400 for a field not in `fields`."""
    criteria = []
    for item in order_by:
        name = item[1:] if item.startswith("-") else item
        if name not in fields:
            raise InvalidInput(f"cannot order by {name[:50]!r}: order_by takes {', '.join(fields)} "
                               "(- for descending)")
        criteria.append((aliases.get(name, name), item.startswith("-")))
    return criteria


def ordered(rows: Sequence[dict[str, Any]], order_by: Sequence[str], fields: Sequence[str],
            aliases: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows sorted by each criterion in turn (the first one most significant); None sorts first.
    `aliases` names the row field an order_by name sorts by."""
    result = list(rows)
    for name, descending in reversed(check(order_by, fields, aliases or {})):
        result.sort(key=lambda r: (r.get(name) is not None, r.get(name)), reverse=descending)
    return result
