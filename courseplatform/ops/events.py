"""Domain events: what happened in a school, announced once the write has committed.

Services of the feature apps call ``emit_event(school=..., type=..., data=...)`` right
after their write. Nothing is delivered at that moment: the event is handed to every
subscriber by ``transaction.on_commit``, so a write that rolls back (a refused
redemption, a failed request) announces nothing, and a subscriber never sees a row
that does not exist yet. ``ops`` is on the ground floor and knows no feature app, so
subscribers (``webhooks``) register here in their ``AppConfig.ready``.

A subscriber's failure is logged and never undoes or breaks the write that emitted the
event (``robust=True``): the write has committed already.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

if TYPE_CHECKING:
    from courseplatform.tenancy.models import School

logger = logging.getLogger(__name__)

# Every event type a service may emit, with what it means (shown to school owners).
EVENT_TYPES: dict[str, str] = {
    "enrollment.created": "A student was enrolled in a course (code, roster or sign-up).",
    "enrollment.deleted": "A student was removed from a course.",
    "code.redeemed": "A student redeemed an access code.",
    "course.published": "A course was published.",
    "course.completed": "A student completed every lesson of a course.",
    "video.ready": "A video finished processing and can be played.",
    "video.failed": "A video could not be processed.",
    "student.created": "A student account was created (sign-up or invitation).",
}


@dataclass(frozen=True)
class Event:
    school_id: int
    type: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")
    occurred_at: datetime = field(default_factory=timezone.now)


Subscriber = Callable[[Event], object]
_subscribers: dict[str, Subscriber] = {}


def subscribe(name: str, subscriber: Subscriber) -> None:
    """Hand every committed event to ``subscriber``; registering ``name`` again replaces
    it, so a repeated ``ready()`` cannot deliver twice."""
    _subscribers[name] = subscriber


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def emit_event(*, school: School | int, type: str, data: dict[str, Any]) -> Event:
    """Announce ``type`` for ``school`` once the current transaction commits.

    Outside a transaction (autocommit) the subscribers run at once.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    school_id = school if isinstance(school, int) else school.pk
    event = Event(school_id=school_id, type=type, data=data)

    def deliver() -> None:
        for name, subscriber in list(_subscribers.items()):
            try:
                subscriber(event)
            except Exception:
                logger.exception("event %s (%s): subscriber %s failed", event.id, type, name)

    transaction.on_commit(deliver, robust=True)
    return event
