"""Copy the template schema into a new tenant schema with one batch of plain DDL.

django-tenants' ``clone_schema()`` is a PL/pgSQL function that walks the catalog object
by object on every clone, re-deriving the same statements each time. Here the template's
definition is read from the catalog once per migration state and kept as a script:
``CREATE TABLE`` with columns, identity sequences, NOT NULL, primary key, unique, check
and exclusion constraints inline, foreign keys inline where the referenced table already
exists, the other indexes, ``INSERT ... SELECT`` of every table's rows (migrations,
content types, permissions, roles ...) and the sequences' values. A clone is then one
round trip, sent inside the caller's transaction.

Anything the script does not know how to copy (views, functions, triggers, row security,
grants, partitions of a partitioned table ...) makes ``schema_clone`` fall back to
django-tenants' function, so a template that grows such objects is still cloned
completely, only slower. A partitioned table with no partitions is copied as such.
``tests/tenancy/test_schema_clone.py`` compares the clone's catalog with the template's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction

from apps.core import tenancy

logger = logging.getLogger(__name__)

# Replaced by the quoted target schema name when the script is run.
TARGET = "\x00target\x00"


class CloneUnsupportedError(Exception):
    """The template holds an object this module does not copy."""


@dataclass
class _Table:
    oid: int
    name: str  # quoted
    persistence: str
    reloptions: list[str] | None
    comment: str | None
    columns: list[str] = field(default_factory=list)
    column_names: dict[int, str] = field(default_factory=dict)  # attnum -> quoted name
    column_comments: list[tuple[str, str]] = field(default_factory=list)
    copy_columns: list[str] = field(default_factory=list)
    has_always_identity: bool = False
    constraints: list[str] = field(default_factory=list)
    foreign_keys: list[tuple[int, str]] = field(default_factory=list)  # (referenced oid, sql)
    has_rows: bool = False
    partition_by: str | None = None  # "RANGE (recorded_at)" for a partitioned table


@dataclass(frozen=True)
class CloneScript:
    """The template's definition as SQL, with ``TARGET`` where the new schema's name goes."""

    source: str
    sql: str
    statements: int

    def for_target(self, target: str) -> str:
        return self.sql.replace(TARGET, tenancy.quote_schema(target))


_scripts: dict[tuple[str, str, str], CloneScript] = {}


def schema_clone(*, source: str, target: str, state: str) -> str:
    """Create ``target`` as a copy of ``source``: tables, sequences (and their values),
    constraints, indexes, comments and every row.

    ``state`` names the source's migration state (its fingerprint): the script read
    from the catalog is reused while it stays the same, so DDL run on the template by
    hand, outside migrations, is not seen by a process that already read it.
    Returns ``"script"``, or ``"clone_schema"`` when the template holds objects the
    script cannot copy and django-tenants' PL/pgSQL function did the work instead.
    Runs in the caller's transaction; nothing is left behind when it rolls back."""
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            script = _script_for(cursor, source, state)
        except CloneUnsupportedError as unsupported:
            logger.warning("schema %s is cloned by clone_schema(): %s", source, unsupported)
            tenancy.clone_schema(source=source, target=target)
            return "clone_schema"
        cursor.execute(script.for_target(target))
    return "script"


def _script_for(cursor, source: str, state: str) -> CloneScript:
    key = (connection.settings_dict["NAME"], source, state)
    script = _scripts.get(key)
    if script is None:
        script = clone_script_build(cursor, source)
        _scripts.clear()
        _scripts[key] = script
    return script


