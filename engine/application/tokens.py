"""API tokens: signed JWTs with an expiry, and the key that signs them.

The key is LEDGERFLOW_SECRET_KEY, else one generated once into LEDGERFLOW_HOME
(mode 0600, created exclusively so two servers starting at once share one key).
A token names its user only: the role and whether the user is still active are
read from the user's events on every call, so a disabled user's tokens stop at once.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

import jwt

from ledgerflow.engine.errors import InvalidInput, NotAuthenticated
from ledgerflow.engine.infrastructure import settings

TOKEN_TTL = 24 * 3600  # seconds, as Airflow's default jwt_expiration_time
_ALGORITHM = "HS256"
_KEY_FILE = "secret_key"


def _key_file() -> Path:
    return settings.home() / _KEY_FILE


def secret_key() -> str:
    configured = os.environ.get("LEDGERFLOW_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise InvalidInput("LEDGERFLOW_SECRET_KEY must be at least 32 characters")
        return configured
    path = _key_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < 32:
        raise InvalidInput(f"the secret key in {path} is too short: remove the file to generate a new one")
    return key


def issue(username: str, key: str, *, ttl: int = TOKEN_TTL) -> str:
    moment = int(time.time())
    return jwt.encode({"sub": username, "iat": moment, "exp": moment + ttl, "jti": secrets.token_hex(8)},
                      key, algorithm=_ALGORITHM)


def subject(token: str, key: str) -> str:
    """The username a valid, unexpired token was issued to."""
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("the token has expired: ask for a new one") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("invalid token") from None
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise NotAuthenticated("invalid token")
    return sub
