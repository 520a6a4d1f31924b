"""The web UI's application: Jinja2 pages and vendored static files, mounted by the API at `/`.

Errors are pages here, not JSON: a domain refusal is shown in one line with its HTTP
status, a missing session redirects to the login form, and nothing unexpected shows a
traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ledgerflow.api.statuses import detail, status_of
from ledgerflow.engine.application.service import Ledgerflow
from ledgerflow.engine.errors import LedgerflowError
from ledgerflow.web.render import HERE, page
from ledgerflow.web.session import NeedLogin

_LOG = logging.getLogger("ledgerflow.web")


def create_web(svc: Ledgerflow) -> FastAPI:
    from ledgerflow.web import actions, audit, backfills, dags, grid, login, task_panel

    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.service = svc
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (login, dags, grid, task_panel, actions, backfills, audit):
        web.include_router(module.router)

    @web.exception_handler(NeedLogin)
    def to_login(request: Request, exc: NeedLogin) -> Response:
        return RedirectResponse("/login", status_code=303)

    @web.exception_handler(LedgerflowError)
    def refused(request: Request, exc: LedgerflowError) -> Response:
        if request.headers.get("x-fragment"):
            return HTMLResponse(f'<p class="error" role="alert">{_escape(detail(exc))}</p>', status_of(exc))
        return page(request, "error.html", status_of(exc), message=detail(exc))

    @web.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> Response:
        _LOG.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return page(request, "error.html", 500, message=f"internal error ({type(exc).__name__})")

    return web


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
