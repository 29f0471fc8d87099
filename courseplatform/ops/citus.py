"""What would stop Citus from distributing this schema by ``school_id`` (deploy/SCALING.md).

Read from the live catalog of the ``public`` schema, never from a list kept by hand:

* **distributed** tables: every table with a ``school_id`` column, by ``school_id``;
* **reference** tables (a copy on every node): the schools themselves
  (``tenancy_school``, the target of every ``school_id`` key) and the global tables of
  ``tenancy.grants.GLOBAL_TABLES`` (plans, content types, permissions, ...);
* **tenant tables without school_id**: row-level security on, but no ``school_id``
  (they follow a parent row, e.g. a user's groups): they cannot be distributed as they are;
* **coordinator-local** tables: everything else (sessions, the task queue).

Citus's rules checked, per table: the distribution column is never NULL; every primary
key, unique constraint and unique index of a distributed table contains it; a foreign
key between two distributed tables maps ``school_id`` to ``school_id``; a foreign key from
a distributed table may point at a reference table, not at a coordinator-local one; a
reference or local table may not point at a distributed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from courseplatform.tenancy.grants import GLOBAL_TABLES

COLUMN = "school_id"
SCHOOLS_TABLE = "tenancy_school"
BEGIN_MARKER = "<!-- citus-report:begin (manage.py citus_report --write deploy/SCALING.md) -->"
END_MARKER = "<!-- citus-report:end -->"

DISTRIBUTED, REFERENCE, UNKEYED, LOCAL = "distributed", "reference", "no school_id", "local"

_TABLES = """
SELECT c.relname, c.relrowsecurity,
       (SELECT a.attnotnull FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
ORDER BY 1
"""

_COLUMNS = """ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(n, i)
       JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n ORDER BY k.i)"""

_CONSTRAINTS = f"""
SELECT t.relname, con.conname, con.contype::text,
       {_COLUMNS.format(keys="con.conkey", rel="con.conrelid")},
       coalesce(r.relname, ''),
       {_COLUMNS.format(keys="con.confkey", rel="con.confrelid")}
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
LEFT JOIN pg_class r ON r.oid = con.confrelid
WHERE t.relnamespace = 'public'::regnamespace AND con.contype IN ('p', 'u', 'f', 'x')
ORDER BY 1, 2
"""  # noqa: S608 (built from the constant fragment above, no input)

# Unique indexes that back no constraint (Django's conditional or expression
# UniqueConstraint): Citus holds them to the same rule.
_UNIQUE_INDEXES = f"""
SELECT t.relname, ic.relname,
       {_COLUMNS.format(keys="i.indkey::int2[]", rel="i.indrelid")},
       i.indexprs IS NOT NULL, coalesce(pg_get_expr(i.indpred, i.indrelid), '')
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE t.relnamespace = 'public'::regnamespace AND i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                  AND con.contype IN ('p', 'u', 'x'))
ORDER BY 1, 2
"""  # noqa: S608 (built from the constant fragment above, no input)


@dataclass(frozen=True)
class Key:
    """A primary key, unique constraint or unique index."""

    name: str
    kind: str  # "primary key", "unique", "unique index", "exclusion"
    columns: tuple[str, ...]
    note: str = ""  # an expression or a WHERE clause, when the index has one

    @property
    def has_school(self) -> bool:
        return COLUMN in self.columns


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]

    @property
    def maps_school(self) -> bool:
        return (COLUMN, COLUMN) in zip(self.columns, self.target_columns, strict=False)

    def describe(self) -> str:
        return f"({', '.join(self.columns)}) → `{self.target}` ({', '.join(self.target_columns)})"


# Kinds of blocker, in the order the report counts them.
BLOCKER_KINDS = {
    "key": "primary keys, unique constraints and unique indexes without `school_id`",
    "foreign_key": "foreign keys between distributed tables without `school_id`",
    "nullable": "nullable `school_id` columns",
    "unkeyed": "tenant tables without a `school_id` column",
    "across": "foreign keys across kinds (reference/local ↔ distributed)",
}


@dataclass(frozen=True)
class Blocker:
    kind: str  # a key of BLOCKER_KINDS
    text: str


@dataclass
class Table:
    name: str
    kind: str
    school_not_null: bool | None  # None: no school_id column
    keys: list[Key] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def primary_key(self) -> Key | None:
        return next((key for key in self.keys if key.kind == "primary key"), None)


def _classify(name: str, has_school: bool, rls: bool) -> str:
    if has_school:
        return DISTRIBUTED
    if name == SCHOOLS_TABLE or name in GLOBAL_TABLES:
        return REFERENCE
    return UNKEYED if rls else LOCAL


def inspect(cursor: Any) -> dict[str, Table]:
    """Every table of the public schema with its kind, keys and blockers."""
    cursor.execute(_TABLES, [COLUMN])
    tables = {
        name: Table(name, _classify(name, not_null is not None, rls), not_null)
        for name, rls, not_null in cursor.fetchall()
    }
    cursor.execute(_CONSTRAINTS)
    for table, name, kind, columns, target, target_columns in cursor.fetchall():
        if table not in tables:
            continue
        if kind == "f":
            tables[table].foreign_keys.append(
                ForeignKey(name, tuple(columns), target, tuple(target_columns))
            )
        else:
            label = {"p": "primary key", "u": "unique", "x": "exclusion"}[kind]
            tables[table].keys.append(Key(name, label, tuple(columns)))
    cursor.execute(_UNIQUE_INDEXES)
    for table, name, columns, has_expressions, where in cursor.fetchall():
        if table not in tables:
            continue
        note = " and ".join(
            part for part in ("on an expression" if has_expressions else "", where) if part
        )
        tables[table].keys.append(Key(name, "unique index", tuple(c for c in columns if c), note))
    for table in tables.values():
        table.blockers = _blockers(table, tables)
    return tables


def _blockers(table: Table, tables: dict[str, Table]) -> list[Blocker]:
    found = []
    if table.kind == UNKEYED:
        found.append(Blocker("unkeyed", "no `school_id` column (rows follow a parent row)"))
    if table.kind == DISTRIBUTED:
        if not table.school_not_null:
            found.append(
                Blocker("nullable", "`school_id` may be NULL (a distribution column may not)")
            )
        if table.primary_key is None:
            found.append(Blocker("key", "no primary key"))
        found += [
            Blocker("key", f"{key.kind} `{key.name}` ({', '.join(key.columns) or key.note})")
            for key in table.keys
            if not key.has_school
        ]
    for fk in table.foreign_keys:
        target = tables.get(fk.target)
        target_kind = target.kind if target else LOCAL
        if table.kind == DISTRIBUTED and target_kind == DISTRIBUTED and not fk.maps_school:
            found.append(Blocker("foreign_key", fk.describe()))
        elif table.kind == DISTRIBUTED and target_kind in (LOCAL, UNKEYED):
            found.append(Blocker("across", f"{fk.describe()} points at a {target_kind} table"))
        elif table.kind in (REFERENCE, LOCAL) and target_kind in (DISTRIBUTED, UNKEYED):
            found.append(Blocker("across", f"{fk.describe()} from a {table.kind} table"))
    return found


def _cell(items: list[str]) -> str:
    # A WHERE clause may hold "|" (e.g. ||), which would end the Markdown cell.
    return "<br>".join(item.replace("|", "\\|") for item in items) if items else "—"


def render(tables: dict[str, Table]) -> str:
    """The report as Markdown (deterministic: a stale copy differs)."""
    by_kind: dict[str, list[Table]] = {}
    for table in tables.values():
        by_kind.setdefault(table.kind, []).append(table)
    distributed = by_kind.get(DISTRIBUTED, [])
    blocked = [table for table in tables.values() if table.blockers]
    counts = dict.fromkeys(BLOCKER_KINDS, 0)
    for table in tables.values():
        for blocker in table.blockers:
            counts[blocker.kind] += 1
    lines = [
        f"{len(tables)} tables in `public`: {len(distributed)} to distribute by `school_id`, "
        f"{len(by_kind.get(REFERENCE, []))} reference, "
        f"{len(by_kind.get(UNKEYED, []))} tenant tables without `school_id`, "
        f"{len(by_kind.get(LOCAL, []))} coordinator-local. "
        f"**{len(blocked)} tables have something that blocks `create_distributed_table` "
        f"or `create_reference_table`; {len(tables) - len(blocked)} have nothing.**",
        "",
        "| blocker | count |",
        "|---|---:|",
        *(f"| {BLOCKER_KINDS[kind]} | {count} |" for kind, count in counts.items()),
        "",
        "#### Distributed by `school_id`",
        "",
        "| table | `school_id` NOT NULL | primary key | unique constraints and indexes "
        "| foreign keys to distributed tables without `school_id` |",
        "|---|:---:|---|---|---|",
    ]
    for table in distributed:
        pk = table.primary_key
        pk_cell = (
            f"{'✅' if pk.has_school else '❌'} ({', '.join(pk.columns)})" if pk else "❌ none"
        )
        uniques = [
            f"{'✅' if key.has_school else '❌'} `{key.name}` "
            f"({', '.join(key.columns)}{'; ' + key.note if key.note else ''})"
            for key in table.keys
            if key.kind != "primary key"
        ]
        fks = [b.text for b in table.blockers if b.kind in ("foreign_key", "across")]
        lines.append(
            f"| `{table.name}` | {'✅' if table.school_not_null else '❌'} | {pk_cell} "
            f"| {_cell(uniques)} | {_cell(fks)} |"
        )
    for kind, title in (
        (UNKEYED, "Tenant tables without `school_id`"),
        (REFERENCE, "Reference tables (a copy on every node)"),
        (LOCAL, "Coordinator-local tables"),
    ):
        lines += ["", f"#### {title}", "", "| table | blockers |", "|---|---|"]
        lines += [
            f"| `{t.name}` | {_cell([b.text for b in t.blockers])} |" for t in by_kind.get(kind, [])
        ]
    return "\n".join(lines) + "\n"


def embed(document: str, report: str) -> str:
    """``document`` with the text between the report markers replaced by ``report``."""
    start, end = document.find(BEGIN_MARKER), document.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"no report markers ({BEGIN_MARKER} … {END_MARKER}) in the document")
    return document[: start + len(BEGIN_MARKER)] + "\n" + report + document[end:]
