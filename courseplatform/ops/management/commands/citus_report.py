"""``manage.py citus_report``: what blocks distributing the schema with Citus (ops/citus.py).

Prints the report as Markdown; ``--write deploy/SCALING.md`` replaces the block between
the report markers in that file, ``--check deploy/SCALING.md`` exits 1 when that block is
not what the live schema gives (the test suite runs it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from courseplatform.ops import citus


class Command(BaseCommand):
    help = "Report which tables and constraints would block Citus from distributing by school_id."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", type=Path, help="replace the report block in this file")
        group.add_argument("--check", type=Path, help="exit 1 when this file's block is stale")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("citus_report reads PostgreSQL's catalog: set DATABASE_URL.")
        with connection.cursor() as cursor:
            report = citus.render(citus.inspect(cursor))
        target: Path | None = options["write"] or options["check"]
        if target is None:
            self.stdout.write(report, ending="")
            return
        document = target.read_text()
        try:
            updated = citus.embed(document, report)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["check"]:
            if updated != document:
                raise CommandError(
                    f"{target}: the Citus report is stale; regenerate it with "
                    f"`manage.py citus_report --write {target}`"
                )
            self.stdout.write(f"{target}: the Citus report matches the schema")
            return
        target.write_text(updated)
        self.stdout.write(f"{target}: report written")
