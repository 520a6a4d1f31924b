"""Least privilege: the commands' role may append and read events and keep the views, never own them.

Only a table's owner (or a superuser) can disable the append-only triggers or drop
the tables, so the role the commands connect as owns nothing: `ledgerflow_app` is
granted what the commands do and no more. The owner is whoever migrates.

Roles are cluster-wide and several databases of one server may be migrated at once:
creating the role tolerates another session creating it meanwhile, and grants are
serialized by an advisory lock (grants on one table at once collide otherwise).
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

APP_ROLE = "ledgerflow_app"
SUPERUSER = "postgres"  # the embedded server's superuser, as initdb -U names it
ROLES_KEY = 7_220_417_101  # transaction-scoped: one role setup at a time per database (beside locks.py's keys)

_EVENTS = "ledgerflow_events"
_SCHEMA_TABLE = "ledgerflow_schema"  # migration bookkeeping: read by the commands, written by migrations only
_VIEW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE"

_WHO = """
SELECT current_user AS me, r.rolsuper AS super, r.rolcreaterole AS createrole,
       (SELECT rolcanlogin FROM pg_roles WHERE rolname = %(role)s) AS app_login,
       (SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c
         WHERE c.oid = to_regclass(%(events)s)) AS owner,
       current_setting('server_version_num')::int AS version
FROM pg_roles r WHERE r.rolname = current_user
"""

# Tables of the events table's schema and owner: what migrations made. Append-only ones carry the guard trigger.
_TABLES = """
SELECT c.oid::regclass::text AS name, c.relname, c.relkind,
       EXISTS (SELECT 1 FROM pg_trigger t
               WHERE t.tgrelid = c.oid AND t.tgfoid = to_regproc('ledgerflow_refuse_change')) AS append_only
FROM pg_class c, pg_class e
WHERE e.oid = to_regclass(%(events)s) AND c.relnamespace = e.relnamespace AND c.relowner = e.relowner
  AND c.relkind IN ('r', 'p', 'S')
ORDER BY c.relname
"""


def set_up(curs: Cursor[Any], *, login: bool = False) -> None:
    """Creates APP_ROLE (with LOGIN when asked) and grants it the tables, as far as this user may:
    creating needs CREATEROLE, granting the tables' ownership; what it may not is an administrator's."""
    curs.execute("SELECT pg_advisory_xact_lock(%s)", (ROLES_KEY,))
    curs.execute(_WHO, {"role": APP_ROLE, "events": _EVENTS})
    who = curs.fetchone()
    assert who is not None  # current_user is a role
    may_create = who["super"] or who["createrole"]
    if who["app_login"] is None:
        if not may_create:
            return
        ensure_role(curs, APP_ROLE, login=login)
    elif login and not who["app_login"] and may_create:
        curs.execute(SQL("ALTER ROLE {} LOGIN").format(Identifier(APP_ROLE)))
    if who["super"] or who["owner"]:
        _grant(curs, lock="MAINTAIN" if who["version"] >= 170000 else "UPDATE")


def ensure_role(curs: Cursor[Any], name: str, *, login: bool) -> None:
    """CREATE ROLE, unless it exists or another session creates it at the same time."""
    create = SQL("CREATE ROLE {} {}").format(Identifier(name), SQL("LOGIN" if login else "NOLOGIN"))
    body = SQL("BEGIN {}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END").format(create)
    curs.execute(SQL("DO {}").format(SQL("$ledgerflow$") + body + SQL("$ledgerflow$")))


def _grant(curs: Cursor[Any], *, lock: str) -> None:
    """Append-only tables: read and insert (the events table also the lock the recorder takes before
    appending: PostgreSQL asks UPDATE, or MAINTAIN since 17, for LOCK ... EXCLUSIVE; its trigger still
    refuses every UPDATE). Views and tracking: full DML. Sequences: nextval and currval."""
    curs.execute(_TABLES, {"events": _EVENTS})
    role = Identifier(APP_ROLE)
    for table in curs.fetchall():
        if table["relkind"] == "S":
            privileges = "USAGE, SELECT"
        elif table["relname"] == _SCHEMA_TABLE:
            privileges = "SELECT"
        elif table["relname"] == _EVENTS:
            privileges = f"SELECT, INSERT, {lock}"
        elif table["append_only"]:
            privileges = "SELECT, INSERT"
        else:
            privileges = _VIEW_PRIVILEGES
        kind = "SEQUENCE" if table["relkind"] == "S" else "TABLE"
        curs.execute(SQL("GRANT {} ON {} {} TO {}").format(
            SQL(privileges), SQL(kind), SQL(table["name"]), role))  # regclass text: quoted and qualified
    curs.execute(
        "SELECT n.nspname AS schema, has_schema_privilege(%(role)s, n.oid, 'USAGE') AS usable "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%(events)s)",
        {"role": APP_ROLE, "events": _EVENTS})
    schema = curs.fetchone()
    if schema is not None and not schema["usable"]:
        curs.execute(SQL("GRANT USAGE ON SCHEMA {} TO {}").format(Identifier(schema["schema"]), role))


def connection_warning(curs: Cursor[Any]) -> str | None:
    """Why the connected role is more than the commands need: a superuser, or the events table's owner."""
    curs.execute(_WHO, {"role": APP_ROLE, "events": _EVENTS})
    who = curs.fetchone()
    assert who is not None
    if who["super"]:
        what = "a superuser"
    elif who["owner"]:
        what = f"the owner of {_EVENTS}"
    else:
        return None
    return (f"connected as {who['me']}, {what}: it could disable the append-only triggers; "
            f"connect as a role granted {APP_ROLE} instead")
