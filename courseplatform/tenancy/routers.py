from typing import Any

# Set by our ``migrate`` command for its duration: data migrations (ours and third
# parties') that use the default manager must run on the migrating connection,
# or they would deadlock against the schema change they belong to.
migrating_alias: str | None = None


class OwnerForMigrationsRouter:
    """Runtime queries use ``default``; schema changes belong to the ``owner`` role.

    On PostgreSQL the runtime role cannot create or alter tables, so migrations
    must target the owner connection (our ``migrate`` command does by default).
    """

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return migrating_alias or "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return migrating_alias or "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return True
