"""Configuration read from the environment (the public contract's variables)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path


def home() -> Path:
    """Where the embedded server's data and the task logs live: a directory, or where one can be made."""
    configured = os.environ.get("LEDGERFLOW_HOME")
    if configured:
        path = Path(configured).expanduser().resolve()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("ledgerflow"))
    for part in (path, *path.parents):  # the nearest existing one decides
        if part.exists():
            if not part.is_dir():
                from ledgerflow.engine.errors import InvalidInput

                where = "" if part == path else f" ({part} is a file)"
                raise InvalidInput(f"LEDGERFLOW_HOME {path} is not a directory{where}")
            break
    return path


def database_url() -> str | None:
    return os.environ.get("LEDGERFLOW_DATABASE_URL") or None


def dags_folder() -> Path:
    return Path(os.environ.get("LEDGERFLOW_DAGS_FOLDER", "./dags")).expanduser()


def actor(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    configured = os.environ.get("LEDGERFLOW_ACTOR")
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


DEFAULT_PARALLELISM = 32  # as Airflow's `parallelism`; local workers are forked on demand, not up front


def parallelism() -> int:
    raw = os.environ.get("LEDGERFLOW_PARALLELISM")
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value > 0:
            return value
        from ledgerflow.engine.errors import InvalidInput

        raise InvalidInput(f"LEDGERFLOW_PARALLELISM must be a positive integer, not {raw!r}")
    return DEFAULT_PARALLELISM


def require_reason() -> bool:
    return os.environ.get("LEDGERFLOW_REQUIRE_REASON", "") not in ("", "0", "false", "no")


def logs_dir() -> Path:
    return home() / "logs"


def version() -> str:
    """The installed distribution's version (a checkout that is not installed: 0+source)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ledgerflow")
    except PackageNotFoundError:
        return "0+source"


def dagbag_import_timeout() -> float:
    """Seconds one DAG file may take to load, as Airflow's dagbag_import_timeout; 0: no limit."""
    raw = os.environ.get("LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT", "").strip()
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value >= 0 and value != float("inf"):
        return value
    from ledgerflow.engine.errors import InvalidInput

    raise InvalidInput(f"LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT must be a number of seconds (0: no limit), not {raw!r}")


DEFAULT_DB_TIMEOUT = 30.0


def db_timeout() -> float:
    """Seconds one database statement may take (LEDGERFLOW_DB_TIMEOUT; 0: no limit): the server
    cancels it then, and this process stops waiting for a server that does not answer soon after."""
    raw = os.environ.get("LEDGERFLOW_DB_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_DB_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if 0 <= value < 10**6:
        return value
    from ledgerflow.engine.errors import InvalidInput

    raise InvalidInput(f"LEDGERFLOW_DB_TIMEOUT must be a number of seconds (0: no limit), not {raw!r}")


DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"


def broker_url() -> str:
    """The Celery broker (LEDGERFLOW_BROKER_URL): it carries commands only, never truth."""
    return os.environ.get("LEDGERFLOW_BROKER_URL") or DEFAULT_BROKER_URL


def heartbeat_timeout() -> float:
    """Seconds a Celery worker's try may go without a heartbeat before it counts as dead (default 60)."""
    raw = os.environ.get("LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else 60.0
    except ValueError:
        value = -1.0
    if 0 < value < 10**6:
        return value
    from ledgerflow.engine.errors import InvalidInput

    raise InvalidInput(f"LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT must be a positive number of seconds, not {raw!r}")


def hostname() -> str:
    """The name tries run here record (a Celery worker's -H sets LEDGERFLOW_HOSTNAME)."""
    import socket

    return os.environ.get("LEDGERFLOW_HOSTNAME") or socket.gethostname()