def _scalar(cursor, sql: str, params: list) -> object:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def _refuse_unsupported(cursor, source: str) -> None:
    checks = {
        "a relation other than a table, index or sequence (view, ...)": """
            SELECT string_agg(relname, ', ') FROM pg_class
             WHERE relnamespace = %s::regnamespace
               AND relkind NOT IN ('r', 'i', 'S', 'p', 'I')""",
        # A partitioned table is copied as an empty parent; partitions are not.
        "a partitioned table that has partitions": """
            SELECT string_agg(c.relname, ', ') FROM pg_class c
             WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'p'
               AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid)""",
        "a table with inheritance, row security, a replica identity, grants or options": """
            SELECT string_agg(c.relname, ', ') FROM pg_class c
             WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'S')
               AND (c.relispartition OR c.relhassubclass OR c.relrowsecurity
                    OR c.relacl IS NOT NULL
                    OR (c.relkind = 'r' AND c.relreplident <> 'd')
                    OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))""",
        "a trigger or rule": """
            SELECT string_agg(c.relname, ', ') FROM pg_class c
             WHERE c.relnamespace = %s::regnamespace
               AND (EXISTS (SELECT 1 FROM pg_trigger t
                             WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
                    OR EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid))""",
        "a function, type, collation or extended statistics object": """
            SELECT string_agg(name, ', ') FROM (
                SELECT proname::text AS name FROM pg_proc
                 WHERE pronamespace = %s::regnamespace
                UNION ALL SELECT typname FROM pg_type t
                 WHERE t.typnamespace = %s::regnamespace AND t.typrelid = 0
                   AND NOT EXISTS (SELECT 1 FROM pg_type e
                                    WHERE e.oid = t.typelem AND e.typrelid <> 0)
                UNION ALL SELECT collname FROM pg_collation
                 WHERE collnamespace = %s::regnamespace
                UNION ALL SELECT stxname FROM pg_statistic_ext
                 WHERE stxnamespace = %s::regnamespace
            ) objects""",
        "a column with options, a non-default storage or compression": """
            SELECT string_agg(c.relname || '.' || a.attname, ', ') FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
             WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0
               AND NOT a.attisdropped AND (a.attfdwoptions
                   IS NOT NULL OR a.attstorage <> t.typstorage OR a.attcompression::text <> ''
                    -- Some builds stamp every column with their own pg_* option.
                    OR EXISTS (SELECT 1 FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\\_%%'))""",
        "a clustered, invalid or non-default-tablespace index": """
            SELECT string_agg(c.relname, ', ') FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relnamespace = %s::regnamespace
               AND (i.indisclustered OR NOT i.indisvalid OR c.reltablespace <> 0
                    OR c.reloptions IS NOT NULL)""",
        "a constraint trigger, a NOT VALID, NO INHERIT or foreign key outside the schema": """
            SELECT string_agg(conname, ', ') FROM pg_constraint k
             WHERE k.connamespace = %s::regnamespace
               AND (k.contype NOT IN ('p', 'u', 'c', 'x', 'f', 'n') OR NOT k.convalidated
                    OR (k.contype = 'f' AND k.confrelid NOT IN (
                        SELECT oid FROM pg_class WHERE relnamespace = %s::regnamespace))
                    OR (k.connoinherit AND k.contype IN ('c', 'n')))""",
    }
    for what, sql in checks.items():
        found = _scalar(cursor, sql, [source] * sql.count("%s"))
        if found:
            raise CloneUnsupportedError(f"{what}: {str(found)[:300]}")


def clone_script_build(cursor, source: str) -> CloneScript:
    """Read ``source``'s definition from the catalog and write it as one SQL script.

    Expressions are deparsed with ``search_path`` set to the template and ``public``, so
    they name the template's own objects without a schema; the script runs with the
    new schema in that place. Raises ``CloneUnsupportedError`` for anything it would not
    copy faithfully."""
    _refuse_unsupported(cursor, source)
    source_q = tenancy.quote_schema(source)
    cursor.execute(
        "SELECT current_setting('search_path'), set_config('search_path', %s || ', public', true)",
        [source_q],
    )
    previous_search_path = cursor.fetchone()[0]
    try:
        tables, sequences, indexes = _read_catalog(cursor, source)
    finally:
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous_search_path])
    return _write_script(source, source_q, tables, sequences, indexes)


