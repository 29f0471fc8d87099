"""Version tokens in the shared cache: a random string per thing whose cached copies
must all go stale at once. Readers build their cache keys from the current token;
a change replaces the token, so every process misses on its next read."""

from __future__ import annotations

import secrets

from django.core.cache import cache


def current_token(key: str, found: object, *, ttl: int) -> str:
    """The token at ``key``, given what a read of it just ``found`` (callers batch
    that read with others). When there is none, store a fresh one — ``add`` so that
    two processes racing here end up agreeing on the winner's token."""
    if isinstance(found, str):
        return found
    fresh = secrets.token_hex(8)
    if cache.add(key, fresh, ttl):
        return fresh
    again = cache.get(key)
    return again if isinstance(again, str) else fresh


def replace_token(key: str, *, ttl: int) -> None:
    """Make everything cached under the old token stale."""
    cache.set(key, secrets.token_hex(8), ttl)
