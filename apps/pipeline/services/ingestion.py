"""Ingestion: device keys, batches of readings and the monthly partitions they land in.

Devices authenticate with ``Authorization: DeviceKey tdk_<prefix>_<secret>``. Only a
SHA-256 of the key is stored; the prefix is the public part the key is found by.

A batch is validated in Python against the tenant's sensors (one query), the good
readings are written with COPY straight into the partitioned ``pipeline_reading``, and
the bad ones come back in a per-reading report. The batch row and its readings commit
together, so a batch re-sent after a crash is either fully stored or not at all; the
``(device, batch_id)`` unique constraint makes a repeat (or a concurrent twin) a replay.

Sensor ownership: a sensor wired to a device (``sensor.device``) accepts readings only
from that device (``sensor_not_on_device``); a sensor with no device accepts them from any
device of the tenant, so a gateway can relay sensors nobody has wired up yet.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.selectors import require_perm
from apps.core.tenancy import require_tenant_schema
from apps.core.types import Actor
from apps.pipeline.errors import (
    BatchConflictError,
    BatchEmptyError,
    BatchIdInvalidError,
    BatchMalformedError,
    BatchRejectedError,
    BatchTooLargeError,
    DeviceKeyInvalidError,
)
from apps.pipeline.models import Device, DeviceKey, IngestBatch, ReadingPartition, Sensor

logger = logging.getLogger("tenantry.pipeline.ingestion")

KEY_PREFIX = "tdk"
KEY_PATTERN = re.compile(r"^tdk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_GRACE_HOURS = 24 * 30

MAX_READINGS = 10_000
BATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
READING_FIELDS = frozenset({"sensor", "at", "value"})
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AGE = timedelta(days=400)
MAX_TIMESTAMP_LENGTH = 64
MAX_SENSOR_CODE_LENGTH = 64

PERM_ISSUE = "pipeline.add_devicekey"
PERM_REVOKE = "pipeline.change_devicekey"

# A hash no key has: an unknown prefix still costs one comparison, like a known one.
_NO_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


# --- device keys ------------------------------------------------------------------------


def _key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _authorize(actor: Actor | None, permission: str) -> None:
    # actor None is the system (management commands, the demo feed): no permission check.
    if actor is not None:
        require_perm(actor, permission)


def _stamp(key: DeviceKey, actor: Actor | None, *, created: bool) -> None:
    user = actor.user if actor is not None else None
    if created:
        key.created_by = user
    key.updated_by = user


def device_key_issue(
    *, actor: Actor | None, device: Device, expires_at: datetime | None = None
) -> tuple[DeviceKey, str]:
    """A new key for ``device``; returns the row and the raw key, which is shown once and
    never stored. The device's other keys keep working (see ``device_key_rotate``).
    ``actor`` None is the system (management commands, the demo feed): no permission
    check. An ``expires_at`` not in the future is a ValidationError."""
    _authorize(actor, PERM_ISSUE)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Must be in the future."]})
    prefix = secrets.token_hex(6)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = DeviceKey(device=device, prefix=prefix, secret_hash=_key_hash(raw_key))
    key.expires_at = expires_at
    _stamp(key, actor, created=True)
    key.save()
    return key, raw_key


@transaction.atomic
def device_key_rotate(
    *, actor: Actor | None, device: Device, grace_hours: int = 24
) -> tuple[DeviceKey, str]:
    """Issue a new key; every other usable key of the device expires ``grace_hours`` from
    now (or sooner, if it was due to already), so the device can switch over. 0 ends
    them at once."""
    _authorize(actor, PERM_ISSUE)
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise ValidationError({"grace_hours": [f"From 0 to {MAX_GRACE_HOURS} hours."]})
    now = timezone.now()
    ends_at = now + timedelta(hours=grace_hours)
    # Lock the device's keys: two rotations at once must not leave two "new" keys
    # each expiring the other.
    others = list(
        DeviceKey.objects.select_for_update()
        .filter(device=device, revoked_at__isnull=True)
        .order_by("created_at")
    )
    for other in others:
        if other.is_usable(now) and (other.expires_at is None or other.expires_at > ends_at):
            other.expires_at = ends_at
            _stamp(other, actor, created=False)
            other.save(update_fields=["expires_at", "updated_by", "updated_at"])
    return device_key_issue(actor=actor, device=device)


def device_key_revoke(*, actor: Actor | None, key: DeviceKey) -> DeviceKey:
    """Ends ``key`` at once. Revoking a revoked key changes nothing."""
    _authorize(actor, PERM_REVOKE)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        _stamp(key, actor, created=False)
        key.save(update_fields=["revoked_at", "updated_by", "updated_at"])
    return key


def device_authenticate(raw_key: str) -> Device:
    """The live device ``raw_key`` belongs to in the current tenant. Raises
    DeviceKeyInvalidError (401) for a malformed, unknown, revoked or expired key, or a
    key of a deleted device. Another tenant's key is unknown here. Records
    ``last_used_at`` at most once a minute, so ingestion does not write a row per batch."""
    match = KEY_PATTERN.match(raw_key) if isinstance(raw_key, str) else None
    if match is None:
        raise DeviceKeyInvalidError()
    key = (
        DeviceKey.objects.select_related("device")
        .filter(prefix=match.group(1), device__deleted_at__isnull=True)
        .first()
    )
    expected = key.secret_hash if key is not None else _NO_KEY_HASH
    matches = hmac.compare_digest(_key_hash(raw_key), expected)
    now = timezone.now()
    if key is None or not matches or not key.is_usable(now):
        raise DeviceKeyInvalidError()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # update(): no audit entry and no updated_at churn for a usage stamp.
        DeviceKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.device


# --- partitions ---------------------------------------------------------------------------

# Months whose partition is known to exist, per schema (never shared across tenants).
# Filled after commit only; a partition that vanished anyway (a rolled-back test, a
# retention drop) is noticed by the COPY, which forgets the schema's months and retries.
_known_months: dict[str, set[date]] = {}


def month_start(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return date(value.year, value.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"pipeline_reading_y{month.year:04d}m{month.month:02d}"


def reading_partitions_ensure(*, months: Iterable[date | datetime]) -> list[date]:
    """Create the partitions of ``months`` (any day or instant in them; months are UTC)
    that the schema lacks, and record every month as a ReadingPartition row. Returns the
    months created. The catalog decides what exists, so a partition dropped by hand is
    made again. Safe to run concurrently: an advisory lock per schema serialises
    creators, and ``IF NOT EXISTS`` covers a partition made outside this function."""
    schema_name = require_tenant_schema()
    wanted = sorted({month_start(month) for month in months})
    if not wanted:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"{schema_name}:pipeline_reading_partitions"],
        )
        cursor.execute(
            "SELECT relname FROM pg_class JOIN pg_namespace ns ON ns.oid = relnamespace "
            "WHERE ns.nspname = %s AND relname = ANY(%s)",
            [schema_name, [partition_name(month) for month in wanted]],
        )
        existing = {row[0] for row in cursor.fetchall()}
        created = [month for month in wanted if partition_name(month) not in existing]
        for month in created:
            # Dates this function computed, not user input: safe to inline (DDL takes no
            # parameters). Unqualified: the connection's search path is the tenant's.
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {partition_name(month)} "
                "PARTITION OF pipeline_reading FOR VALUES "
                f"FROM ('{month.isoformat()} 00:00:00+00') "
                f"TO ('{_next_month(month).isoformat()} 00:00:00+00')"
            )
        ReadingPartition.objects.bulk_create(
            [ReadingPartition(month=month) for month in wanted], ignore_conflicts=True
        )
        transaction.on_commit(lambda: _known_months.setdefault(schema_name, set()).update(wanted))
    if created:
        logger.info("Created reading partitions %s", ", ".join(map(partition_name, created)))
    return created


def reading_partitions_ahead(*, months_ahead: int = 2, today: date | None = None) -> list[date]:
    """This month's partition and the next ``months_ahead`` (the daily scheduled task)."""
    month = month_start(today or timezone.now())
    months = [month]
    for _ in range(months_ahead):
        month = _next_month(month)
        months.append(month)
    return reading_partitions_ensure(months=months)


