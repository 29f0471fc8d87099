"""What each event means, for the owner choosing events and reading an endpoint's page.

``ops.events.EVENT_TYPES`` is the list of events (and the English words in the API's
docs); the ground floor holds no translations, so the words shown in the management
pages are marked here. ``test_event_labels`` keeps both lists the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from courseplatform.ops.events import EVENT_TYPES

if TYPE_CHECKING:  # django-stubs, a development dependency
    from django_stubs_ext import StrOrPromise

EVENT_LABELS: dict[str, StrOrPromise] = {
    "enrollment.created": _("A student was enrolled in a course (code, roster or sign-up)."),
    "enrollment.deleted": _("A student was removed from a course."),
    "code.redeemed": _("A student redeemed an access code."),
    "course.published": _("A course was published."),
    "course.completed": _("A student completed every lesson of a course."),
    "video.ready": _("A video finished processing and can be played."),
    "video.failed": _("A video could not be processed."),
    "student.created": _("A student account was created (sign-up or invitation)."),
}


def event_meaning(name: str) -> StrOrPromise:
    """The event's meaning in the current language ("" for a name no longer known)."""
    return EVENT_LABELS.get(name) or EVENT_TYPES.get(name, "")
