"""The GrapesJS project JSON, rebuilt from an allow-list.

The project is loaded into the editor's canvas (same origin as the management area), so
it is rebuilt from an allow-list of component keys, types, tags and attributes, with text
run through the page HTML sanitiser and styles through the CSS rules.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .css import MAX_RULES, MEDIA_QUERY, clean_selector, clean_style_value
from .html import CLASS_NAME, PAGE_TAGS, clean_attribute, sanitize_page_html
from .urls import is_same_origin_path, safe_image_src

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
            if isinstance(name, str) and CLASS_NAME.fullmatch(name):
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
            and CLASS_NAME.fullmatch(item["name"].lstrip("#."))
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
        if len(media) > 300 or not MEDIA_QUERY.fullmatch(media):
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