def _partitions_for(months: set[date]) -> None:
    known = _known_months.get(require_tenant_schema(), set())
    if not months <= known:
        reading_partitions_ensure(months=months - known)


def _forget_partitions() -> None:
    _known_months.pop(require_tenant_schema(), None)


# --- batches ------------------------------------------------------------------------------


@dataclass
class IngestReport:
    batch_id: str
    accepted: int
    rejected: int
    duplicates: int
    replayed: bool
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "replayed": self.replayed,
            "rejections": self.rejections,
        }

    @classmethod
    def of(cls, batch: IngestBatch, *, replayed: bool) -> IngestReport:
        return cls(
            batch_id=batch.batch_id,
            accepted=batch.accepted_count,
            rejected=batch.rejected_count,
            duplicates=batch.duplicate_count,
            replayed=replayed,
            rejections=batch.rejections,
        )


MESSAGES = {
    "unknown_sensor": "No active sensor with this code.",
    "sensor_not_on_device": "This sensor is wired to another device.",
    "invalid_timestamp": "Not an ISO 8601 date and time.",
    "missing_offset": "The time has no UTC offset.",
    "future_timestamp": "The time is more than 5 minutes in the future.",
    "too_old": "The time is more than 400 days in the past.",
    "invalid_value": "The value is not a finite number.",
    "out_of_range": "The value is outside the sensor's possible range.",
    "duplicate_in_batch": "Another reading of this batch has the same sensor and time.",
}


