"""Rendering a page: the Jinja2 templates and what every page shows (the user, their role's powers, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ledgerflow.engine.application.service import version
from ledgerflow.web.session import NeedLogin, caller, csrf_token, may, service

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["version"] = version()
STATES = ("success", "failed", "upstream_failed", "running", "queued", "scheduled", "up_for_retry", "skipped",
          "removed", "restarting", "none")


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with what every page shows: the user, their role's powers and the CSRF token."""
    svc = service(request)
    who = context.pop("who", None)
    if who is None:
        try:
            who = caller(request)
        except NeedLogin:
            who = None
    powers = {p: bool(who) and may(svc, who, p) for p in ("operate", "audit", "admin")}
    return templates.TemplateResponse(request, name, {"who": who, "can": powers, "csrf": csrf_token(request),
                                                      "states": STATES, **context}, status_code=status_code)
