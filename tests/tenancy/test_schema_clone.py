"""The clone made by apps.tenants.schema_clone is the template, object for object.

Each test builds its schemas inside the test's transaction, so they roll back with it.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection

from apps.core import tenancy
from apps.tenants import migrations_state, schema_clone
from apps.tenants.services import template_schema_name

pytestmark = pytest.mark.django_db

_CATALOG_QUERIES = {
    "tables": """
        SELECT c.relname, c.relkind, c.relpersistence, c.reloptions,
               obj_description(c.oid, 'pg_class'),
               CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END
          FROM pg_class c WHERE c.relnamespace = %(schema)s::regnamespace
           AND c.relkind IN ('r', 'p')
         ORDER BY 1""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
               a.attcollation::regcollation::text, col_description(c.oid, a.attnum),
               row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY 1, 10""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable,
               k.condeferred, k.convalidated, r.relname,
               (SELECT array_agg(t.tgfoid::regproc::text || ':' || t.tgtype || ':'
                                 || t.tgdeferrable || t.tginitdeferred ORDER BY 1)
                  FROM pg_trigger t WHERE t.tgconstraint = k.oid)
          FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
          LEFT JOIN pg_class r ON r.oid = k.confrelid
         WHERE k.connamespace = %(schema)s::regnamespace
         ORDER BY 1, 2""",
    "indexes": """
        SELECT t.relname, c.relname, pg_get_indexdef(i.indexrelid), i.indisunique,
               i.indisprimary, i.indisexclusion, i.indimmediate, i.indisvalid,
               obj_description(c.oid, 'pg_class')
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
         WHERE c.relnamespace = %(schema)s::regnamespace
         ORDER BY 1, 2""",
    "sequences": """
        SELECT s.sequencename, s.data_type::text, s.start_value, s.min_value, s.max_value,
               s.increment_by, s.cycle, s.cache_size, s.last_value,
               (SELECT r.relname || '.' || a.attname || ':' || d.deptype::text
                  FROM pg_depend d JOIN pg_class r ON r.oid = d.refobjid
                  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                   AND d.objid = (quote_ident(s.schemaname) || '.'
                                  || quote_ident(s.sequencename))::regclass
                   AND d.deptype IN ('a', 'i'))
          FROM pg_sequences s WHERE s.schemaname = %(schema)s
         ORDER BY 1""",
    "relation kinds": """
        SELECT relkind, count(*) FROM pg_class WHERE relnamespace = %(schema)s::regnamespace
         GROUP BY 1 ORDER BY 1""",
}
_TEXT_COLUMNS = {"constraints": 3, "indexes": 2}


def _catalog(schema: str) -> dict[str, list[tuple]]:
    described = {}
    with tenancy.in_public(), connection.cursor() as cursor:
        for name, sql in _CATALOG_QUERIES.items():
            cursor.execute(sql, {"schema": schema})
            # Definitions and defaults name the schema; take it out to compare two.
            described[name] = [
                tuple(
                    value.replace(f"{schema}.", "<schema>.") if isinstance(value, str) else value
                    for value in row
                )
                for row in cursor.fetchall()
            ]
    return described


def _rows(schema: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table."""
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(relname) FROM pg_class "
            "WHERE relnamespace = %s::regnamespace AND relkind = 'r' ORDER BY 1",
            [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        contents = {}
        for table in tables:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
                f"FROM {tenancy.quote_schema(schema)}.{table} t"
            )
            contents[table] = cursor.fetchone()
    return contents


# A check written as Django writes ``IN (...)`` is stored as ``= ANY ((ARRAY[...])::text[])``;
# PostgreSQL reads that text back as ``= ANY (ARRAY[(...)::text, ...])``: the same
# expression, written differently (pg_dump and restore show the same drift). Casts and
# parentheses are removed before comparing definitions of the template with its clone's.
_CAST = re.compile(
    r"::(?:character varying|timestamp with time zone|double precision|[\w\"]+)(?:\[\])?"
)


