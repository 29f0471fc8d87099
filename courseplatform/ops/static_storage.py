"""Static files with content-hashed names and gzip copies (``STATIC_MANIFEST=true``).

WhiteNoise's compressed manifest storage, rewriting only what our pages need: ``url()``
and ``@import`` in CSS (fonts, images). Source-map comments are left alone: the bundled
third-party scripts (hls.js) name maps that are not shipped, and a browser asks for
a map only when its developer tools are open.
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns: Any) -> tuple[Any, ...]:
    kept = []
    for glob, substitutions in patterns:
        if glob != "*.css":
            continue
        rules = tuple(
            rule
            for rule in substitutions
            if "sourceMappingURL" not in (rule if isinstance(rule, str) else rule[0])
        )
        kept.append((glob, rules))
    return tuple(kept)


class StaticStorage(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
