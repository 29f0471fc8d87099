"""The Content-Security-Policy every response carries (platform and school hosts).

Django's own CSP support sends it: ``django.middleware.csp.ContentSecurityPolicyMiddleware``
with ``settings.SECURE_CSP`` built here, and the ``csp`` context processor giving
templates ``csp_nonce`` (Django adds ``'nonce-…'`` to script-src only on responses whose
template used it, e.g. the operator console's ``{% csp_nonce_attr %}``).

Decisions:

* **script-src 'self' + nonce, never 'unsafe-inline' or 'unsafe-eval'.** Our scripts
  are files under /static/ (htmx, hls.js, our src/js/*.js); configuration travels in
  ``data-*`` attributes or ``json_script`` blocks, which are data, not script. Builder
  pages are sanitised, and even a sanitiser miss cannot run inline script.
* **style-src 'self' 'unsafe-inline'.** The theme's CSS variables are an inline
  ``<style>`` on every school page, builder pages carry their own CSS and ``style``
  attributes, and the GrapesJS editor injects styles at runtime. Inline styles cannot
  run script; the builder's CSS goes through a property allow-list (no ``url()`` to
  other hosts, no ``expression``). A nonce is deliberately not put in style-src:
  browsers ignore 'unsafe-inline' when a nonce is present.
* **img/media/connect-src** add the object-storage origin (presigned S3/R2 URLs for
  images, playback and direct multipart uploads) and the video CDN when configured;
  ``blob:`` for hls.js (MediaSource) and image previews before upload, ``data:`` for
  small inline images. hls.js runs its demuxer in a ``blob:`` worker (worker-src).
* **form-action 'self' + the platform and every school host.** Chromium applies
  form-action to the redirects that follow a form post, and the platform's signup and
  "find your school" forms redirect to ``<slug>.PLATFORM_DOMAIN``.
* **frame-ancestors 'none'** (as X-Frame-Options DENY), **object-src 'none'**,
  **base-uri 'self'**; frame-src stays at default-src ('self').
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.csp import CSP

# Embeds the page builder allows (rendered as sandboxed iframes).
FRAME_SOURCES: list[str] = ["https://www.youtube-nocookie.com", "https://player.vimeo.com"]


def origin(url: str) -> str:
    """``https://cdn.example.com/a/b`` -> ``https://cdn.example.com``; "" for junk."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def build_policy(
    *,
    platform_domain: str,
    platform_scheme: str = "https",
    storage_endpoint: str = "",
    storage_bucket: str = "",
    cdn_base_url: str = "",
    extra_origins: list[str] | None = None,
    report_uri: str = "",
) -> dict[str, list[str] | bool]:
    """The SECURE_CSP dict for these settings."""
    storage: list[str] = []
    if storage_bucket:
        # No endpoint = AWS S3 itself (s3.<region>.amazonaws.com, path addressing).
        storage.append(origin(storage_endpoint) if storage_endpoint else "https://*.amazonaws.com")
    extras = [origin(o) for o in extra_origins or []]
    remote = [o for o in [*storage, origin(cdn_base_url), *extras] if o]
    remote = list(dict.fromkeys(remote))
    # ":*" because development runs on ports (localhost:8000); without a port a
    # source matches only the scheme's default port.
    hosts = [
        f"{platform_scheme}://{platform_domain}:*",
        f"{platform_scheme}://*.{platform_domain}:*",
    ]
    policy: dict[str, list[str] | bool] = {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, CSP.NONCE],
        "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
        "img-src": [CSP.SELF, "data:", "blob:", *remote],
        "font-src": [CSP.SELF, "data:"],
        "media-src": [CSP.SELF, "blob:", *remote],
        "connect-src": [CSP.SELF, *remote],
        "worker-src": [CSP.SELF, "blob:"],
        "frame-src": [CSP.SELF, *FRAME_SOURCES],
        "frame-ancestors": [CSP.NONE],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF, *hosts],
    }
    if platform_scheme == "https":
        policy["upgrade-insecure-requests"] = True
    if report_uri:
        policy["report-uri"] = [report_uri]
    return policy
