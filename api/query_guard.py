"""Refuses query parameters an endpoint does not take, instead of ignoring them, and NUL characters.

Airflow's specification lists many filters (patterns, duration ranges, cursors...) that
ledgerflow does not offer on every endpoint; a client that sends one would otherwise
get an unfiltered answer and take it for a filtered one.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from ledgerflow.engine.errors import InvalidInput

_TAKEN: dict[int, frozenset[str]] = {}


def _names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _names(sub)
    return names


def _taken(route: APIRoute) -> frozenset[str]:
    names = _TAKEN.get(id(route))
    if names is None:
        names = _TAKEN[id(route)] = frozenset(_names(route.dependant))
    return names


def known_query(request: Request) -> None:
    """Also refuses a NUL character in the path or the query: no text of the ledger can hold one."""
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if "\x00" in str(value):
            raise InvalidInput(f"{name[:50]} contains a NUL character")
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    taken = _taken(route)
    unknown = sorted({k for k in request.query_params if k not in taken})
    if unknown:
        offered = ", ".join(sorted(taken)) or "none"
        raise InvalidInput(f"{request.method} {route.path} does not take the query parameter(s) "
                           f"{', '.join(unknown)[:200]} (it takes: {offered})")
