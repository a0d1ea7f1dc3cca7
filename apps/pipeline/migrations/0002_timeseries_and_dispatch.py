"""What Django cannot declare: the readings table partitioned by month, its BRIN index, the
earthdistance index that ranks field teams by distance, and the incident number sequence.

Partitions are not created here: the template and tenants without the module stay empty,
and ``reading_partitions_ensure`` creates months ahead for tenants that have it."""

from django.db import migrations

READINGS = """
CREATE TABLE pipeline_reading (
    sensor_id uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    value double precision NOT NULL,
    batch_id uuid NULL,
    CONSTRAINT pipeline_reading_pkey PRIMARY KEY (sensor_id, recorded_at)
) PARTITION BY RANGE (recorded_at);
-- Time-ordered appends make a BRIN index a few pages per partition, where a btree on
-- time would grow with every row (zone-wide scans over a window use it).
CREATE INDEX pipeline_reading_recorded_brin ON pipeline_reading USING brin (recorded_at);
"""

TEAM_POSITION_INDEX = """
CREATE INDEX pipeline_team_position_gist ON pipeline_fieldteam USING gist (
    ll_to_earth(COALESCE(last_latitude, base_latitude), COALESCE(last_longitude, base_longitude))
)
"""


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [
        # Extensions are database-wide: created in public (on every tenant's search_path)
        # so they never land in, or are dropped with, a tenant's schema. Both are trusted
        # extensions (PostgreSQL 13+) shipped with the contrib modules.
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public;"
            " CREATE EXTENSION IF NOT EXISTS earthdistance WITH SCHEMA public",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(READINGS, reverse_sql="DROP TABLE pipeline_reading"),
        migrations.RunSQL(
            TEAM_POSITION_INDEX, reverse_sql="DROP INDEX pipeline_team_position_gist"
        ),
        migrations.RunSQL(
            "CREATE SEQUENCE pipeline_incident_number_seq",
            reverse_sql="DROP SEQUENCE pipeline_incident_number_seq",
        ),
    ]
