"""The users view and their audit entries: User and LoginFailure events folded like runs.

A user's creation, role changes and disabling, and every refused login, become audit
entries with no DAG, run or task: `event` names the change, `from_state`/`to_state`
the role (or active/disabled), `details` the user it was about.
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from ledgerflow.projections.audit import NULL, _details, _t

AGGREGATES = frozenset({"User", "LoginFailure"})
_EVENTS = {"Created": "UserCreated", "RoleSet": "UserRoleSet", "Disabled": "UserDisabled",
           "Recorded": "LoginFailed"}


def fold(users: dict[str, dict[str, Any]], kind: str, payload: dict[str, Any], at: str) -> None:
    """The view row of the user the event is about, as far as the batch knows it."""
    if kind == "Recorded":
        return
    row = users.setdefault(payload["username"], {})
    if kind == "Created":
        row.update(role=payload["role"], active=True, created_at=at, created_by=payload["actor"])
    elif kind == "RoleSet":
        row["role"] = payload["role"]
    elif kind == "Disabled":
        row["active"] = False


def audit_line(kind: str, payload: dict[str, Any], position: int, recorded_at: Any) -> str:
    """One COPY line of projections.audit.COLUMNS (without seq)."""
    moves = {"Created": (None, payload.get("role")), "RoleSet": (payload.get("from_role"), payload.get("role")),
             "Disabled": ("active", "disabled"), "Recorded": (None, None)}
    before, after = moves[kind]
    details = {"username": payload["username"]}
    if kind == "Recorded":
        details["client"] = payload["client"]
    return (f"{position}\t{_t(recorded_at)}\t{_EVENTS[kind]}\t{NULL}\t{NULL}\t{NULL}\t{_t(before)}\t{_t(after)}\t"
            f"{NULL}\t{_t(payload.get('actor'))}\t{_t(payload.get('reason'))}\t{_t(payload.get('operation_id'))}\t"
            f"{_t(payload.get('operation'))}\t{_details(details)}\n")


def write(curs: Cursor[Any], users: dict[str, dict[str, Any]]) -> None:
    """Upserts what the batch changed; a row's first sight in a batch that did not create it updates."""
    for name, row in users.items():
        if "created_at" in row:
            curs.execute(
                "INSERT INTO app_user (username, role, active, created_at, created_by) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, active = EXCLUDED.active",
                (name, row["role"], row["active"], row["created_at"], row["created_by"]))
        else:
            sets = {k: row[k] for k in ("role", "active") if k in row}
            curs.execute(f"UPDATE app_user SET {', '.join(f'{k} = %s' for k in sets)} WHERE username = %s",
                         (*sets.values(), name))