def _meaning(definition: str) -> str:
    return re.sub(r"[()]", "", _CAST.sub("", definition))


def _comparable(catalog: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    result = dict(catalog)
    for name, at in _TEXT_COLUMNS.items():
        result[name] = [(*row[:at], _meaning(row[at]), *row[at + 1 :]) for row in catalog[name]]
    return result


def _clone(source: str, target: str, *, state: str | None = None) -> str:
    return schema_clone.schema_clone(
        source=source, target=target, state=state or migrations_state.code_fingerprint()
    )


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def test_clone_of_the_template_has_its_tables_constraints_indexes_sequences_and_rows():
    template = template_schema_name()
    search_path_before = _search_path()

    method = _clone(template, "clone_check")

    assert method == "script"
    assert _search_path() == search_path_before
    template_catalog, clone_catalog = _catalog(template), _catalog("clone_check")
    assert clone_catalog["relation kinds"] == template_catalog["relation kinds"]
    assert _comparable(clone_catalog) == _comparable(template_catalog)
    assert _rows("clone_check") == _rows(template)
    constraint_types = {row[2] for row in template_catalog["constraints"]}
    assert {"p", "u", "f", "c", "x"} <= constraint_types  # exclusion: hr leave overlap
    assert any("WHERE" in row[2] for row in template_catalog["indexes"])  # partial unique
    # pipeline readings: an empty parent partitioned by month, with its BRIN index.
    assert ("pipeline_reading", "p") in {row[:2] for row in clone_catalog["tables"]}


def test_clone_of_a_partitioned_parent_takes_new_partitions_with_their_indexes():
    _clone(template_schema_name(), "clone_check")

    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE clone_check.pipeline_reading_y2026m01 PARTITION OF "
            "clone_check.pipeline_reading FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')"
        )
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'clone_check.pipeline_reading_y2026m01'::regclass ORDER BY 1"
        )
        partition_indexes = [definition for _name, definition in cursor.fetchall()]

    assert any("USING brin (recorded_at)" in definition for definition in partition_indexes)
    assert any("(sensor_id, recorded_at)" in definition for definition in partition_indexes)


def test_clone_of_a_partitioned_table_that_has_partitions_uses_clone_schema():
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA scratch_src; "
            "CREATE TABLE scratch_src.reading (at date NOT NULL, value int) "
            "PARTITION BY RANGE (at); "
            "CREATE TABLE scratch_src.reading_2026 PARTITION OF scratch_src.reading "
            "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
        )

    method = _clone("scratch_src", "scratch_dst", state="scratch-with-partitions")

    assert method == "clone_schema"


def test_clone_of_a_clone_is_identical_to_it_word_for_word():
    _clone(template_schema_name(), "clone_first")

    _clone("clone_first", "clone_second", state="clone-of-a-clone")

    assert _catalog("clone_second") == _catalog("clone_first")
    assert _rows("clone_second") == _rows("clone_first")