def _read_catalog(cursor, source: str):
    cursor.execute("SELECT quote_ident(%s)", [source])
    source_q = cursor.fetchone()[0]  # as the server writes it in definitions
    cursor.execute(
        """
        SELECT c.oid, quote_ident(c.relname), c.relpersistence, c.reloptions,
               obj_description(c.oid, 'pg_class'),
               CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END
          FROM pg_class c
         WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p')
         ORDER BY c.relname COLLATE "C"
        """,
        [source],
    )
    tables = {
        oid: _Table(oid, name, persistence, reloptions, comment, partition_by=partition_by)
        for oid, name, persistence, reloptions, comment, partition_by in cursor.fetchall()
    }

    # Sequences: identity ones are declared with their column, the others stand alone.
    cursor.execute(
        """
        SELECT c.oid, quote_ident(c.relname), format_type(s.seqtypid, NULL), s.seqstart,
               s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
               d.refobjid, d.refobjsubid, d.deptype
          FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
          LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
               AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'S'
         ORDER BY c.relname COLLATE "C"
        """,
        [source],
    )
    sequences = cursor.fetchall()
    identity_sequence = {(row[9], row[10]): row for row in sequences if row[11] == "i"}

    cursor.execute(
        """
        SELECT a.attrelid, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
               CASE WHEN a.attcollation <> t.typcollation THEN
                    quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
               a.attnotnull, a.attidentity, a.attgenerated,
               pg_get_expr(d.adbin, d.adrelid),
               (SELECT quote_ident(k.conname) FROM pg_constraint k
                 WHERE k.conrelid = a.attrelid AND k.contype = 'n'
                   AND k.conkey = ARRAY[a.attnum]::int2[] LIMIT 1),
               col_description(a.attrelid, a.attnum), a.attnum
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_collation co ON co.oid = a.attcollation
          LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attrelid, a.attnum
        """,
        [source],
    )
    for (
        relid,
        name,
        type_sql,
        collation,
        not_null,
        identity,
        generated,
        default,
        not_null_name,
        comment,
        attnum,
    ) in cursor.fetchall():
        table = tables[relid]
        parts = [name, type_sql]
        if collation:
            parts.append(f"COLLATE {collation}")
        if identity:
            seq = identity_sequence[(relid, attnum)]
            kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
            parts.append(f"GENERATED {kind} AS IDENTITY ({_sequence_options(seq, named=True)})")
            table.has_always_identity |= identity == "a"
        elif generated:
            stored = "STORED" if generated == "s" else "VIRTUAL"
            parts.append(f"GENERATED ALWAYS AS ({default}) {stored}")
        elif default is not None:
            parts.append(f"DEFAULT {default}")
        if not_null:
            parts.append(f"CONSTRAINT {not_null_name} NOT NULL" if not_null_name else "NOT NULL")
        table.columns.append(" ".join(parts))
        table.column_names[attnum] = name
        if not generated:
            table.copy_columns.append(name)
        if comment is not None:
            table.column_comments.append((name, comment))

    cursor.execute(
        """
        SELECT k.conrelid, quote_ident(k.conname), k.contype, pg_get_constraintdef(k.oid),
               k.confrelid, quote_ident(r.relname)
          FROM pg_constraint k
          LEFT JOIN pg_class r ON r.oid = k.confrelid
         WHERE k.connamespace = %s::regnamespace AND k.contype IN ('p', 'u', 'c', 'x', 'f')
         ORDER BY k.conrelid, k.contype, k.conname COLLATE "C"
        """,
        [source],
    )
    for relid, name, contype, definition, referenced, referenced_name in cursor.fetchall():
        table = tables[relid]
        if contype == "f":
            # Name the referenced table in the new schema explicitly, so the clone can
            # never point at public's table of the same name.
            definition = _requalify(
                definition,
                before=" REFERENCES ",
                table=referenced_name,
                after="(",
                source_q=source_q,
                at_start=False,
            )
            table.foreign_keys.append((referenced, f"CONSTRAINT {name} {definition}"))
        else:
            table.constraints.append(f"CONSTRAINT {name} {definition}")

    cursor.execute(
        """
        SELECT i.indrelid, quote_ident(c.relname), quote_ident(t.relname), i.indisunique,
               pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class')
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
         WHERE c.relnamespace = %s::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                            AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
         ORDER BY c.relname COLLATE "C"
        """,
        [source],
    )
    indexes = []
    for relid, name, table_name, is_unique, definition, comment in cursor.fetchall():
        unique = "UNIQUE " if is_unique else ""
        # An index of a partitioned table is written "ON ONLY": its parent has no
        # partitions here, so the plain form creates the same, valid, index.
        definition = definition.replace(f"INDEX {name} ON ONLY ", f"INDEX {name} ON ", 1)
        definition = _requalify(
            definition,
            before=f"CREATE {unique}INDEX {name} ON ",
            table=table_name,
            after=" USING ",
            source_q=source_q,
            at_start=True,
        )
        indexes.append((relid, definition, name, comment))

    # Which tables hold rows decides where their foreign keys go (see _write_script).
    if tables:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT {oid}::oid FROM "  # noqa: S608 - oids and quoted names only
                f"(SELECT 1 FROM {tenancy.quote_schema(source)}.{table.name} LIMIT 1) r"
                for oid, table in tables.items()
            )
        )
        for (oid,) in cursor.fetchall():
            tables[oid].has_rows = True
    return tables, sequences, indexes


def _requalify(
    definition: str, *, before: str, table: str, after: str, source_q: str, at_start: bool
) -> str:
    """``definition`` with the one table it names moved to the new schema. The server
    writes that name with or without the template's schema depending on its version."""
    for written in (f"{before}{table}{after}", f"{before}{source_q}.{table}{after}"):
        found = definition.startswith(written) if at_start else definition.count(written) == 1
        if found:
            return definition.replace(written, f"{before}{TARGET}.{table}{after}", 1)
    raise CloneUnsupportedError(f"cannot tell which table this names: {definition}")


