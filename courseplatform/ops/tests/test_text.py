"""The one-line rule for names and titles, and one-line email header text."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from courseplatform.ops.text import (
    CONTROL_CHARACTERS_MESSAGE,
    SingleLineField,
    header_text,
    validate_single_line,
)

CONTROLS = {
    "CR": "\r",
    "LF": "\n",
    "CRLF": "\r\n",
    "FF": "\x0c",
    "NUL": "\x00",
    "TAB": "\t",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "C1 CSI": "\x9b",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
}


@pytest.mark.parametrize("control", CONTROLS.values(), ids=CONTROLS.keys())
def test_single_line_field_refuses_each_control_inside_a_name(control: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SingleLineField(max_length=120).clean(f"Alpha{control}Bcc: x@example.com")
    assert CONTROL_CHARACTERS_MESSAGE in refused.value.messages
    with pytest.raises(ValidationError) as keyed:
        validate_single_line(f"Alpha{control}B", field="title")
    assert keyed.value.message_dict == {"title": [CONTROL_CHARACTERS_MESSAGE]}


@pytest.mark.parametrize(
    "name", ["Ana María Ñúñez", "O'Brien-Smith", "李小龙", "Zoë 🎨 Art", "a  b"]
)
def test_single_line_field_keeps_real_names(name: str) -> None:
    assert SingleLineField(max_length=120).clean(f"  {name} ") == name
    validate_single_line(name, field="name")


@pytest.mark.parametrize("control", CONTROLS.values(), ids=CONTROLS.keys())
def test_header_text_is_one_line(control: str) -> None:
    assert header_text(f"Confirm for Alpha{control}Bcc: x@example.com") == (
        "Confirm for Alpha Bcc: x@example.com"
    )
