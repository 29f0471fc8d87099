"""The signed-in user, cached between requests: every page of a signed-in person would
otherwise read their ``accounts_user`` row once more.

Safety comes first, so the cache can never keep a changed account alive:

* **Versioned.** Each user has a version token in the cache; the row is stored under
  ``(user, version)``. Every save or delete of the user (role change, deactivation,
  password change or reset, last login, the operator console) replaces the token
  at once and again after the transaction commits (``post_save``/``post_delete``
  below), so a request that read the old row meanwhile stores it under a token nobody
  asks for any more. Nothing in the code base changes users with a bulk ``update()``;
  one that did would have to call ``forget_user``.
* **No password.** The password hash is not cached: the cached instance carries the
  session hash Django derives from it (``User.get_session_auth_hash``), and the
  password column is deferred, so ``check_password`` or ``set_password`` on it load or
  replace the real one. A changed password changes that hash: Django logs out the
  other sessions on their next request, as without the cache.
* **Bound to the secret key.** The cache key carries a fingerprint of ``SECRET_KEY``, so
  a session hash made with a retired key is never compared from the cache.
* **Under the same row-level security.** A cached row is used only when its school is
  the school of the current request context; otherwise the database answers (as the
  policy would: no row).
* **In this process, while it hears every change.** Each change of a user is also
  announced (``user:<id>``, ``tenancy.broadcast``), so a web process keeps the rows it
  loaded and uses them without asking Redis while its listener has stayed subscribed
  (``tenancy/heard.py``): a signed-in request then reads only its session from Redis.
  A new user is not announced: nobody holds a copy of it, and a bulk import must not
  flood every process with names (each process remembers 4,096; more make every copy
  of everything stale).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.crypto import salted_hmac

from courseplatform.tenancy.broadcast import announce_change
from courseplatform.tenancy.cache_tokens import current_token, replace_token
from courseplatform.tenancy.heard import HeardCopies
from courseplatform.tenancy.rls import current_school_id

from .models import User

# Every concrete column but the password, as ``from_db`` takes them.
_NOT_CACHED = {"password"}


@lru_cache(maxsize=1)
def _cached_fields() -> tuple[str, ...]:
    return tuple(
        field.attname for field in User._meta.concrete_fields if field.name not in _NOT_CACHED
    )


@lru_cache(maxsize=4)
def _secret_fingerprint(secret_key: str) -> str:
    return salted_hmac(
        "accounts.user_cache", "v1", secret=secret_key, algorithm="sha256"
    ).hexdigest()[:12]


# (values, session hash) by (user id, secret fingerprint): immutable, so every request
# builds its own User from them (code may set attributes on request.user).
_heard: HeardCopies[tuple[tuple[Any, ...], str]] = HeardCopies(
    size=settings.USER_CACHE_SIZE, lifetime=settings.USER_CACHE_SECONDS
)


def _version_key(user_id: Any) -> str:
    return f"accounts:user-version:{user_id}"


def _row_key(user_id: Any, version: str) -> str:
    return f"accounts:user:{user_id}:{version}:{_secret_fingerprint(settings.SECRET_KEY)}"


def _version(user_id: Any) -> str:
    key = _version_key(user_id)
    return current_token(key, cache.get(key), ttl=settings.USER_CACHE_SECONDS)


def _from_cache(values: tuple[Any, ...], session_hash: str) -> User:
    user = User.from_db("default", _cached_fields(), values)
    user.cached_session_auth_hash = session_hash
    return user


def _in_current_school(school_id: int | None) -> bool:
    return school_id == current_school_id()


def load_user(user_id: Any) -> User | None:
    """The user with ``user_id`` as the database would return it now, from the cache
    when it holds the current version of the row."""
    if settings.USER_CACHE_SECONDS <= 0:
        return User.objects.filter(pk=user_id).first()
    here = (str(user_id), _secret_fingerprint(settings.SECRET_KEY))
    names = (f"user:{user_id}",)
    heard = _heard.get(here)
    if heard is not None:
        heard_user = _from_cache(*heard.value)
        if _in_current_school(heard_user.school_id):
            return heard_user
    stamp = _heard.begin()
    version = _version(user_id)
    key = _row_key(user_id, version)
    cached = cache.get(key)
    if isinstance(cached, tuple) and len(cached) == 2:
        cached_user = _from_cache(*cached)
        if _in_current_school(cached_user.school_id):
            _heard.put(here, cached, names=names, stamp=stamp)
            return cached_user
    user = User.objects.filter(pk=user_id).first()
    if user is not None and _in_current_school(user.school_id):
        row = (
            tuple(getattr(user, name) for name in _cached_fields()),
            user.get_session_auth_hash(),
        )
        cache.set(key, row, settings.USER_CACHE_SECONDS)
        _heard.put(here, row, names=names, stamp=stamp)
    return user


def forget_user(user_id: Any, *, announce: bool = True) -> None:
    """Make every cached copy of the user stale (the next request reads the row)."""
    replace_token(_version_key(user_id), ttl=settings.USER_CACHE_SECONDS)
    if announce:
        announce_change(f"user:{user_id}")


def user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    """``post_save``/``post_delete`` of a user: stale now, and again after commit."""
    user_id = instance.pk
    if user_id is None:
        return
    announce = not kwargs.get("created", False)  # a new user: no process holds a copy
    forget_user(user_id, announce=announce)
    transaction.on_commit(lambda: forget_user(user_id, announce=announce))
