"""Start-up checks of the database roles' configuration (README "Tenant isolation")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from .rls import PLATFORM_ALIAS

DB_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


@register()
def check_database_roles(**kwargs: Any) -> list[Error]:
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return []
    errors = []
    if PLATFORM_ALIAS not in settings.DATABASES:
        errors.append(
            Error(
                "PostgreSQL needs DATABASE_PLATFORM_URL.",
                hint="The platform role (BYPASSRLS) does the operator console's, the "
                "watchdog's and the task queue's work; scripts/pg_roles.py creates it.",
                id="tenancy.E001",
            )
        )
    if settings.SESSION_ENGINE in DB_SESSION_ENGINES:
        errors.append(
            Error(
                "On PostgreSQL sessions live in Redis: set REDIS_URL.",
                hint="The runtime role has no access to django_session, whose keys are "
                "every school's login cookies.",
                id="tenancy.E002",
            )
        )
    return errors
