"""``{% video_player_context lesson [enrolled=… state=…] as player %}``: URLs and state for
the player partial."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import formats

from courseplatform.video import playback

register = template.Library()


@register.simple_tag(takes_context=True)
def video_player_context(
    context: Any, lesson: Any, enrolled: Any = None, state: Any = None
) -> dict[str, Any] | None:
    """``enrolled`` and ``state`` come from a page that already looked them up (the
    lesson page); anywhere else they are unset and the player looks them up itself."""
    request = context.get("request")
    if request is None or lesson is None:
        return None
    return playback.player_context(
        request=request,
        lesson=lesson,
        enrolled=enrolled if isinstance(enrolled, bool) else None,
        state=state or None,
    )


@register.filter
def clock(seconds: Any) -> str:
    """``754`` → ``12:34``; ``3725`` → ``1:02:05``."""
    try:
        total = int(float(seconds))
    except (TypeError, ValueError):
        return "0:00"
    hours, rest = divmod(max(total, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def video_rates(value: str) -> list[str]:
    """``"0.5,1,2"`` → ``["0.5", "1", "2"]`` (the speed menu)."""
    return [part.strip() for part in str(value).split(",") if part.strip()]


@register.filter
def rate_label(value: str) -> str:
    """``"1.5"`` → ``"1,5"`` in a language that writes decimals with a comma (the
    menu's label; ``data-rate`` keeps the dot for the script)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return formats.number_format(number, use_l10n=True)
