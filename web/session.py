"""Who is looking: the signed session cookie, the CSRF token every change must carry, and the role check.

The session cookie holds the API's own signed token (so a disabled user's session stops at
once, as their bearer tokens do); it is HttpOnly and SameSite=Strict. The CSRF token is an
HMAC of that secret cookie, which a page of another site can neither read nor compute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from ledgerflow.engine.application.service import Caller, Ledgerflow
from ledgerflow.engine.errors import Forbidden, LedgerflowError

COOKIE = "ledgerflow_session"
LOGIN_COOKIE = "ledgerflow_login"  # the login form's own CSRF token, before there is a session


class NeedLogin(Exception):
    """No valid session: the page redirects to the login form."""


def service(request: Request) -> Ledgerflow:
    svc: Ledgerflow = request.app.state.service
    return svc


def caller(request: Request) -> Caller:
    token = request.cookies.get(COOKIE)
    if not token:
        raise NeedLogin()
    try:
        return service(request).caller(token)
    except LedgerflowError:
        raise NeedLogin() from None


def csrf_token(request: Request) -> str:
    token = request.cookies.get(COOKIE, "")
    return hmac.new(token.encode(), b"ledgerflow-web-csrf", hashlib.sha256).hexdigest() if token else ""


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(request: Request, given: str | None, *, login: bool = False) -> None:
    """Refuses a change whose form does not carry the session's CSRF token (403, nothing written)."""
    expected = request.cookies.get(LOGIN_COOKIE, "") if login else csrf_token(request)
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again")


def may(svc: Ledgerflow, who: Caller, permission: str) -> bool:
    try:
        svc.authorize(who, permission)
    except Forbidden:
        return False
    return True
