"""`ledgerflow users create | list | set-role | disable`: who may call the HTTP API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ledgerflow.cli.common import (
    ActorOpt,
    Output,
    OutputOpt,
    ReasonOpt,
    YesOpt,
    command_group,
    confirm,
    domain_errors,
    emit,
    fail,
    printable,
    service,
    stale_views,
)

app = command_group("Users of the HTTP API and their roles (viewer, operator, auditor, admin).")

RoleArg = Annotated[str, typer.Argument(help="viewer, operator, auditor or admin.")]


def _confirmed(question: str, yes: bool) -> None:
    if not yes and not confirm(question):
        typer.echo("Cancelled, nothing was changed.")
        raise typer.Exit(1)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise fail("--password-stdin: no password on stdin")
        return line.rstrip("\r\n")
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


@app.command("create")
def create(
    username: str,
    role: Annotated[str, typer.Option("--role", help="viewer, operator, auditor or admin.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from the first line of stdin.")] = False,
    yes: YesOpt = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Create a user with a role (recorded as an event; the password only as a slow salted hash)."""
    from ledgerflow.engine.application.commands import CreateUser

    with domain_errors():
        svc = service()
        svc.check_new_user(username, role)  # refused before the password is asked for
        cmd = CreateUser(username=username, role=role, password=_password(password_stdin), reason=reason,
                         actor=actor)
        svc.check_new_user(username, role, cmd.password)
        _confirmed(f"Create user {printable(username)} with role {role}?", yes)
        svc.create_user(cmd)
    typer.echo(f"User {printable(username)} created with role {role}.")


@app.command("list")
def list_users(output: OutputOpt = Output.table) -> None:
    """List users: username, role, active, created_at, created_by."""
    with domain_errors():
        rows = service().users()
    emit(rows, output, ("username", "role", "active", "created_at", "created_by"))
    stale_views()


@app.command("set-role")
def set_role(username: str, role: RoleArg, yes: YesOpt = False, reason: ReasonOpt = None,
             actor: ActorOpt = None) -> None:
    """Change a user's role; it applies to the user's next call, tokens included."""
    from ledgerflow.engine.application.commands import SetUserRole

    with domain_errors():
        svc = service()
        current = svc.role_change(username, role)
        _confirmed(f"User {printable(username)} will change from role {current} to {role}. Change it?", yes)
        svc.set_user_role(SetUserRole(username=username, role=role, reason=reason, actor=actor))
    typer.echo(f"User {printable(username)} has role {role}.")


@app.command("disable")
def disable(username: str, yes: YesOpt = False, reason: ReasonOpt = None, actor: ActorOpt = None) -> None:
    """Disable a user: its logins and every token it holds stop working at once."""
    from ledgerflow.engine.application.commands import DisableUser

    with domain_errors():
        svc = service()
        svc.check_disable(username)
        _confirmed(f"Disable user {printable(username)} (its tokens stop working at once)?", yes)
        svc.disable_user(DisableUser(username=username, reason=reason, actor=actor))
    typer.echo(f"User {printable(username)} is disabled.")
