"""Course descriptions and lesson bodies: author Markdown (raw HTML allowed), rendered
and reduced to the page builder's allow-list (no placeholders), with the same rules for
links and images. Images come from this school only (uploads under ``/site-media/``,
``/files/``, ``/branding/``, ``/static/``): another host, ``//host`` or ``data:`` would be
a tracking pixel or a broken image for students. :func:`external_image_problem` names
them so a save can be refused with a message; the renderer drops them regardless.
"""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt

from .html import PAGE_TAGS, TAG_ATTRIBUTES, clean_html
from .urls import safe_image_src

# The page builder's tags and attribute rules, without its dynamic-block placeholders
# (the only ``div`` attributes are data-cp-block and its data-* values).
MARKDOWN_ATTRIBUTES = {tag: names for tag, names in TAG_ATTRIBUTES.items() if tag != "div"}
EXTERNAL_IMAGES_SHOWN = 3

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def sanitize_html(html: str) -> str:
    """Rendered author Markdown reduced to the allow-list (idempotent)."""
    return clean_html(html, tags=PAGE_TAGS, attributes=MARKDOWN_ATTRIBUTES)


def markdown_to_html(source: str) -> str:
    """Render author Markdown (raw HTML allowed) and sanitise the result."""
    return sanitize_html(_markdown.render(source or ""))


class _ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def external_images(source: str) -> list[str]:
    """The image addresses in author Markdown that the renderer drops (not this school's)."""
    parser = _ImageSources()
    parser.feed(_markdown.render(source or ""))
    parser.close()
    return [src for src in parser.sources if src and safe_image_src(src) is None]


def external_image_problem(source: str) -> str | None:
    """A message for the author when ``source`` shows images from elsewhere, else None."""
    found = list(dict.fromkeys(external_images(source)))
    if not found:
        return None
    shown = ", ".join(
        src if len(src) <= 80 else f"{src[:77]}…" for src in found[:EXTERNAL_IMAGES_SHOWN]
    )
    more = len(found) - EXTERNAL_IMAGES_SHOWN
    return (
        "Images must be uploaded to this school; images from other sites (or data: "
        f"addresses) are not shown to students. Remove or replace: {shown}"
        + (f" and {more} more." if more > 0 else ".")
    )
