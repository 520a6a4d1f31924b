"""Users of the HTTP API: who may do what, set through events like every other change.

A user's password is kept only as a slow salted hash (argon2id) in the event that
created the user. Roles grant permissions; a face names the permission a call needs
and `allows` decides, so the rule is in one place for every face.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from ledgerflow.engine.domain.stamped import StampedEvent
from ledgerflow.engine.domain.topics import stored_as
from ledgerflow.engine.errors import InvalidInput

ROLES = ("viewer", "operator", "auditor", "admin")
# read: DAGs, runs, task instances, logs; operate: trigger, clear, mark, pause, backfill;
# audit: the event logs and the audit endpoints; admin: users and pools
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "operate"}),
    "auditor": frozenset({"read", "audit"}),
    "admin": frozenset({"read", "operate", "audit", "admin"}),
}
_USERNAME = re.compile(r"[A-Za-z0-9_.@\-]{1,64}")


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://ledgerflow.dev/user/{username}")


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(f"invalid username {username[:70]!r}: 1 to 64 letters, digits, _ . @ -")
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role[:40]!r}: {', '.join(ROLES[:-1])} or {ROLES[-1]}")
    return role


def allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


@stored_as("engine.users")
class User(Aggregate):
    class Event(StampedEvent):
        pass

    class Created(Event, Aggregate.Created):
        username: str
        role: str
        password_hash: str

    class RoleSet(Event):
        username: str
        from_role: str
        role: str

        def apply(self, aggregate: User) -> None:
            aggregate.role = self.role

    class Disabled(Event):
        username: str

        def apply(self, aggregate: User) -> None:
            aggregate.active = False

    @staticmethod
    def create_id(username: str, **_: Any) -> UUID:
        return user_id(username)

    def __init__(self, username: str, role: str, password_hash: str) -> None:
        self.username = username
        self.role = role
        self.password_hash = password_hash
        self.active = True


@stored_as("engine.users")
class LoginFailure(Aggregate):
    """One refused login (wrong password, unknown or disabled user), kept for the audit trail."""

    class Recorded(StampedEvent, Aggregate.Created):
        username: str
        client: str

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    def __init__(self, username: str, client: str) -> None:
        self.username = username
        self.client = client
