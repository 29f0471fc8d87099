from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from .rls import PLATFORM_ALIAS

# Set by our ``migrate`` command for its duration: data migrations (ours and third
# parties') that use the default manager must run on the migrating connection,
# or they would deadlock against the schema change they belong to.
migrating_alias: str | None = None

# django-tasks-db's result rows: the worker claims every school's tasks, and the rows
# carry arguments, results and tracebacks. The runtime role has no privilege on the
# table at all; enqueueing and the worker go through the platform role's connection.
TASK_APP_LABEL = "django_tasks_database"


class TenancyRouter:
    """Which connection a query uses.

    Runtime queries use ``default`` (the runtime role, bound by row-level security;
    inside ``platform_bypass`` that slot holds the platform role's connection).
    Task rows use the ``platform`` alias when it is configured. Schema changes run
    on the ``owner`` alias: our ``migrate`` command targets it by default, because
    the runtime role cannot create or alter tables.
    """

    def _alias(self, model: Any) -> str:
        if migrating_alias:
            return migrating_alias
        if model._meta.app_label == TASK_APP_LABEL and PLATFORM_ALIAS in settings.DATABASES:
            return PLATFORM_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self._alias(model)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self._alias(model)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return True
