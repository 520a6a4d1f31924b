"""User use cases: create, set a role, disable, and log in (with refused logins recorded and throttled)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError

from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.users import LoginFailure, User, check_role, check_username, user_id
from ledgerflow.engine.domain.values import storable_text, text
from ledgerflow.engine.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound, RefusedCommand, Throttled
from ledgerflow.engine.infrastructure.store import Ledger

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()  # argon2id with the library's recommended cost
_DUMMY_HASH = _HASHER.hash("not a password anyone has")  # unknown users cost as much time as known ones


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return text(password, "the password")


def find_user(ledger: Ledger, username: str) -> User | None:
    try:
        user: User = ledger.repository.get(user_id(username))
    except AggregateNotFoundError:
        return None
    return user


def existing_user(ledger: Ledger, username: str) -> User:
    user = find_user(ledger, check_username(username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def create_user(ledger: Ledger, op: OperationContext, username: str, role: str, password: str) -> User:
    check_username(username)
    check_role(role)
    check_password(password)
    if find_user(ledger, username) is not None:
        raise AlreadyExists(f"user {username!r} exists already")
    user = User._create(User.Created, **op.stamp, username=username, role=role,
                        password_hash=_HASHER.hash(password))
    ledger.append(op.started(), user, op.ended("success", username=username, role=role))
    return user


def set_role(ledger: Ledger, op: OperationContext, username: str, role: str) -> None:
    user = existing_user(ledger, username)
    check_role(role)
    if user.role == role:
        raise RefusedCommand(f"user {username!r} has role {role} already")
    user.trigger_event(User.RoleSet, **op.stamp, username=username, from_role=user.role, role=role)
    ledger.append(op.started(), user, op.ended("success", username=username, role=role))


def disable_user(ledger: Ledger, op: OperationContext, username: str) -> None:
    user = existing_user(ledger, username)
    if not user.active:
        raise RefusedCommand(f"user {username!r} is disabled already")
    user.trigger_event(User.Disabled, **op.stamp, username=username)
    ledger.append(op.started(), user, op.ended("success", username=username))


class LoginThrottle:
    """Refused logins per username and per client in a sliding window; beyond the limit a login is
    refused without looking at the password (and without writing, so refusals cannot flood the store)."""

    def __init__(self, *, per_user: int = 5, per_client: int = 20, window: float = 300.0) -> None:
        self.limits = {"user": per_user, "client": per_client}
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], moment: float) -> deque[float]:
        found = self._failures[key]
        while found and found[0] <= moment - self.window:
            found.popleft()
        return found

    def check(self, username: str, client: str) -> None:
        moment = time.monotonic()
        with self._lock:
            for key in (("user", username), ("client", client)):
                if len(self._recent(key, moment)) >= self.limits[key[0]]:
                    raise Throttled(f"too many refused logins for this {key[0]}: try again in "
                                    f"{int(self.window)} seconds")

    def failed(self, username: str, client: str) -> None:
        moment = time.monotonic()
        with self._lock:
            for key in (("user", username), ("client", client)):
                self._recent(key, moment).append(moment)


def verify_login(ledger: Ledger, op: OperationContext, throttle: LoginThrottle, username: str, password: str,
                 client: str) -> User:
    """The active user whose password this is; anything else is recorded as a refused login."""
    throttle.check(username, client)
    plain = _is_username(username)
    user = find_user(ledger, username) if plain else None
    try:
        ok = bool(_HASHER.verify(user.password_hash if user else _DUMMY_HASH, password))
    except (VerificationError, InvalidHashError):
        ok = False
    if user is not None and ok and user.active:
        return user
    why = "unknown user" if user is None else "wrong password" if not ok else "disabled user"
    throttle.failed(username, client)
    shown = username if plain else storable_text(username[:64])
    failure = LoginFailure._create(LoginFailure.Recorded, **{**op.stamp, "reason": why},
                                   username=shown, client=storable_text(client[:100]))
    ledger.append(op.started(), failure, op.ended("refused", username=shown))
    raise NotAuthenticated("incorrect username or password, or the user is disabled")


def _is_username(username: str) -> bool:
    try:
        check_username(username)
    except InvalidInput:
        return False
    return True
