"""Dynamic-block placeholders in sanitised page HTML.

:func:`replace_placeholders` rewrites sanitised HTML, replacing each placeholder element
(and anything inside it) with trusted, server-rendered HTML. It tokenises with the
standard library's HTML parser; the input is nh3's serialisation (no raw text elements,
every non-void element closed), so its tokens are the browser's.

That parser costs about 5 ms for a typical landing page, a third of rendering it when
its cache is cold (after every content change, for every school). So the serialiser's
own narrow grammar is tokenised first with one regular expression: text without
``<``, and tags whose attribute values are double-quoted. Any ``<`` outside such a
tag (a comment, anything the serialiser would not write) means the input is not that
grammar, and the standard parser decides instead; tests hold the two to the same
output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser

DYNAMIC_BLOCKS = frozenset({"catalogue", "course", "redeem", "instructor", "video", "embed"})
VOID_ELEMENTS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
# Elements whose text a serialiser writes unescaped: their "<" is not a tag.
RAW_TEXT_ELEMENTS = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"}
    | {"textarea", "title"}
)
Renderer = Callable[[dict[str, str]], str]


class _PlaceholderRewriter(HTMLParser):
    def __init__(self, render: Renderer) -> None:
        super().__init__(convert_charrefs=False)
        self.render = render
        self.out: list[str] = []
        self.skip = 0  # depth inside a placeholder being replaced

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip:
            if tag not in VOID_ELEMENTS:
                self.skip += 1
            return
        values = {k: (v or "") for k, v in attrs}
        if tag == "div" and values.get("data-cp-block") in DYNAMIC_BLOCKS:
            self.out.append(self.render(values))
            self.skip = 1
            return
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skip:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag not in VOID_ELEMENTS:
                self.skip -= 1
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if not self.skip:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.skip:
            self.out.append(f"&#{name};")


# A start or end tag as nh3 (html5ever) serialises it: lower-case names, attribute
# values always in double quotes, "<" and ">" inside them escaped or not alike.
_TAG = re.compile(r'<(/?)([a-zA-Z][^\s/>]*)((?:\s+[^\s"\'<>/=]+(?:="[^"]*")?)*)\s*(/?)>')
_ATTRIBUTE = re.compile(r'([^\s"\'<>/=]+)(?:="([^"]*)")?')


def _attributes(text: str) -> dict[str, str]:
    return {name.lower(): unescape(value or "") for name, value in _ATTRIBUTE.findall(text)}


def _rewrite_serialised(clean_html: str, render: Renderer) -> str | None:
    """``_PlaceholderRewriter``'s output for input in the serialiser's grammar, else None."""
    out: list[str] = []
    skip = 0  # depth inside a placeholder being replaced
    position = 0
    for tag in _TAG.finditer(clean_html):
        text = clean_html[position : tag.start()]
        if "<" in text:
            return None
        if not skip:
            out.append(text)
        position = tag.end()
        closing, name, attributes, self_closing = tag.groups()
        name = name.lower()
        if name in RAW_TEXT_ELEMENTS:
            return None
        if closing:
            if skip:
                skip -= name not in VOID_ELEMENTS
            else:
                out.append(f"</{name}>")
        elif self_closing:
            if not skip:
                out.append(tag.group(0))
        elif skip:
            skip += name not in VOID_ELEMENTS
        elif name == "div" and "data-cp-block" in attributes:
            values = _attributes(attributes)
            if values.get("data-cp-block") in DYNAMIC_BLOCKS:
                out.append(render(values))
                skip = 1
            else:
                out.append(tag.group(0))
        else:
            out.append(tag.group(0))
    tail = clean_html[position:]
    if "<" in tail:
        return None
    if not skip:
        out.append(tail)
    return "".join(out)


def replace_placeholders(clean_html: str, render: Renderer) -> str:
    """Replace each ``<div data-cp-block>`` of *sanitised* HTML by ``render(attrs)``."""
    if "data-cp-block" not in clean_html:
        return clean_html
    fast = _rewrite_serialised(clean_html, render)
    if fast is not None:
        return fast
    return _rewrite_parsed(clean_html, render)


def _rewrite_parsed(clean_html: str, render: Renderer) -> str:
    parser = _PlaceholderRewriter(render)
    parser.feed(clean_html)
    parser.close()
    return "".join(parser.out)


def placeholders(clean_html: str) -> list[dict[str, str]]:
    """The attributes of every placeholder in sanitised HTML, in order."""
    found: list[dict[str, str]] = []

    def collect(attrs: dict[str, str]) -> str:
        found.append(attrs)
        return ""

    replace_placeholders(clean_html, collect)
    return found