def batch_ingest(*, device: Device, payload: Any) -> IngestReport:
    """The ingest route's body: ``{"batch_id": str, "readings": [...]}``. Whole-batch
    problems raise a 400 (BatchMalformedError, BatchIdInvalidError, BatchEmptyError,
    BatchTooLargeError) and store nothing; see ``readings_ingest`` for the rest."""
    if not isinstance(payload, dict):
        raise BatchMalformedError("The body must be a JSON object.")
    unknown = sorted(set(payload) - {"batch_id", "readings"})
    if unknown:
        raise BatchMalformedError("Unknown fields.", fields=unknown)
    batch_id = payload.get("batch_id")
    if not isinstance(batch_id, str) or not BATCH_ID_PATTERN.match(batch_id):
        raise BatchIdInvalidError()
    readings = payload.get("readings")
    if not isinstance(readings, list):
        raise BatchMalformedError("readings must be a list.", field="readings")
    return readings_ingest(device=device, batch_id=batch_id, readings=readings)


def readings_ingest(*, device: Device, batch_id: str, readings: Sequence[Any]) -> IngestReport:
    """Store the valid ``readings`` ({"sensor": code, "at": ISO 8601 with offset,
    "value": number}) of batch ``batch_id`` sent by ``device``.

    Each bad reading is rejected on its own (codes in MESSAGES); readings stored before
    (same sensor and instant, an earlier batch) count as ``duplicates`` and keep their
    first value. A batch id seen before with the same readings returns the stored
    report with ``replayed`` true and stores nothing; with other readings it raises
    BatchConflictError (409). A batch whose every reading is rejected stores nothing,
    not even the batch, and raises BatchRejectedError (422) with the per-reading report:
    a device sending only another tenant's sensors or absurd values gets a 4xx.
    """
    if not readings:
        raise BatchEmptyError()
    if len(readings) > MAX_READINGS:
        raise BatchTooLargeError(max_readings=MAX_READINGS, readings=len(readings))
    for index, reading in enumerate(readings):
        if not isinstance(reading, dict):
            raise BatchMalformedError("Every reading must be a JSON object.", index=index)
        if not reading.keys() <= READING_FIELDS:
            raise BatchMalformedError(
                "Unknown fields in a reading.",
                index=index,
                fields=sorted(set(reading) - READING_FIELDS),
            )
    content_hash = _content_hash(readings)
    rows, rejections, months = _validate(device=device, readings=readings)
    if not rows:
        stored = IngestBatch.objects.filter(device=device, batch_id=batch_id).first()
        if stored is not None:  # the id was used before: replay or conflict as usual
            if not hmac.compare_digest(stored.content_hash, content_hash):
                raise BatchConflictError(batch_id=batch_id)
            return IngestReport.of(stored, replayed=True)
        raise BatchRejectedError(batch_id=batch_id, rejections=rejections)
    if months:
        _partitions_for(months)
    try:
        return _store(
            device=device,
            batch_id=batch_id,
            content_hash=content_hash,
            rows=rows,
            rejections=rejections,
        )
    except _PartitionMissing:
        # The cache named a month whose partition is gone: learn again and retry once.
        _forget_partitions()
        _partitions_for(months)
        return _store(
            device=device,
            batch_id=batch_id,
            content_hash=content_hash,
            rows=rows,
            rejections=rejections,
        )


