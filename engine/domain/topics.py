"""Stored topics are names, not import paths.

The eventsourcing library names an event by its class's module and qualname.
Events are stored for good and hashed into the audit chain, so the name each
event kind was first stored under is kept here whatever module its class now
lives in: moving code never makes a stored event unreadable or alters a hash.
"""

from __future__ import annotations

from typing import TypeVar

from eventsourcing.utils import register_topic

T = TypeVar("T", bound=type)


def stored_as(module: str):  # type: ignore[no-untyped-def]
    """Names the aggregate class and every event class on it `<module>:<qualname>`."""

    def name(cls: T) -> T:
        for obj in (cls, *(v for v in vars(cls).values() if isinstance(v, type))):
            topic = f"{module}:{obj.__qualname__}"
            obj.TOPIC = topic  # the library's own hook for a topic other than the import path
            register_topic(topic, obj)
        return cls

    return name
