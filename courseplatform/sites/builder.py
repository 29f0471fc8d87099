"""What the page builder produces, made safe: HTML, CSS, the editor's project JSON and
the dynamic-block placeholders.

Everything an author sends passes through here on save *and* again on render:

* :func:`sanitize_page_html` — nh3 with an allow-list of tags and attributes. No
  script, no event handlers, no ``style`` attributes, no forms, no iframes/objects,
  no SVG/MathML (their content is dropped whole), links only to http(s)/mailto/tel
  or relative paths, images only from same-origin paths (never another host,
  never ``data:``). Dynamic blocks survive as ``<div data-cp-block="…">`` placeholders
  whose few ``data-*`` values are checked one by one.
* :func:`sanitize_css` — tinycss2 parses the stylesheet; only style rules, ``@media``
  and same-origin ``@font-face`` survive; declarations are kept only for allow-listed
  properties whose values use allow-listed functions; ``url()`` only for same-origin
  paths under ``/site-media/``, ``/branding/``, ``/files/`` or ``/static/``. No ``<``
  survives anywhere, so nothing can close the ``<style>`` element it is rendered in.
  With ``scope`` every selector is prefixed (``body`` becomes the scope itself) so a
  page's CSS cannot restyle the site header or footer.
* :func:`sanitize_project` — the GrapesJS project JSON is loaded into the editor's
  canvas (same origin as the management area), so it is rebuilt from an allow-list
  of component keys, types, tags and attributes, with text run through nh3 and styles
  through the CSS rules above.
* :func:`replace_placeholders` — rewrites sanitised HTML, replacing each placeholder
  element (and anything inside it) with trusted, server-rendered HTML. It tokenises
  with the standard library's HTML parser; the input is nh3's serialisation (no raw
  text elements, every non-void element closed), so its tokens are the browser's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nh3
import tinycss2

# --- HTML -------------------------------------------------------------------------------

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

DYNAMIC_BLOCKS = frozenset({"catalogue", "course", "redeem", "instructor", "video", "embed"})
SAME_ORIGIN_PREFIXES = ("/site-media/", "/branding/", "/files/", "/static/")

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_CLASS = re.compile(r"-?[A-Za-z_][A-Za-z0-9_-]{0,63}")
_DIGITS = re.compile(r"[1-9][0-9]{0,17}")
_SIZE = re.compile(r"[0-9]{1,5}%?")
_LANG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,3}")
_SAFE_PATH = re.compile(r"/[A-Za-z0-9._~\-/%]*")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_VIMEO_ID = re.compile(r"[0-9]{1,12}")
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


def is_same_origin_path(value: str) -> bool:
    """A path on this host under one of the prefixes page content may point at."""
    if not _SAFE_PATH.fullmatch(value) or not value.startswith(SAME_ORIGIN_PREFIXES):
        return False
    lowered = value.lower()
    return (
        "//" not in value
        and ".." not in value
        and not any(encoded in lowered for encoded in ("%2f", "%5c", "%2e"))
    )


def safe_href(value: str) -> str | None:
    value = value.strip()
    if _CONTROL.search(value) or "\\" in value:
        return None
    if value.startswith(("#", "?")) or (value.startswith("/") and not value.startswith("//")):
        return value
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme in {"http", "https", "mailto", "tel"}:
        return value
    if not scheme and not value.startswith("//") and re.fullmatch(r"[A-Za-z0-9._~\-/]+", value):
        return value  # a relative path like "about/"
    return None


def safe_image_src(value: str) -> str | None:
    """Images come from this host only (the builder's uploads, branding, static files):
    no ``data:``, no other hosts — the school pages' CSP would refuse them anyway."""
    value = value.strip()
    if _CONTROL.search(value) or "\\" in value or "#" in value:
        return None
    path, _, query = value.partition("?")
    if is_same_origin_path(path) and re.fullmatch(r"[A-Za-z0-9=&._-]{0,200}", query):
        return value
    return None


def normalize_embed_url(value: str) -> str | None:
    """A YouTube or Vimeo link in any usual form → its privacy-friendly embed URL."""
    value = (value or "").strip()
    if not value or _CONTROL.search(value) or len(value) > 500:
        return None
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        if (
            parts.scheme not in {"http", "https"}
            or parts.username
            or parts.password
            or (parts.port)
        ):
            return None
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = parts.path
    video_id = ""
    if host in {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }:
        if path == "/watch":
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif path.startswith(("/embed/", "/shorts/", "/live/")):
            video_id = path.split("/")[2]
    elif host == "youtu.be":
        video_id = path.lstrip("/").split("/")[0]
    if video_id:
        return (
            f"https://www.youtube-nocookie.com/embed/{video_id}"
            if _YOUTUBE_ID.fullmatch(video_id)
            else None
        )
    if host in {"vimeo.com", "www.vimeo.com"}:
        vimeo_id = path.strip("/").split("/")[0]
    elif host == "player.vimeo.com" and path.startswith("/video/"):
        vimeo_id = path.split("/")[2]
    else:
        return None
    return f"https://player.vimeo.com/video/{vimeo_id}" if _VIMEO_ID.fullmatch(vimeo_id) else None


def clean_attribute(tag: str, name: str, value: str) -> str | None:
    """The value to keep for ``name`` on ``tag``, or None to drop the attribute."""
    if name not in GLOBAL_ATTRIBUTES and name not in TAG_ATTRIBUTES.get(tag, ()):
        return None
    if name == "id":
        return value if _ID.fullmatch(value) else None
    if name == "class":
        classes = [c for c in value.split() if _CLASS.fullmatch(c)]
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


_NH3_ATTRIBUTES = {"*": set(GLOBAL_ATTRIBUTES), **{t: set(a) for t, a in TAG_ATTRIBUTES.items()}}


def sanitize_page_html(html: str) -> str:
    """Author HTML from the builder, reduced to the allow-list (idempotent)."""
    return nh3.clean(
        html or "",
        tags=set(PAGE_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=_NH3_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto", "tel"},
    )


# --- placeholders -----------------------------------------------------------------------

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


# --- CSS --------------------------------------------------------------------------------

ALLOWED_PROPERTIES = frozenset(
    {
        # box
        "display",
        "box-sizing",
        "width",
        "height",
        "min-width",
        "min-height",
        "max-width",
        "max-height",
        "aspect-ratio",
        "overflow",
        "overflow-x",
        "overflow-y",
        "visibility",
        "opacity",
        "float",
        "clear",
        "vertical-align",
        "object-fit",
        "object-position",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "margin-inline",
        "margin-block",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "padding-inline",
        "padding-block",
        "position",
        "top",
        "right",
        "bottom",
        "left",
        "inset",
        "z-index",
        # flex and grid
        "flex",
        "flex-direction",
        "flex-wrap",
        "flex-flow",
        "flex-grow",
        "flex-shrink",
        "flex-basis",
        "order",
        "gap",
        "row-gap",
        "column-gap",
        "justify-content",
        "justify-items",
        "justify-self",
        "align-content",
        "align-items",
        "align-self",
        "place-content",
        "place-items",
        "place-self",
        "grid",
        "grid-template",
        "grid-template-columns",
        "grid-template-rows",
        "grid-template-areas",
        "grid-area",
        "grid-column",
        "grid-row",
        "grid-column-start",
        "grid-column-end",
        "grid-row-start",
        "grid-row-end",
        "grid-auto-flow",
        "grid-auto-columns",
        "grid-auto-rows",
        "columns",
        "column-count",
        "column-width",
        # borders and backgrounds
        "border",
        "border-top",
        "border-right",
        "border-bottom",
        "border-left",
        "border-width",
        "border-style",
        "border-color",
        "border-top-width",
        "border-right-width",
        "border-bottom-width",
        "border-left-width",
        "border-top-style",
        "border-right-style",
        "border-bottom-style",
        "border-left-style",
        "border-top-color",
        "border-right-color",
        "border-bottom-color",
        "border-left-color",
        "border-radius",
        "border-top-left-radius",
        "border-top-right-radius",
        "border-bottom-left-radius",
        "border-bottom-right-radius",
        "border-collapse",
        "border-spacing",
        "outline",
        "outline-color",
        "outline-style",
        "outline-width",
        "outline-offset",
        "box-shadow",
        "background",
        "background-color",
        "background-image",
        "background-position",
        "background-position-x",
        "background-position-y",
        "background-size",
        "background-repeat",
        "background-attachment",
        "background-clip",
        "background-origin",
        # text
        "color",
        "font",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "font-variant",
        "font-stretch",
        "line-height",
        "letter-spacing",
        "word-spacing",
        "text-align",
        "text-decoration",
        "text-decoration-color",
        "text-decoration-line",
        "text-decoration-style",
        "text-decoration-thickness",
        "text-underline-offset",
        "text-transform",
        "text-indent",
        "text-shadow",
        "text-overflow",
        "text-wrap",
        "white-space",
        "word-break",
        "overflow-wrap",
        "hyphens",
        "list-style",
        "list-style-type",
        "list-style-position",
        "list-style-image",
        "caption-side",
        "table-layout",
        "quotes",
        "content",
        # effects
        "transform",
        "transform-origin",
        "transition",
        "transition-property",
        "transition-duration",
        "transition-timing-function",
        "transition-delay",
        "filter",
        "backdrop-filter",
        "mix-blend-mode",
        "cursor",
        "pointer-events",
        "user-select",
        "accent-color",
        "scroll-margin-top",
    }
)
FONT_FACE_DESCRIPTORS = frozenset(
    {
        "font-family",
        "src",
        "font-weight",
        "font-style",
        "font-display",
        "font-stretch",
        "unicode-range",
    }
)
ALLOWED_FUNCTIONS = frozenset(
    {
        "rgb",
        "rgba",
        "hsl",
        "hsla",
        "hwb",
        "lab",
        "lch",
        "oklab",
        "oklch",
        "color-mix",
        "var",
        "calc",
        "min",
        "max",
        "clamp",
        "linear-gradient",
        "radial-gradient",
        "conic-gradient",
        "repeating-linear-gradient",
        "repeating-radial-gradient",
        "translate",
        "translatex",
        "translatey",
        "translate3d",
        "rotate",
        "rotatex",
        "rotatey",
        "rotatez",
        "scale",
        "scalex",
        "scaley",
        "skew",
        "skewx",
        "skewy",
        "matrix",
        "perspective",
        "cubic-bezier",
        "steps",
        "minmax",
        "repeat",
        "fit-content",
        "blur",
        "brightness",
        "contrast",
        "drop-shadow",
        "grayscale",
        "hue-rotate",
        "invert",
        "saturate",
        "sepia",
        "opacity",
        "format",
        "local",
        "url",
    }
)
_SELECTOR = re.compile(r"[A-Za-z0-9_\-\s.#*>+~,:()\[\]=\"'^$|]+")
_MEDIA = re.compile(r"[A-Za-z0-9_\-\s:(),.]+")
_BAD_WORDS = (
    "expression",
    "javascript",
    "vbscript",
    "behavior",
    "binding",
    "-moz-",
    "livescript",
    "mocha",
)
MAX_RULES = 5000
MAX_DEPTH = 3


class CssRejected(ValueError):
    pass


def _check_url(value: str) -> None:
    if not is_same_origin_path(value.strip()):
        raise CssRejected("url() to another host")


def _check_tokens(tokens: Iterable[Any], depth: int = 0) -> None:
    if depth > 8:
        raise CssRejected("too deeply nested")
    for token in tokens:
        kind = token.type
        if kind in {
            "whitespace",
            "comment",
            "ident",
            "number",
            "percentage",
            "dimension",
            "hash",
            "literal",
            "unicode-range",
        }:
            if kind == "ident" and any(w in token.lower_value for w in _BAD_WORDS):
                raise CssRejected("forbidden keyword")
            continue
        if kind == "string":
            lowered = token.value.lower()
            if "<" in lowered or ">" in lowered or any(w in lowered for w in _BAD_WORDS):
                raise CssRejected("forbidden string")
            continue
        if kind == "url":
            _check_url(token.value)
            continue
        if kind == "function":
            name = token.lower_name
            if name not in ALLOWED_FUNCTIONS:
                raise CssRejected(f"function {name}()")
            if name == "url":
                args = [t for t in token.arguments if t.type not in {"whitespace", "comment"}]
                if len(args) != 1 or args[0].type != "string":
                    raise CssRejected("url() argument")
                _check_url(args[0].value)
                continue
            _check_tokens(token.arguments, depth + 1)
            continue
        if kind in {"() block", "[] block"}:
            _check_tokens(token.content, depth + 1)
            continue
        raise CssRejected(f"token {kind}")


def clean_declaration(
    name: str,
    value_tokens: list[Any],
    important: bool = False,
    *,
    allowed: frozenset[str] = ALLOWED_PROPERTIES,
) -> str | None:
    """``name:value`` when the declaration is allowed, else None."""
    name = name.lower()
    if name not in allowed:
        return None
    try:
        _check_tokens(value_tokens)
    except CssRejected:
        return None
    value = tinycss2.serialize(value_tokens).strip()
    if not value or "<" in value or len(value) > 2000:
        return None
    if name == "position" and value.lower() not in {"static", "relative", "absolute", "sticky"}:
        return None  # no fixed overlays on top of the site's own header and dialogs
    return f"{name}:{value}{' !important' if important else ''}"


def clean_declarations(
    content: list[Any], *, allowed: frozenset[str] = ALLOWED_PROPERTIES
) -> list[str]:
    kept = []
    for item in tinycss2.parse_blocks_contents(content, skip_whitespace=True, skip_comments=True):
        if item.type != "declaration":
            continue
        cleaned = clean_declaration(item.name, item.value, item.important, allowed=allowed)
        if cleaned:
            kept.append(cleaned)
    return kept


def clean_style_value(name: str, value: str) -> str | None:
    """One property from the project JSON's style objects (``{"color": "red"}``)."""
    if not isinstance(name, str) or not isinstance(value, str) or len(value) > 2000:
        return None
    tokens = tinycss2.parse_component_value_list(value, skip_comments=True)
    important = False
    stripped = [t for t in tokens if t.type != "whitespace"]
    if (
        len(stripped) >= 2
        and stripped[-2].type == "literal"
        and stripped[-2].value == "!"
        and stripped[-1].type == "ident"
        and stripped[-1].lower_value == "important"
    ):
        important = True
        cut = tokens.index(stripped[-2])
        tokens = tokens[:cut]
    cleaned = clean_declaration(name, tokens, important)
    return cleaned.split(":", 1)[1] if cleaned else None


def split_selectors(prelude: str) -> list[str]:
    """Split a selector list on top-level commas."""
    parts, depth, current, quote = [], 0, [], ""
    for char in prelude:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _scope_selector(selector: str, scope: str) -> str:
    match = re.match(r"(html|body|:root)(?![\w-])", selector, flags=re.IGNORECASE)
    if not match:
        return f"{scope} {selector}"
    rest = selector[match.end() :]
    if not rest:
        return scope  # "body" itself is the page container
    if rest[0].isspace():
        rest = rest.lstrip()
        if re.match(r"(html|body|:root)(?![\w-])", rest, flags=re.IGNORECASE):
            return _scope_selector(rest, scope)  # "html body .x"
        return f"{scope} {rest}"
    return f"{scope}{rest}"  # "body.dark", "body>.x", "body:hover"


def clean_selector(prelude: str, scope: str | None) -> str | None:
    prelude = prelude.strip()
    if not prelude or len(prelude) > 1000 or not _SELECTOR.fullmatch(prelude):
        return None
    lowered = prelude.lower()
    if any(w in lowered for w in _BAD_WORDS) or "/*" in prelude:
        return None
    selectors = split_selectors(prelude)
    if not selectors:
        return None
    if scope:
        selectors = [_scope_selector(s, scope) for s in selectors]
    return ",".join(selectors)


def _clean_rules(rules: list[Any], scope: str | None, depth: int, budget: list[int]) -> list[str]:
    out: list[str] = []
    for rule in rules:
        budget[0] -= 1
        if budget[0] < 0:
            break
        if rule.type == "qualified-rule":
            selector = clean_selector(tinycss2.serialize(rule.prelude), scope)
            if selector is None:
                continue
            declarations = clean_declarations(rule.content)
            if declarations:
                out.append(f"{selector}{{{';'.join(declarations)}}}")
        elif rule.type == "at-rule" and rule.content is not None:
            keyword = rule.lower_at_keyword
            if keyword == "media" and depth < MAX_DEPTH:
                query = tinycss2.serialize(rule.prelude).strip()
                if not query or len(query) > 300 or not _MEDIA.fullmatch(query):
                    continue
                inner = _clean_rules(
                    tinycss2.parse_rule_list(
                        rule.content, skip_whitespace=True, skip_comments=True
                    ),
                    scope,
                    depth + 1,
                    budget,
                )
                if inner:
                    out.append(f"@media {query}{{{''.join(inner)}}}")
            elif (
                keyword == "font-face"
                and depth == 0
                and not tinycss2.serialize(rule.prelude).strip()
            ):
                declarations = clean_declarations(rule.content, allowed=FONT_FACE_DESCRIPTORS)
                if any(d.startswith("src:") for d in declarations):
                    out.append(f"@font-face{{{';'.join(declarations)}}}")
        # Every other at-rule (@import, @charset, @namespace, @keyframes, …) is dropped.
    return out


def sanitize_css(css: str, *, scope: str | None = None) -> str:
    """Author CSS reduced to allow-listed rules and declarations (idempotent)."""
    if not css or not css.strip():
        return ""
    rules = tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
    cleaned = "\n".join(_clean_rules(rules, scope, 0, [MAX_RULES]))
    # Belt and braces: nothing can end the <style> element the CSS is rendered in.
    return cleaned.replace("<", "\\3c ")


# --- project JSON -----------------------------------------------------------------------

COMPONENT_TYPES = frozenset(
    {
        "default",
        "wrapper",
        "text",
        "textnode",
        "image",
        "link",
        "cell",
        "row",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "cp-dynamic",
    }
)
COMPONENT_FLAGS = frozenset(
    {
        "draggable",
        "droppable",
        "removable",
        "copyable",
        "editable",
        "selectable",
        "hoverable",
        "layerable",
        "highlightable",
        "resizable",
        "void",
    }
)
MAX_COMPONENTS = 20_000
MAX_NESTING = 60
_STATE = re.compile(r"[a-z-]{1,30}(\([a-z0-9+\- ]{0,20}\))?")
_SIMPLE_SELECTOR = re.compile(r"[#.]?-?[A-Za-z_][A-Za-z0-9_-]{0,63}")
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ProjectRejected(ValueError):
    pass


def _clean_text(value: Any) -> str:
    return sanitize_page_html(value) if isinstance(value, str) else ""


def _clean_component(data: Any, depth: int, budget: list[int]) -> dict[str, Any] | None:
    if isinstance(data, str):
        return {"type": "textnode", "content": _clean_text(data)}
    if not isinstance(data, dict):
        return None
    budget[0] -= 1
    if budget[0] < 0:
        raise ProjectRejected("The page has too many elements.")
    if depth > MAX_NESTING:
        raise ProjectRejected("The page is nested too deeply.")
    kind = data.get("type") or "default"
    if kind not in COMPONENT_TYPES:
        return None
    tag = data.get("tagName")
    if kind == "wrapper":
        if tag not in {None, "body"}:
            return None
    elif tag is not None:
        if not isinstance(tag, str) or tag.lower() not in PAGE_TAGS:
            return None
        tag = tag.lower()
    clean: dict[str, Any] = {"type": kind}
    if tag is not None:
        clean["tagName"] = tag
    check_tag = tag if tag and tag != "body" else {"image": "img", "link": "a"}.get(kind, "div")
    attributes = data.get("attributes")
    if isinstance(attributes, dict):
        kept = {}
        for name, value in list(attributes.items())[:50]:
            if not isinstance(name, str) or not isinstance(value, str | int | bool):
                continue
            cleaned = clean_attribute(check_tag, name.lower(), str(value))
            if cleaned is not None:
                kept[name.lower()] = cleaned
        if kept:
            clean["attributes"] = kept
    if kind == "image" and isinstance(data.get("src"), str):
        src = safe_image_src(data["src"])
        if src:
            clean["src"] = src
    classes = data.get("classes")
    if isinstance(classes, list):
        names = []
        for item in classes[:20]:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and _CLASS.fullmatch(name):
                names.append(name)
        if names:
            clean["classes"] = names
    if "content" in data:
        content = data["content"]
        if kind == "textnode" and isinstance(content, str):
            # Text nodes are rendered with textContent and escaped on export.
            clean["content"] = content.replace("<", "").replace(">", "")[:100_000]
        else:
            clean["content"] = _clean_text(content)
    for flag in COMPONENT_FLAGS:
        if isinstance(data.get(flag), bool):
            clean[flag] = data[flag]
    children = data.get("components")
    if isinstance(children, list):
        kept_children = []
        for child in children:
            cleaned_child = _clean_component(child, depth + 1, budget)
            if cleaned_child is not None:
                kept_children.append(cleaned_child)
        clean["components"] = kept_children
    elif isinstance(children, str):
        clean["components"] = _clean_text(children)
    return clean


def _clean_style_rule(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    selectors: list[Any] = []
    for item in data.get("selectors") or []:
        if isinstance(item, str) and _SIMPLE_SELECTOR.fullmatch(item):
            selectors.append(item)
        elif (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and _CLASS.fullmatch(item["name"].lstrip("#."))
        ):
            entry: dict[str, Any] = {"name": item["name"]}
            if item.get("type") in {1, 2}:
                entry["type"] = item["type"]
            selectors.append(entry)
    rule: dict[str, Any] = {"selectors": selectors}
    selectors_add = data.get("selectorsAdd")
    if isinstance(selectors_add, str) and selectors_add.strip():
        checked = clean_selector(selectors_add, None)
        if checked is None:
            return None
        rule["selectorsAdd"] = checked
    if not selectors and "selectorsAdd" not in rule:
        return None
    style = data.get("style")
    kept: dict[str, str] = {}
    if isinstance(style, dict):
        for name, value in list(style.items())[:200]:
            cleaned = clean_style_value(name, value)
            if cleaned is not None:
                kept[name.lower()] = cleaned
    rule["style"] = kept
    media = data.get("mediaText")
    if isinstance(media, str) and media:
        if len(media) > 300 or not _MEDIA.fullmatch(media):
            return None
        rule["mediaText"] = media
        rule["atRuleType"] = "media"
    state = data.get("state")
    if isinstance(state, str) and state:
        if not _STATE.fullmatch(state):
            return None
        rule["state"] = state
    return rule


def sanitize_project(project: Any) -> dict[str, Any]:
    """The GrapesJS project JSON rebuilt from what the editor may load safely."""
    if not isinstance(project, dict):
        return {}
    budget = [MAX_COMPONENTS]
    clean: dict[str, Any] = {}
    pages = []
    for page in (project.get("pages") or [])[:5] if isinstance(project.get("pages"), list) else []:
        if not isinstance(page, dict):
            continue
        frames = []
        for frame in (page.get("frames") or [])[:5] if isinstance(page.get("frames"), list) else []:
            if not isinstance(frame, dict):
                continue
            component = _clean_component(frame.get("component"), 0, budget)
            if component is None:
                continue
            entry: dict[str, Any] = {"component": component}
            if isinstance(frame.get("id"), str) and _PAGE_ID.fullmatch(frame["id"]):
                entry["id"] = frame["id"]
            frames.append(entry)
        cleaned_page: dict[str, Any] = {"frames": frames}
        if isinstance(page.get("id"), str) and _PAGE_ID.fullmatch(page["id"]):
            cleaned_page["id"] = page["id"]
        pages.append(cleaned_page)
    if pages:
        clean["pages"] = pages
    styles = project.get("styles")
    if isinstance(styles, list):
        kept_rules = [r for r in (_clean_style_rule(s) for s in styles[:MAX_RULES]) if r]
        clean["styles"] = kept_rules
    assets = project.get("assets")
    if isinstance(assets, list):
        kept_assets = []
        for asset in assets[:500]:
            src = asset.get("src") if isinstance(asset, dict) else asset
            if isinstance(src, str) and is_same_origin_path(src):
                kept_assets.append({"type": "image", "src": src})
        clean["assets"] = kept_assets
    return clean


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
