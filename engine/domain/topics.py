"""Stored topics are names, not import paths.

The eventsourcing library names an event by its class's module and qualname.
Events are stored for good and hashed into the audit chain, so the name each
event kind was first stored under is kept here whatever module its class now
lives in: moving code never makes a stored event unreadable or alters a hash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from eventsourcing.utils import register_topic

T = TypeVar("T", bound=type)


def stored_as(module: str) -> Callable[[T], T]:
    """Names the aggregate class and every event class on it `<module>:<qualname>`."""

    def name(cls: T) -> T:
        classes: list[type] = [cls, *(v for v in vars(cls).values() if isinstance(v, type))]
        for obj in classes:
            topic = f"{module}:{obj.__qualname__}"
            # TOPIC is the library's own hook for a topic other than the import path; the library
            # reads it with getattr, and `type` declares no such attribute, hence setattr
            setattr(obj, "TOPIC", topic)  # noqa: B010
            register_topic(topic, obj)
        return cls

    return name


def topic_of(cls: type) -> str:
    """The name `stored_as` gave cls (its events are stored under it)."""
    topic: str = vars(cls)["TOPIC"]
    return topic
