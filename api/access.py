"""Who is calling: the bearer token's user and the permission a route needs, and the reason a change gives.

Routes declare `Depends(allowed("operate"))`; the service decides whether the caller's
role has that permission, before the route calls any use case, so a refused call
writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledgerflow.api.models import TokenBody, TokenResponse
from ledgerflow.engine.application.service import Caller, Ledgerflow

REASON_HEADER = "X-Ledgerflow-Reason"
_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")

router = APIRouter()


def service(request: Request) -> Ledgerflow:
    svc: Ledgerflow = request.app.state.service
    return svc


def allowed(permission: str) -> Callable[..., Caller]:
    def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
               svc: Annotated[Ledgerflow, Depends(service)]) -> Caller:
        found = svc.caller(credentials.credentials if credentials else None)
        svc.authorize(found, permission)
        return found

    return caller


def reason(request: Request, note: str | None = None) -> str | None:
    """The body's note, else the X-Ledgerflow-Reason header."""
    return note if note else request.headers.get(REASON_HEADER) or None


@router.post("/auth/token", status_code=201, response_model=TokenResponse, tags=["Login"])
def create_token(body: TokenBody, request: Request, svc: Annotated[Ledgerflow, Depends(service)]) -> TokenResponse:
    client = request.client.host if request.client else "unknown"
    return TokenResponse(access_token=svc.login(body.username, body.password, client=client))
