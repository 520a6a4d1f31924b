"""Logging in and out: the API's users and passwords, a session cookie instead of a bearer header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ledgerflow.engine.errors import NotAuthenticated, Throttled
from ledgerflow.web.render import page
from ledgerflow.web.session import COOKIE, LOGIN_COOKIE, check_csrf, new_login_token, service

router = APIRouter()
SESSION_SECONDS = 24 * 3600  # as long as the token inside it is valid


def _form(request: Request, status: int = 200, error: str | None = None) -> Response:
    token = new_login_token()
    answer = page(request, "login.html", status, who=False, login_csrf=token, error=error)
    answer.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return answer


@router.get("/login")
def login_form(request: Request) -> Response:
    return _form(request)


@router.post("/login")
def log_in(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
           csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf, login=True)
    client = request.client.host if request.client else "unknown"
    try:
        token = service(request).login(username, password, client=client)
    except NotAuthenticated:
        return _form(request, 401, "Wrong username or password, or the user is disabled.")
    except Throttled as exc:
        return _form(request, 429, str(exc))
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/")
    answer.delete_cookie(LOGIN_COOKIE, path="/login")
    return answer


@router.post("/logout")
def log_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/")
    return answer
