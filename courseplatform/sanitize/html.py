"""The page builder's HTML, reduced to an allow-list with nh3.

No script, no event handlers, no ``style`` attributes, no forms, no iframes/objects, no
SVG/MathML (their content is dropped whole), links only to http(s)/mailto/tel or relative
paths, images only from same-origin paths (never another host, never ``data:``). Dynamic
blocks survive as ``<div data-cp-block="…">`` placeholders whose few ``data-*`` values are
checked one by one.
"""

from __future__ import annotations

import re
from typing import Any

import nh3

from .placeholders import DYNAMIC_BLOCKS
from .urls import normalize_embed_url, safe_href, safe_image_src

PAGE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "address",
        "article",
        "aside",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "main",
        "mark",
        "nav",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "section",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
    }
)
# Removed together with everything inside them (not just unwrapped): code, raw text,
# foreign content, embedded documents and form controls.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "title",
        "textarea",
        "select",
        "option",
        "optgroup",
        "datalist",
        "button",
        "head",
        "meta",
        "link",
        "base",
        "audio",
        "video",
        "canvas",
        "portal",
        "dialog",
    }
)
GLOBAL_ATTRIBUTES = frozenset(
    {
        "class",
        "id",
        "title",
        "lang",
        "dir",
        "role",
        "aria-label",
        "aria-hidden",
        "aria-describedby",
        "aria-labelledby",
    }
)
TAG_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "target"}),
    "img": frozenset({"src", "alt", "width", "height", "loading", "decoding"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "ol": frozenset({"start", "reversed"}),
    "li": frozenset({"value"}),
    "time": frozenset({"datetime"}),
    "details": frozenset({"open"}),
    "div": frozenset({"data-cp-block", "data-course", "data-user", "data-video", "data-url"}),
}

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
CLASS_NAME = re.compile(r"-?[A-Za-z_][A-Za-z0-9_-]{0,63}")
_DIGITS = re.compile(r"[1-9][0-9]{0,17}")
_SIZE = re.compile(r"[0-9]{1,5}%?")
_LANG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,3}")

_ENUMS: dict[str, frozenset[str]] = {
    "target": frozenset({"_blank"}),
    "loading": frozenset({"lazy", "eager"}),
    "decoding": frozenset({"async", "sync", "auto"}),
    "aria-hidden": frozenset({"true", "false"}),
    "dir": frozenset({"ltr", "rtl", "auto"}),
    "scope": frozenset({"row", "col", "rowgroup", "colgroup"}),
    "role": frozenset(
        {
            "region",
            "list",
            "listitem",
            "note",
            "img",
            "presentation",
            "none",
            "group",
            "heading",
            "banner",
            "contentinfo",
            "complementary",
            "navigation",
            "article",
        }
    ),
}


def clean_attribute(tag: str, name: str, value: str) -> str | None:
    """The value to keep for ``name`` on ``tag``, or None to drop the attribute."""
    if name not in GLOBAL_ATTRIBUTES and name not in TAG_ATTRIBUTES.get(tag, ()):
        return None
    if name == "id":
        return value if _ID.fullmatch(value) else None
    if name == "class":
        classes = [c for c in value.split() if CLASS_NAME.fullmatch(c)]
        return " ".join(classes[:20]) or None
    if name in _ENUMS:
        return value if value in _ENUMS[name] else None
    if name == "href":
        return safe_href(value)
    if name == "src":
        return safe_image_src(value)
    if name in {"width", "height"}:
        return value if _SIZE.fullmatch(value) else None
    if name in {"colspan", "rowspan", "span", "start", "value"}:
        return value if re.fullmatch(r"[0-9]{1,4}", value) else None
    if name == "lang":
        return value if _LANG.fullmatch(value) else None
    if name == "data-cp-block":
        return value if value in DYNAMIC_BLOCKS else None
    if name in {"data-course", "data-user", "data-video"}:
        return value if _DIGITS.fullmatch(value) else None
    if name == "data-url":
        return normalize_embed_url(value)
    if name in {"reversed", "open"}:
        return ""
    if name == "datetime":
        return value if re.fullmatch(r"[0-9T:.+\- Z]{1,40}", value) else None
    # Free text: title, alt, aria-label… (nh3 escapes it).
    return value[:500]


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    if name == "rel" and tag == "a":
        return "noopener noreferrer"  # added by nh3 itself (link_rel)
    try:
        return clean_attribute(tag, name, value)
    except Exception:  # an unexpected value drops the attribute, never keeps it
        return None


_MAX_EXTRA_PASSES = 4


def clean_html(html: str, *, tags: frozenset[str], attributes: dict[str, frozenset[str]]) -> str:
    """``html`` reduced to ``tags`` and ``attributes`` (subsets of the page allow-list),
    every kept value checked by :func:`clean_attribute` (idempotent)."""
    options: dict[str, Any] = {
        "tags": set(tags),
        "clean_content_tags": set(DROPPED_WITH_CONTENT),
        "attributes": {"*": set(GLOBAL_ATTRIBUTES), **{t: set(a) for t, a in attributes.items()}},
        "attribute_filter": _attribute_filter,
        "strip_comments": True,
        "link_rel": "noopener noreferrer",
        "url_schemes": {"http", "https", "mailto", "tel"},
    }
    # The HTML parser repairs some broken trees (a link inside a fostered table) into
    # markup it would itself parse differently ("<a><a></a><table></table></a>"), so one
    # pass is not always a fixed point. Clean until the output stops changing: what is
    # stored is then exactly what a browser (or the next save) will see.
    clean = nh3.clean(html or "", **options)
    for _ in range(_MAX_EXTRA_PASSES):
        again = nh3.clean(clean, **options)
        if again == clean:
            break
        clean = again
    return clean


def sanitize_page_html(html: str) -> str:
    """Author HTML from the builder, reduced to the allow-list (idempotent)."""
    return clean_html(html, tags=PAGE_TAGS, attributes=TAG_ATTRIBUTES)
