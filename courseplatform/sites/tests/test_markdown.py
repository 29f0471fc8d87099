"""Course descriptions and lesson bodies (Markdown): the same link and image rules as the
page builder. Images come from this school only; another host, ``//host`` and ``data:``
are dropped by the renderer and named by :func:`external_image_problem` so a save can
be refused with a clear message."""

from __future__ import annotations

import pytest

from courseplatform.sanitize.markdown import (
    external_image_problem,
    external_images,
    markdown_to_html,
    sanitize_html,
)

EXTERNAL = [
    ("markdown image", "![x](http://other.host/pixel.png)", "http://other.host/pixel.png"),
    ("https markdown image", "![x](https://other.host/a.png?u=1)", "https://other.host/a.png?u=1"),
    ("html image", '<img src="http://other.host/pixel.gif">', "http://other.host/pixel.gif"),
    ("html image unquoted", "<img src=http://other.host/p.gif>", "http://other.host/p.gif"),
    ("protocol-relative", "<img src=//other.host/p.gif>", "//other.host/p.gif"),
    ("protocol-relative markdown", "![x](//other.host/p.gif)", "//other.host/p.gif"),
    ("data url", '<img src="data:image/png;base64,iVBORw0KGgo=">', "data:image/png;base64,"),
    ("data url markdown", "![x](data:image/gif;base64,R0lGODlh)", "data:image/gif;base64,"),
    ("backslash host", '<img src="/\\other.host/p.gif">', "other.host"),
    ("same-origin look-alike", '<img src="/site-media//other.host/p.gif">', "other.host"),
]


@pytest.mark.parametrize(("name", "source", "address"), EXTERNAL, ids=[e[0] for e in EXTERNAL])
def test_markdown_external_image_is_dropped_and_named(name: str, source: str, address: str) -> None:
    html = markdown_to_html(source)
    assert "other.host" not in html and "data:" not in html, html
    problem = external_image_problem(source)
    assert problem is not None
    assert problem.startswith("Images must be uploaded to this school")
    assert address in problem


@pytest.mark.parametrize(
    "src", ["/site-media/3f2a.png", "/files/tok-en_1/", "/branding/logo", "/static/img/a.svg"]
)
def test_markdown_same_origin_upload_stays(src: str) -> None:
    for source in (f"![Chart]({src})", f'<img src="{src}" alt="Chart">'):
        html = markdown_to_html(source)
        assert f'src="{src}"' in html and 'alt="Chart"' in html, html
        assert external_images(source) == []
        assert external_image_problem(source) is None


def test_markdown_problem_lists_each_address_once_and_counts_the_rest() -> None:
    source = "\n\n".join(f"![{n}](http://other.host/{n}.png)" for n in (1, 1, 2, 3, 4, 5))
    problem = external_image_problem(source)
    assert problem is not None
    assert problem.count("http://other.host/1.png") == 1
    assert "http://other.host/3.png" in problem and "http://other.host/4.png" not in problem
    assert problem.endswith("and 2 more.")


def test_markdown_links_to_other_sites_stay() -> None:
    html = markdown_to_html("[docs](https://other.host/docs) and <a href=http://x.example/>x</a>")
    assert 'href="https://other.host/docs"' in html and 'href="http://x.example/"' in html
    assert external_image_problem("[docs](https://other.host/docs)") is None


def test_markdown_keeps_no_builder_placeholders() -> None:
    html = markdown_to_html('<div data-cp-block="course" data-course="1">x</div>')
    assert html == "<div>x</div>"


def test_markdown_sanitiser_is_idempotent_on_rendered_output() -> None:
    source = (
        "# Title\n\n3. three\n4. four\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '```py\nprint("<b>")\n```\n\n![ok](/site-media/a.png) <img src=//x.example/p.gif>'
    )
    once = markdown_to_html(source)
    assert sanitize_html(once) == once
    assert '<ol start="3">' in once and "<table>" in once and 'class="language-py"' in once
