"""Variables and Connections from the environment (`AIRFLOW_VAR_<KEY>`, `AIRFLOW_CONN_<ID>`), as Airflow's
environment secrets backend reads them; a miss names the variable that would have held it."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ledgerflow.engine.authoring.airflow.exceptions import AirflowNotFoundException

_NOTSET: Any = object()


def _env(prefix: str, key: str) -> str | None:
    return os.environ.get(f"{prefix}{key.upper()}")


class Variable:
    @staticmethod
    def get(key: str, default_var: Any = _NOTSET, deserialize_json: bool = False, default: Any = _NOTSET) -> Any:
        raw = _env("AIRFLOW_VAR_", key)
        if raw is None:
            fallback = default if default is not _NOTSET else default_var
            if fallback is _NOTSET:
                raise KeyError(f"Variable {key} does not exist (set AIRFLOW_VAR_{key.upper()})")
            return fallback
        return json.loads(raw) if deserialize_json else raw

    @staticmethod
    def set(key: str, value: Any, serialize_json: bool = False, **_: Any) -> None:
        raise NotImplementedError("Variables are read from AIRFLOW_VAR_* environment variables; set one there")


class Connection:
    def __init__(self, conn_id: str | None = None, conn_type: str | None = None, host: str | None = None,
                 login: str | None = None, password: str | None = None, schema: str | None = None,
                 port: int | None = None, extra: Any = None, description: str | None = None, uri: str | None = None):
        self.conn_id, self.conn_type, self.host, self.login = conn_id, conn_type, host, login
        self.password, self.schema, self.port, self.description = password, schema, port, description
        self.extra = extra if isinstance(extra, str) or extra is None else json.dumps(extra)
        if uri:
            self._parse(uri)

    def _parse(self, uri: str) -> None:
        parts = urlsplit(uri)
        self.conn_type = parts.scheme.replace("-", "_")
        self.host = unquote(parts.hostname) if parts.hostname else None
        self.login = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.port = parts.port
        self.schema = unquote(parts.path.lstrip("/")) or None
        query = dict(parse_qsl(parts.query))
        self.extra = query.pop("__extra__", None) or (json.dumps(query) if query else None)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return json.loads(self.extra) if self.extra else {}

    def get_uri(self) -> str:
        auth = f"{self.login or ''}:{self.password or ''}@" if self.login or self.password else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.conn_type}://{auth}{self.host or ''}{port}/{self.schema or ''}"

    @classmethod
    def get(cls, conn_id: str) -> Connection:
        return cls.get_connection_from_secrets(conn_id)

    @classmethod
    def get_connection_from_secrets(cls, conn_id: str) -> Connection:
        raw = _env("AIRFLOW_CONN_", conn_id)
        if raw is None:
            raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined "
                                           f"(set AIRFLOW_CONN_{conn_id.upper()})")
        if raw.strip().startswith("{"):
            fields = json.loads(raw)
            return cls(conn_id=conn_id, **{k: v for k, v in fields.items() if k != "conn_id"})
        return cls(conn_id=conn_id, uri=raw)


class BaseHook:
    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        return Connection.get_connection_from_secrets(conn_id)


class _Values:
    """`{{ var.value.x }}`, `{{ var.json.x }}`, `var.value.get(x, default)`."""

    def __init__(self, as_json: bool) -> None:
        self._json = as_json

    def get(self, key: str, default: Any = _NOTSET) -> Any:
        return Variable.get(key, default_var=default, deserialize_json=self._json)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self.get(key)


class _Connections:
    def get(self, conn_id: str, default: Any = None) -> Connection | None:
        try:
            return Connection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException:
            return default

    def __getattr__(self, conn_id: str) -> Connection:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return Connection.get_connection_from_secrets(conn_id)


VAR = {"value": _Values(False), "json": _Values(True)}
CONN = _Connections()
