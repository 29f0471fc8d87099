"""Dynamic-block placeholders in sanitised page HTML.

:func:`replace_placeholders` rewrites sanitised HTML, replacing each placeholder element
(and anything inside it) with trusted, server-rendered HTML. It tokenises with the
standard library's HTML parser; the input is nh3's serialisation (no raw text elements,
every non-void element closed), so its tokens are the browser's.
"""

from __future__ import annotations

from collections.abc import Callable
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


def replace_placeholders(clean_html: str, render: Renderer) -> str:
    """Replace each ``<div data-cp-block>`` of *sanitised* HTML by ``render(attrs)``."""
    if "data-cp-block" not in clean_html:
        return clean_html
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
