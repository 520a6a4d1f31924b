"""The FastAPI application: routes, Airflow's error shapes, bounded bodies, CORS only when configured, and the
web UI mounted at `/`.

Domain errors become Airflow's HTTPExceptionResponse (`{"detail": ...}`) with the
status the specification gives: 400 refused input, 401 no valid token, 403 beyond
the role, 404 not found, 409 exists already or changed meanwhile, 429 throttled
logins. Anything unexpected is a 500 with a one-line detail, never a traceback.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import ledgerflow.engine.errors as errors
from ledgerflow.api.models import HTTPExceptionResponse
from ledgerflow.api.statuses import detail, status_of
from ledgerflow.engine.application.service import Ledgerflow, version

MAX_BODY = 1024 * 1024  # bytes; the largest body any of these calls needs is a few kB
_LOG = logging.getLogger("ledgerflow.api")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": HTTPExceptionResponse, "description": why} for code, why in (
        (400, "Refused input"), (401, "No valid token"), (403, "Beyond the caller's role"), (404, "Not found"),
        (409, "Exists already, or changed meanwhile"), (413, "Request body too large"),
        (429, "Too many failed logins"), (503, "The database is unavailable"))}



class BoundedBody:
    """Refuses request bodies over MAX_BODY bytes with 413, whether or not they declare a length."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await JSONResponse({"detail": f"request body over {MAX_BODY} bytes"}, 413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await JSONResponse({"detail": f"request body over {MAX_BODY} bytes"}, 413)(scope, receive, send)


class _TooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"request body over {MAX_BODY} bytes")


def create_app(svc: Ledgerflow | None = None) -> FastAPI:
    from ledgerflow.api import access, backfills, dags, ledgerflow_routes, runs, task_instances, various, xcoms
    from ledgerflow.api.query_guard import known_query

    app = FastAPI(title="ledgerflow", version=version(), description="Airflow 3's REST API over ledgerflow's ledger",
                  docs_url="/docs", redoc_url=None, dependencies=[Depends(known_query)])
    app.state.service = svc or Ledgerflow()
    for module in (access, various, dags, runs, task_instances, xcoms, backfills, ledgerflow_routes):
        app.include_router(module.router, responses=ERRORS)

    @app.exception_handler(errors.LedgerflowError)
    def domain_error(request: Request, exc: errors.LedgerflowError) -> JSONResponse:
        code = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"detail": detail(exc)}, status_code=code, headers=headers)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _LOG.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)

    origins = [o.strip() for o in os.environ.get("LEDGERFLOW_API_CORS_ORIGINS", "").split(",") if o.strip()]
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "X-Ledgerflow-Reason"])
    app.add_middleware(BoundedBody)
    from ledgerflow.web.app import create_web

    app.mount("/", create_web(app.state.service))  # last: every API path above is matched first
    return app