def _sequence_options(row, *, named: bool) -> str:
    _oid, name, type_sql, start, increment, minimum, maximum, cache, cycle = row[:9]
    options = []
    if named:
        options.append(f"SEQUENCE NAME {TARGET}.{name}")
    else:
        options.append(f"AS {type_sql}")
    options += [
        f"START WITH {start}",
        f"INCREMENT BY {increment}",
        f"MINVALUE {minimum}",
        f"MAXVALUE {maximum}",
        f"CACHE {cache}",
        "CYCLE" if cycle else "NO CYCLE",
    ]
    return " ".join(options)


def _literal(text: str) -> str:
    # Standard-conforming strings are on in every supported PostgreSQL: only quotes double.
    return "'" + text.replace("'", "''") + "'"


def _creation_order(tables: dict[int, _Table]) -> list[_Table]:
    """Referenced tables before the tables that reference them, where there is no cycle."""
    depends: dict[int, set[int]] = defaultdict(set)
    for table in tables.values():
        for referenced, _sql in table.foreign_keys:
            if referenced != table.oid:
                depends[table.oid].add(referenced)
    done: set[int] = set()
    order: list[_Table] = []
    remaining = sorted(tables.values(), key=lambda table: table.name)
    while remaining:
        ready = [table for table in remaining if depends[table.oid] <= done] or remaining[:1]
        for table in ready:
            order.append(table)
            done.add(table.oid)
        remaining = [table for table in remaining if table.oid not in done]
    return order


def _write_script(source, source_q, tables, sequences, indexes) -> CloneScript:
    statements = [
        f"CREATE SCHEMA {TARGET}",
        # Defaults of stand-alone sequences name them without a schema (nextval('x')).
        f"SELECT set_config('tenantry.clone_search_path', current_setting('search_path'), true),"
        f" set_config('search_path', '{TARGET}, public', true)",
    ]
    statements += [
        f"CREATE SEQUENCE {TARGET}.{row[1]} {_sequence_options(row, named=False)}"
        for row in sequences
        if row[11] != "i"
    ]

    created: set[int] = set()
    late: list[str] = []
    order = _creation_order(tables)
    for table in order:
        items = list(table.columns)
        items += table.constraints
        for referenced, sql in table.foreign_keys:
            # Rows copied into a table with a foreign key queue one check each until
            # commit; a key added after the copy checks them all in one query. Keys to a
            # table not created yet (a cycle) come after all tables too.
            if table.has_rows or (referenced not in created and referenced != table.oid):
                late.append(f"ALTER TABLE {TARGET}.{table.name} ADD {sql}")
            else:
                items.append(sql)
        unlogged = "UNLOGGED " if table.persistence == "u" else ""
        options = f" WITH ({', '.join(table.reloptions)})" if table.reloptions else ""
        partitioned = f" PARTITION BY {table.partition_by}" if table.partition_by else ""
        statements.append(
            f"CREATE {unlogged}TABLE {TARGET}.{table.name} ({', '.join(items)})"
            f"{partitioned}{options}"
        )
        created.add(table.oid)
        if table.comment is not None:
            statements.append(
                f"COMMENT ON TABLE {TARGET}.{table.name} IS {_literal(table.comment)}"
            )
        for column, comment in table.column_comments:
            statements.append(
                f"COMMENT ON COLUMN {TARGET}.{table.name}.{column} IS {_literal(comment)}"
            )

    for row in sequences:
        if row[11] == "a":
            owner = tables[row[9]]
            column = owner.column_names[row[10]]
            statements.append(
                f"ALTER SEQUENCE {TARGET}.{row[1]} OWNED BY {TARGET}.{owner.name}.{column}"
            )

    for table in order:
        if table.copy_columns:
            columns = ", ".join(table.copy_columns)
            overriding = " OVERRIDING SYSTEM VALUE" if table.has_always_identity else ""
            statements.append(
                f"INSERT INTO {TARGET}.{table.name} ({columns}){overriding} "  # noqa: S608
                f"SELECT {columns} FROM {source_q}.{table.name}"
            )
    if sequences:
        statements.append(
            "SELECT "
            + ", ".join(
                f"(SELECT setval({_literal(f'{TARGET}.{row[1]}')}, last_value, is_called) "  # noqa: S608
                f"FROM {source_q}.{row[1]})"
                for row in sequences
            )
        )
    for _relid, sql, name, comment in indexes:
        statements.append(sql)
        if comment is not None:
            statements.append(f"COMMENT ON INDEX {TARGET}.{name} IS {_literal(comment)}")
    statements += late
    statements.append(
        "SELECT set_config('search_path', current_setting('tenantry.clone_search_path'), true)"
    )
    sql = ";\n".join(statements) + ";"
    return CloneScript(source=source, sql=sql, statements=len(statements))