SCRATCH_DDL = """
CREATE SCHEMA scratch_src;
SET LOCAL search_path = scratch_src, public;
CREATE SEQUENCE scratch_src.ticket_no AS integer START WITH 100 INCREMENT BY 5 MAXVALUE 9999;
CREATE TABLE scratch_src.node (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 7 INCREMENT BY 3) PRIMARY KEY,
    parent_id bigint REFERENCES scratch_src.node (id) ON DELETE CASCADE,
    name varchar(40) COLLATE "C" NOT NULL,
    ticket integer NOT NULL DEFAULT nextval('scratch_src.ticket_no'),
    name_upper text GENERATED ALWAYS AS (upper(name)) STORED,
    span daterange,
    owner_id bigint,
    CONSTRAINT node_name_set CHECK (name IN ('a', 'b', 'c', 'd')),
    CONSTRAINT node_no_overlap EXCLUDE USING gist (owner_id WITH =, span WITH &&)
);
CREATE TABLE scratch_src.owner (
    id serial PRIMARY KEY,
    favourite_node_id bigint REFERENCES scratch_src.node (id) DEFERRABLE INITIALLY DEFERRED,
    email text NOT NULL CHECK (email LIKE '%@%'),
    CONSTRAINT owner_email_unique UNIQUE (email) DEFERRABLE
) WITH (fillfactor = 70);
ALTER TABLE scratch_src.node ADD CONSTRAINT node_owner_fk
    FOREIGN KEY (owner_id) REFERENCES scratch_src.owner (id);
ALTER TABLE scratch_src.node DROP COLUMN span;
ALTER TABLE scratch_src.node ADD COLUMN span daterange;
CREATE UNLOGGED TABLE scratch_src.scratchpad (note text);
CREATE UNIQUE INDEX owner_email_lower ON scratch_src.owner (lower(email)) WHERE email <> '';
CREATE INDEX node_name_pattern ON scratch_src.node (name varchar_pattern_ops);
COMMENT ON TABLE scratch_src.node IS 'A node''s table';
COMMENT ON COLUMN scratch_src.node.name IS 'Its name';
COMMENT ON INDEX scratch_src.node_name_pattern IS 'For LIKE';
INSERT INTO scratch_src.owner (email) VALUES ('x@example.test'), ('y@example.test');
INSERT INTO scratch_src.node (name, owner_id) VALUES ('a', 1), ('b', 2);
INSERT INTO scratch_src.node (parent_id, name, owner_id) SELECT id, 'c', 1 FROM scratch_src.node
 WHERE name = 'a';
UPDATE scratch_src.owner SET favourite_node_id = (SELECT min(id) FROM scratch_src.node);
SET CONSTRAINTS ALL IMMEDIATE;
"""


def _scratch_source() -> None:
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(SCRATCH_DDL)
    tenancy.activate_public()


def test_clone_copies_what_the_template_does_not_use_yet():
    # Identity ALWAYS, serial and stand-alone sequences, generated and collated columns,
    # a cycle of foreign keys and a self-reference, a dropped column, an unlogged table,
    # storage options, deferrable keys, expression and partial indexes, comments.
    _scratch_source()

    method = _clone("scratch_src", "scratch_dst", state="scratch")

    assert method == "script"
    assert _comparable(_catalog("scratch_dst")) == _comparable(_catalog("scratch_src"))
    assert _rows("scratch_dst") == _rows("scratch_src")
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO scratch_dst.node (name) VALUES ('d') RETURNING id, ticket")
        assert cursor.fetchone() == (16, 115)  # both sequences carried on from the source
        cursor.execute("SELECT nextval('scratch_src.ticket_no')")
        assert cursor.fetchone() == (115,)  # the clone has its own sequence


def test_clone_of_a_template_with_objects_the_script_cannot_copy_uses_clone_schema():
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA scratch_src; "
            "CREATE TABLE scratch_src.node (id bigint PRIMARY KEY, name text NOT NULL); "
            "INSERT INTO scratch_src.node VALUES (1, 'a'), (2, 'b'); "
            "CREATE VIEW scratch_src.node_names AS SELECT name FROM scratch_src.node"
        )

    method = _clone("scratch_src", "scratch_dst", state="scratch-with-view")

    assert method == "clone_schema"
    assert _catalog("scratch_dst")["relation kinds"] == [("i", 1), ("r", 1), ("v", 1)]
    assert _rows("scratch_dst") == _rows("scratch_src")


def test_clone_refers_to_its_own_tables_not_to_public_ones():
    _clone(template_schema_name(), "clone_check")

    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid "
            "WHERE k.connamespace = 'clone_check'::regnamespace "
            "AND r.relnamespace <> 'clone_check'::regnamespace"
        )
        foreign_to_elsewhere = cursor.fetchone()[0]

    assert foreign_to_elsewhere == 0
