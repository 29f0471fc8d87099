"""Every event the platform emits has words for the management pages, in every language."""

from __future__ import annotations

from django import forms
from django.utils.translation import override

from courseplatform.ops.events import EVENT_TYPES
from courseplatform.webhooks.event_labels import EVENT_LABELS, event_meaning
from courseplatform.webhooks.forms import EndpointForm


def test_event_labels_name_exactly_the_events_there_are() -> None:
    assert set(EVENT_LABELS) == set(EVENT_TYPES)
    # Same words as the API's list in English, so the two never drift apart in meaning.
    assert {name: str(label) for name, label in EVENT_LABELS.items()} == EVENT_TYPES


def test_event_labels_and_choices_are_translated_when_shown() -> None:
    with override("de"):
        assert event_meaning("course.published") == "Ein Kurs wurde veröffentlicht."
        field = EndpointForm().fields["event_types"]
        assert isinstance(field, forms.MultipleChoiceField)
        choices = dict(field.choices)  # type: ignore[arg-type]  # a plain list here
        assert str(choices["course.published"]) == (
            "course.published — Ein Kurs wurde veröffentlicht."
        )
    with override("en"):
        assert str(choices["course.published"]) == "course.published — A course was published."
    assert event_meaning("no.such.event") == ""
