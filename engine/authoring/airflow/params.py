"""`Param`: a DAG or task parameter with a default and a JSON Schema the run's value must satisfy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerflow.engine.authoring.airflow.exceptions import ParamValidationError

NOTSET: Any = type("ArgNotSet", (), {"__repr__": lambda self: "NOTSET"})()


class Param:
    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any) -> None:
        self.value = default
        self.description = description
        self.schema = schema.pop("schema", None) or schema

    def resolve(self, value: Any = NOTSET, name: str = "") -> Any:
        """The value (or the default) checked against the schema."""
        value = self.value if value is NOTSET else value
        if value is NOTSET:
            raise ParamValidationError(f"No value passed and Param {name!r} has no default value")
        if self.schema:
            import jsonschema

            try:
                jsonschema.validate(value, self.schema, format_checker=jsonschema.FormatChecker())
            except jsonschema.ValidationError as exc:
                raise ParamValidationError(f"Invalid input for param {name}: {exc.message}") from None
        return value

    def dump(self) -> dict[str, Any]:
        return {"value": self.value, "description": self.description, "schema": self.schema}


class ParamsDict(dict[str, Any]):
    """Params by name (a plain dict here)."""


def resolve_params(*layers: Mapping[str, Any], conf: Mapping[str, Any]) -> dict[str, Any]:
    """DAG params, then task params, then the run's conf, each Param validated: what `params` is in a try."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    merged.update(conf)
    out: dict[str, Any] = {}
    for name, value in merged.items():
        declared = next((layer[name] for layer in reversed(layers) if isinstance(layer.get(name), Param)), None)
        if isinstance(value, Param):
            out[name] = value.resolve(name=name)
        elif declared is not None:
            out[name] = declared.resolve(value, name=name)
        else:
            out[name] = value
    return out
