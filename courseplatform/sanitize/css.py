"""Author CSS made safe with tinycss2.

Only style rules, ``@media`` and same-origin ``@font-face`` survive; declarations are kept
only for allow-listed properties whose values use allow-listed functions; ``url()`` only
for same-origin paths under ``/site-media/``, ``/branding/``, ``/files/`` or ``/static/``.
No ``<`` survives anywhere, so nothing can close the ``<style>`` element it is rendered
in. With ``scope`` every selector is prefixed (``body`` becomes the scope itself) so a
page's CSS cannot restyle the site header or footer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import tinycss2

from .urls import is_same_origin_path

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
MEDIA_QUERY = re.compile(r"[A-Za-z0-9_\-\s:(),.]+")
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
                if not query or len(query) > 300 or not MEDIA_QUERY.fullmatch(query):
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