class _Missing:
    """Stands for an absent field in the content hash (``None`` is a value sent)."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _content_hash(readings: Sequence[dict[str, Any]]) -> str:
    # Key order and spacing are not content: the same readings sent again with their keys
    # in another order are the same batch. repr() of the fields in a fixed order tells
    # "12" from 12 from 12.0 from true, and costs about half of a sorted json.dumps.
    canonical = repr(
        [
            (
                reading.get("sensor", _MISSING),
                reading.get("at", _MISSING),
                reading.get("value", _MISSING),
            )
            for reading in readings
        ]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _parse_at(raw: Any, *, earliest: datetime, latest: datetime) -> tuple[Any, ...]:
    """(datetime, instant in µs since the epoch, UTC month) of a valid ``at``, or
    (None, reason)."""
    if not isinstance(raw, str) or len(raw) > MAX_TIMESTAMP_LENGTH:
        return None, "invalid_timestamp"
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return None, "invalid_timestamp"
    if at.tzinfo is None:
        return None, "missing_offset"
    if at > latest:
        return None, "future_timestamp"
    if at < earliest:
        return None, "too_old"
    return at, (at - _EPOCH) // _MICROSECOND, month_start(at)


def _validate(
    *, device: Device, readings: Sequence[dict[str, Any]]
) -> tuple[list[tuple[Any, datetime, float]], list[dict[str, Any]], set[date]]:
    """(rows to store, rejections, the UTC months of the rows), in one query."""
    codes = {
        code
        for code in (reading.get("sensor") for reading in readings)
        if isinstance(code, str) and len(code) <= MAX_SENSOR_CODE_LENGTH
    }
    sensors = {
        code: (sensor_id, device_id, valid_min, valid_max, str(sensor_id))
        for code, sensor_id, device_id, valid_min, valid_max in Sensor.objects.filter(
            code__in=codes, is_active=True
        ).values_list("code", "id", "device_id", "valid_min", "valid_max")
    }
    now = timezone.now()
    latest = now + FUTURE_TOLERANCE
    earliest = now - MAX_AGE
    device_id = device.pk
    keyed_rows: list[tuple[str, int, Any, datetime, float]] = []
    rejections: list[dict[str, Any]] = []
    months: set[date] = set()
    # A logger samples its sensors at the same instants: each distinct string is parsed
    # and checked once.
    parsed: dict[Any, tuple[Any, ...]] = {}
    # (code, µs since the epoch): the same instant written with two offsets is one.
    seen: set[tuple[str, int]] = set()

    def reject(index: int, code: Any, reason: str) -> None:
        rejections.append(
            {
                "index": index,
                "sensor": code if isinstance(code, str) else None,
                "code": "invalid_timestamp" if reason == "missing_offset" else reason,
                "message": MESSAGES[reason],
            }
        )

    for index, reading in enumerate(readings):
        code = reading.get("sensor")
        sensor = sensors.get(code) if isinstance(code, str) else None
        if sensor is None:
            reject(index, code, "unknown_sensor")
            continue
        sensor_id, wired_to, valid_min, valid_max, sensor_text = sensor
        if wired_to is not None and wired_to != device_id:
            reject(index, code, "sensor_not_on_device")
            continue
        raw_at = reading.get("at")
        try:
            when = parsed[raw_at]
        except KeyError:
            when = parsed[raw_at] = _parse_at(raw_at, earliest=earliest, latest=latest)
        except TypeError:  # unhashable: a list or an object
            when = (None, "invalid_timestamp")
        at = when[0]
        if at is None:
            reject(index, code, when[1])
            continue
        value = reading.get("value")
        if type(value) is float:
            if not math.isfinite(value):
                reject(index, code, "invalid_value")
                continue
        elif type(value) is int:  # bool is an int subclass: refused below
            try:
                value = float(value)
            except OverflowError:
                reject(index, code, "invalid_value")
                continue
        else:
            reject(index, code, "invalid_value")
            continue
        if not valid_min <= value <= valid_max:
            reject(index, code, "out_of_range")
            continue
        key = (code, when[1])
        if key in seen:
            reject(index, code, "duplicate_in_batch")
            continue
        seen.add(key)
        months.add(when[2])
        keyed_rows.append((sensor_text, when[1], sensor_id, at, value))
    # One global order (sensor id as PostgreSQL sorts uuids, then time) for every batch:
    # two batches sharing readings wait on each other's rows in the same order, instead
    # of each holding one the other needs (a deadlock). Keys are unique: the uuid objects
    # are never compared.
    keyed_rows.sort()
    rows = [(sensor_id, at, value) for _, _, sensor_id, at, value in keyed_rows]
    return rows, rejections, months


class _PartitionMissing(Exception):
    pass


COPY_READINGS = "COPY pipeline_reading (sensor_id, recorded_at, value, batch_id) FROM STDIN"


@transaction.atomic
def _store(
    *,
    device: Device,
    batch_id: str,
    content_hash: str,
    rows: list[tuple[Any, datetime, float]],
    rejections: list[dict[str, Any]],
) -> IngestReport:
    batch = IngestBatch(
        device=device,
        batch_id=batch_id,
        content_hash=content_hash,
        accepted_count=len(rows),
        rejected_count=len(rejections),
        rejections=rejections,
    )
    try:
        with transaction.atomic():
            batch.save(force_insert=True)
    except IntegrityError:
        # Seen before, or a twin committed first (its insert held ours until then).
        stored = IngestBatch.objects.get(device=device, batch_id=batch_id)
        if not hmac.compare_digest(stored.content_hash, content_hash):
            raise BatchConflictError(batch_id=batch_id) from None
        return IngestReport.of(stored, replayed=True)
    if rows:
        inserted = _copy_rows(rows, batch.pk)
        if inserted != len(rows):
            batch.accepted_count = inserted
            batch.duplicate_count = len(rows) - inserted
            batch.save(update_fields=["accepted_count", "duplicate_count", "updated_at"])
    return IngestReport.of(batch, replayed=False)


def _copy_text(rows: list[tuple[Any, datetime, float]], batch_pk: Any) -> str:
    """The rows in COPY's text format. psycopg's write_row() formats every value of every
    row on its own (in Python when its C extension is absent); a logger's batch repeats
    its sensors and instants, so each is formatted once here. Nothing needs escaping:
    uuids, ISO 8601 instants and float reprs hold no tab, newline or backslash."""
    batch_text = str(batch_pk)
    sensor_texts: dict[Any, str] = {}
    at_texts: dict[datetime, str] = {}
    lines = []
    for sensor_id, at, value in rows:
        sensor_text = sensor_texts.get(sensor_id)
        if sensor_text is None:
            sensor_text = sensor_texts[sensor_id] = str(sensor_id)
        at_text = at_texts.get(at)
        if at_text is None:
            at_text = at_texts[at] = at.isoformat()
        lines.append(f"{sensor_text}\t{at_text}\t{value!r}\t{batch_text}\n")
    return "".join(lines)


def _copy_rows(rows: list[tuple[Any, datetime, float]], batch_pk: Any) -> int:
    """COPY the rows into the partitioned table; returns how many were new. The fast path
    copies straight in; a unique violation (readings stored by an earlier batch) rolls
    back to the savepoint and goes through a temporary staging table instead."""
    text = _copy_text(rows, batch_pk)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(COPY_READINGS) as copy:
                copy.write(text)
            return len(rows)
    except psycopg.errors.UniqueViolation:
        pass
    except psycopg.errors.CheckViolation as error:
        if "no partition" in str(error):
            raise _PartitionMissing() from error
        raise
    with transaction.atomic(), connection.cursor() as cursor:
        # ON COMMIT DROP: nothing outlives the transaction (safe behind a transaction
        # pooler); TRUNCATE for a second use inside one transaction.
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS pipeline_reading_staging "
            "(LIKE pipeline_reading) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE pipeline_reading_staging")
        with cursor.copy(
            "COPY pipeline_reading_staging (sensor_id, recorded_at, value, batch_id) FROM STDIN"
        ) as copy:
            copy.write(text)
        cursor.execute(
            "INSERT INTO pipeline_reading (sensor_id, recorded_at, value, batch_id) "
            "SELECT sensor_id, recorded_at, value, batch_id FROM pipeline_reading_staging "
            "ORDER BY sensor_id, recorded_at ON CONFLICT DO NOTHING"
        )
        return cursor.rowcount
