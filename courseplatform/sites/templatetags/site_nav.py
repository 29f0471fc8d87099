"""``{% site_nav_items as items %}``: the school's published pages for the site menu."""

from __future__ import annotations

from typing import Any

from django import template

from courseplatform.sites.selectors import NavItem, nav_items

register = template.Library()


@register.simple_tag(takes_context=True)
def site_nav_items(context: Any) -> list[NavItem]:
    request = context.get("request")
    school = getattr(request, "school", None)
    return nav_items(school) if school is not None else []
