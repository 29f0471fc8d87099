"""``migrate`` that targets the schema-owner connection by default.

On PostgreSQL the runtime role (DATABASE_URL) may not create or alter tables;
migrations run as DATABASE_OWNER_URL. After migrating, the runtime and platform
roles are granted what they need on every table (see ``tenancy.grants``).
"""

from typing import Any

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate

from courseplatform.tenancy import routers
from courseplatform.tenancy.grants import grant_privileges


class Command(DjangoMigrate):
    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database=settings.MIGRATION_DATABASE)

    def handle(self, *args: Any, **options: Any) -> None:
        routers.migrating_alias = options["database"]
        try:
            super().handle(*args, **options)
        finally:
            routers.migrating_alias = None
        if options["check_unapplied"] or options["plan"]:
            # Nothing was migrated (`--check` exits 1 above when something is due). The
            # runtime role may run `migrate --check` (deploy/k8s init containers wait on
            # it) but may not grant anything.
            return
        grant_privileges(options["database"])
