"""A run's conf as given by a person: a JSON object the store can keep, or a clear refusal."""

from __future__ import annotations

import json
from typing import Any

from ledgerflow.engine.domain.values import json_document
from ledgerflow.engine.errors import BadConf, Term


def parse_conf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadConf(Term("conf"), " is nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more digits than Python reads
        raise BadConf("invalid JSON in ", Term("conf"), f": {exc}") from None
    if not isinstance(value, dict):
        raise BadConf(Term("conf"), f" must be a JSON object, not {type(value).__name__}")
    return json_document(value, Term("conf"))
