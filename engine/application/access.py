"""Users, logins and tokens: the service's use cases for who may call the HTTP API.

Mixed into the service, which provides the ledger. A face authenticates a call with
`caller(token)` and asks `authorize(caller, permission)` before the use case, so a
refused call writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledgerflow.engine.domain.operation import new_operation
from ledgerflow.engine.errors import Forbidden, NotAuthenticated
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.application.commands import CreateUser, DisableUser, SetUserRole
    from ledgerflow.engine.application.users import LoginThrottle


@dataclass(frozen=True)
class Caller:
    """The authenticated user of one call, as the user's events say now."""

    username: str
    role: str


class Access:
    def _ledger(self, *, catch_up: bool = True) -> Ledger:
        raise NotImplementedError

    @property
    def _throttle(self) -> LoginThrottle:
        from ledgerflow.engine.application.users import LoginThrottle

        found: LoginThrottle = self.__dict__.setdefault("_login_throttle", LoginThrottle())
        return found

    # -- users -------------------------------------------------------------------------------

    def check_new_user(self, username: str, role: str, password: str | None = None) -> None:
        """Refuses a user that could not be created, before a face asks for a password or confirmation."""
        from ledgerflow.engine.application.users import check_password, find_user
        from ledgerflow.engine.domain.users import check_role, check_username
        from ledgerflow.engine.errors import AlreadyExists

        check_username(username)
        check_role(role)
        if password is not None:
            check_password(password)
        if find_user(self._ledger(catch_up=False), username) is not None:
            raise AlreadyExists(f"user {username!r} exists already")

    def create_user(self, cmd: CreateUser) -> None:
        from ledgerflow.engine.application.users import create_user

        op = new_operation("users create", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments())
        create_user(self._ledger(catch_up=False), op, cmd.username, cmd.role, cmd.password)

    def role_change(self, username: str, role: str) -> str:
        """The user's current role, for a face to confirm the change; a change that would be refused
        is refused here."""
        from ledgerflow.engine.application.users import existing_user
        from ledgerflow.engine.domain.users import check_role
        from ledgerflow.engine.errors import RefusedCommand

        user = existing_user(self._ledger(catch_up=False), username)
        if user.role == check_role(role):
            raise RefusedCommand(f"user {username!r} has role {role} already")
        return user.role

    def check_disable(self, username: str) -> None:
        from ledgerflow.engine.application.users import existing_user
        from ledgerflow.engine.errors import RefusedCommand

        if not existing_user(self._ledger(catch_up=False), username).active:
            raise RefusedCommand(f"user {username!r} is disabled already")

    def set_user_role(self, cmd: SetUserRole) -> None:
        from ledgerflow.engine.application.users import set_role

        op = new_operation("users set-role", actor=cmd.actor, reason=cmd.reason,
                           arguments={"username": cmd.username, "role": cmd.role})
        set_role(self._ledger(catch_up=False), op, cmd.username, cmd.role)

    def disable_user(self, cmd: DisableUser) -> None:
        from ledgerflow.engine.application.users import disable_user

        op = new_operation("users disable", actor=cmd.actor, reason=cmd.reason, arguments={"username": cmd.username})
        disable_user(self._ledger(catch_up=False), op, cmd.username)

    def users(self) -> list[dict[str, Any]]:
        """Every user: username, role, active, created_at, created_by (the JSON contract)."""
        from ledgerflow.engine.domain.dates import iso

        with self._ledger().cursor() as curs:
            curs.execute("SELECT username, role, active, created_at, created_by FROM app_user ORDER BY username")
            rows = curs.fetchall()
        return [{**r, "created_at": iso(r["created_at"])} for r in rows]

    # -- logins and tokens ---------------------------------------------------------------------

    def login(self, username: str, password: str, *, client: str) -> str:
        """A signed token for an active user's right password; a refusal is recorded and throttled."""
        from ledgerflow.engine.application import tokens
        from ledgerflow.engine.application.users import verify_login

        key = tokens.secret_key()
        op = new_operation("auth token", actor="anonymous", reason=None, arguments={"client": client[:100]},
                           mutating=False)
        user = verify_login(self._ledger(catch_up=False), op, self._throttle, username, password, client)
        return tokens.issue(user.username, key)

    def caller(self, token: str | None) -> Caller:
        """The active user a token was issued to (NotAuthenticated otherwise)."""
        from ledgerflow.engine.application import tokens
        from ledgerflow.engine.application.users import find_user

        if not token:
            raise NotAuthenticated("not authenticated: send Authorization: Bearer <token> from POST /auth/token")
        username = tokens.subject(token, tokens.secret_key())
        user = find_user(self._ledger(catch_up=False), username)
        if user is None or not user.active:
            raise NotAuthenticated("the token's user is disabled or unknown")
        return Caller(user.username, user.role)

    @staticmethod
    def authorize(caller: Caller, permission: str) -> None:
        from ledgerflow.engine.domain.users import allows

        if not allows(caller.role, permission):
            raise Forbidden(f"user {caller.username!r} (role {caller.role}) may not {permission}")
