"""POST /api/v1/pipeline/ingest/: device-key authentication, per-reading validation,
idempotent batches, duplicates, whole-batch refusals, and tenant isolation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from apps.core.tenancy import in_tenant
from apps.pipeline.tests import conftest_ingestion
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.conftest_ingestion import (
    batch_count,
    count_rows,
    device_client,
    reading,
    reading_count,
    stored_readings,
)
from tests.personas import HOSTS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db
keyed = conftest_ingestion.keyed

URL = "/api/v1/pipeline/ingest/"


def _post(raw_key, body, **kwargs):
    return device_client(raw_key, **kwargs).post(URL, body, format="json")


def test_good_batch_is_stored_with_copy_into_its_partition(keyed):
    from apps.pipeline.models import IngestBatch
    from apps.pipeline.services.ingestion import month_start, partition_name

    net = keyed.network
    body = {
        "batch_id": "b-1",
        "readings": [
            reading(net.north_flow, keyed.at(10), 12.5),
            reading(net.north_flow, keyed.at(5), 13),
            reading(net.north_pressure, keyed.at(5), 3.2),
        ],
    }

    response = _post(keyed.raw_key, body)

    assert response.status_code == 201, response.content
    assert response.json() == {
        "batch_id": "b-1",
        "accepted": 3,
        "rejected": 0,
        "duplicates": 0,
        "replayed": False,
        "rejections": [],
    }
    with in_tenant(TENANT_B):
        batch = IngestBatch.objects.get()
    assert (batch.device_id, batch.batch_id, batch.accepted_count) == (net.logger.pk, "b-1", 3)
    assert stored_readings() == {
        (net.north_flow.pk, keyed.at(10), 12.5),
        (net.north_flow.pk, keyed.at(5), 13.0),
        (net.north_pressure.pk, keyed.at(5), 3.2),
    }
    # The rows sit in the month's partition, stamped with their batch.
    partitions = {partition_name(month_start(keyed.at(minutes))) for minutes in (10, 5)}
    in_partitions = sum(
        count_rows(f"SELECT count(*) FROM {name} WHERE batch_id = %s", [batch.pk])  # noqa: S608
        for name in partitions
    )
    assert in_partitions == 3


def test_repeated_batch_is_replayed_and_stores_nothing(keyed):
    net = keyed.network
    body = {
        "batch_id": "b-replay",
        "readings": [
            reading(net.north_flow, keyed.at(10), 12.5),
            reading("NO-SUCH-SENSOR", keyed.at(10), 1),
        ],
    }
    first = _post(keyed.raw_key, body)
    readings_before, batches_before = reading_count(), batch_count()

    # The same readings with keys in another order and other spacing are the same batch.
    again = json.dumps(
        {
            "readings": [
                {key: item[key] for key in sorted(item, reverse=True)} for item in body["readings"]
            ],
            "batch_id": "b-replay",
        },
        indent=2,
    )
    second = device_client(keyed.raw_key).generic(
        "POST", URL, again, content_type="application/json"
    )

    assert first.status_code == 201
    assert second.status_code == 200, second.content
    assert second.json() == {**first.json(), "replayed": True}
    assert (reading_count(), batch_count()) == (readings_before, batches_before) == (1, 1)


def test_same_batch_id_with_other_readings_is_a_conflict(keyed):
    net = keyed.network
    _post(keyed.raw_key, {"batch_id": "b-2", "readings": [reading(net.north_flow, keyed.at(9), 1)]})
    before = stored_readings()

    response = _post(
        keyed.raw_key,
        {"batch_id": "b-2", "readings": [reading(net.north_flow, keyed.at(8), 2)]},
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.batch_conflict"
    assert stored_readings() == before
    assert batch_count() == 1


def test_batch_ids_are_per_device(keyed):
    from apps.pipeline.services.ingestion import device_key_issue
    from apps.pipeline.tests import factories as f

    net = keyed.network
    other = f.device_make("LOGGER-2")
    _, other_key = device_key_issue(actor=None, device=other)

    first = _post(
        keyed.raw_key, {"batch_id": "same", "readings": [reading(net.south_flow, keyed.at(3), 1)]}
    )
    second = _post(
        other_key, {"batch_id": "same", "readings": [reading(net.south_flow, keyed.at(2), 2)]}
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert reading_count() == 2


def test_readings_stored_before_count_as_duplicates(keyed):
    net = keyed.network
    _post(
        keyed.raw_key, {"batch_id": "b-a", "readings": [reading(net.north_flow, keyed.at(7), 1.0)]}
    )

    response = _post(
        keyed.raw_key,
        {
            "batch_id": "b-b",
            "readings": [
                # The same instant written with another offset is the same reading.
                reading(net.north_flow, keyed.at(7).astimezone(_tz(2)), 99.0),
                reading(net.north_flow, keyed.at(6), 2.0),
            ],
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["accepted"] == 1
    assert response.json()["duplicates"] == 1
    assert response.json()["rejections"] == []
    # The first value stays.
    assert stored_readings() == {
        (net.north_flow.pk, keyed.at(7), 1.0),
        (net.north_flow.pk, keyed.at(6), 2.0),
    }
    # And the replay of the second batch reports the same.
    replay = _post(
        keyed.raw_key,
        {
            "batch_id": "b-b",
            "readings": [
                reading(net.north_flow, keyed.at(7).astimezone(_tz(2)), 99.0),
                reading(net.north_flow, keyed.at(6), 2.0),
            ],
        },
    )
    assert replay.json() == {**response.json(), "replayed": True}


def _tz(hours: int):
    from datetime import timezone as dt_timezone

    return dt_timezone(timedelta(hours=hours))


# --- per-reading rejections -------------------------------------------------------------


def _bad(keyed, case: str) -> dict:
    net = keyed.network
    at = keyed.at(4).isoformat()
    return {
        "unknown_sensor": {"sensor": "NO-SUCH-SENSOR", "at": at, "value": 1},
        "unknown_sensor-not-a-string": {"sensor": 42, "at": at, "value": 1},
        "unknown_sensor-missing": {"at": at, "value": 1},
        "unknown_sensor-inactive": {"sensor": "INACTIVE", "at": at, "value": 1},
        "invalid_timestamp-words": {"sensor": net.north_flow.code, "at": "yesterday", "value": 1},
        "invalid_timestamp-no-offset": {
            "sensor": net.north_flow.code,
            "at": keyed.at(4).replace(tzinfo=None).isoformat(),
            "value": 1,
        },
        "invalid_timestamp-number": {"sensor": net.north_flow.code, "at": 1732900000, "value": 1},
        "invalid_timestamp-missing": {"sensor": net.north_flow.code, "value": 1},
        "future_timestamp": {
            "sensor": net.north_flow.code,
            "at": (keyed.now + timedelta(minutes=10)).isoformat(),
            "value": 1,
        },
        "too_old": {
            "sensor": net.north_flow.code,
            "at": (keyed.now - timedelta(days=401)).isoformat(),
            "value": 1,
        },
        "invalid_value-string": {"sensor": net.north_flow.code, "at": at, "value": "12.5"},
        "invalid_value-boolean": {"sensor": net.north_flow.code, "at": at, "value": True},
        "invalid_value-null": {"sensor": net.north_flow.code, "at": at, "value": None},
        "invalid_value-missing": {"sensor": net.north_flow.code, "at": at},
        "invalid_value-huge-int": {"sensor": net.north_flow.code, "at": at, "value": 10**400},
        "out_of_range-above": {"sensor": net.north_flow.code, "at": at, "value": 1e9},
        "out_of_range-below": {"sensor": net.north_flow.code, "at": at, "value": -0.5},
        "sensor_not_on_device": {"sensor": "WIRED-ELSEWHERE", "at": at, "value": 1},
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "unknown_sensor",
        "unknown_sensor-not-a-string",
        "unknown_sensor-missing",
        "unknown_sensor-inactive",
        "invalid_timestamp-words",
        "invalid_timestamp-no-offset",
        "invalid_timestamp-number",
        "invalid_timestamp-missing",
        "future_timestamp",
        "too_old",
        "invalid_value-string",
        "invalid_value-boolean",
        "invalid_value-null",
        "invalid_value-missing",
        "invalid_value-huge-int",
        "out_of_range-above",
        "out_of_range-below",
        "sensor_not_on_device",
    ],
)
def test_bad_reading_is_rejected_alone(keyed, case):
    from apps.pipeline.tests import factories as f

    net = keyed.network
    f.sensor_make("INACTIVE", asset=net.north_main, is_active=False)
    f.sensor_make("WIRED-ELSEWHERE", asset=net.south_pump, device=f.device_make("LOGGER-9"))
    bad = _bad(keyed, case)
    body = {"batch_id": f"b-{case}", "readings": [reading(net.north_flow, keyed.at(4), 5.0), bad]}

    response = _post(keyed.raw_key, body)

    assert response.status_code == 201, response.content
    report = response.json()
    expected_sensor = bad.get("sensor") if isinstance(bad.get("sensor"), str) else None
    assert report["accepted"] == 1
    assert report["rejected"] == 1
    assert [(r["index"], r["sensor"], r["code"]) for r in report["rejections"]] == [
        (1, expected_sensor, case.split("-")[0])
    ]
    assert report["rejections"][0]["message"]
    assert stored_readings() == {(net.north_flow.pk, keyed.at(4), 5.0)}


def test_duplicate_in_batch_keeps_the_first(keyed):
    net = keyed.network
    body = {
        "batch_id": "b-dup",
        "readings": [
            reading(net.north_flow, keyed.at(4), 5.0),
            reading(net.north_flow, keyed.at(4).astimezone(_tz(-5)), 6.0),
            reading(net.north_pressure, keyed.at(4), 1.0),
        ],
    }

    response = _post(keyed.raw_key, body)

    assert response.status_code == 201
    assert [(r["index"], r["code"]) for r in response.json()["rejections"]] == [
        (1, "duplicate_in_batch")
    ]
    assert stored_readings() == {
        (net.north_flow.pk, keyed.at(4), 5.0),
        (net.north_pressure.pk, keyed.at(4), 1.0),
    }


def test_boundaries_of_the_range_and_window_are_accepted(keyed):
    net = keyed.network
    body = {
        "batch_id": "b-edges",
        "readings": [
            reading(net.north_pressure, keyed.at(3), 0.0),
            reading(net.north_pressure, keyed.at(2), 16.0),
            reading(net.north_flow, keyed.now + timedelta(minutes=4), 1.0),
            reading(net.north_flow, keyed.now - timedelta(days=399), 1.0),
            reading(net.north_flow, keyed.at(1).strftime("%Y-%m-%dT%H:%M:%SZ"), 1.0),
        ],
    }

    response = _post(keyed.raw_key, body)

    assert response.status_code == 201
    assert response.json()["accepted"] == 5, response.json()["rejections"]


def test_sensor_without_a_device_takes_readings_from_any_device_of_the_tenant(keyed):
    from apps.pipeline.services.ingestion import device_key_issue
    from apps.pipeline.tests import factories as f

    net = keyed.network
    _, other_key = device_key_issue(actor=None, device=f.device_make("GATEWAY"))

    response = _post(
        other_key,
        {
            "batch_id": "b-gw",
            "readings": [
                reading(net.south_flow, keyed.at(3), 4.0),
                reading(net.north_flow, keyed.at(3), 4.0),  # wired to the logger
            ],
        },
    )

    assert response.status_code == 201
    assert response.json()["accepted"] == 1
    assert [r["code"] for r in response.json()["rejections"]] == ["sensor_not_on_device"]
    assert stored_readings() == {(net.south_flow.pk, keyed.at(3), 4.0)}


def test_batch_whose_every_reading_is_rejected_is_422_and_stores_nothing(keyed):
    body = {"batch_id": "b-none", "readings": [reading("NOPE", keyed.at(1), 1)] * 2}

    response = _post(keyed.raw_key, body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "pipeline.batch_rejected"
    assert [r["code"] for r in error["details"]["rejections"]] == ["unknown_sensor"] * 2
    assert reading_count() == 0
    assert batch_count() == 0


def test_all_rejected_batch_whose_id_was_used_before_is_a_conflict_not_a_422(keyed):
    good = {"batch_id": "b-used", "readings": [reading(keyed.network.north_flow, keyed.at(1), 2)]}
    assert _post(keyed.raw_key, good).status_code == 201

    bad = {"batch_id": "b-used", "readings": [reading("NOPE", keyed.at(1), 1)]}
    response = _post(keyed.raw_key, bad)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pipeline.batch_conflict"
    assert batch_count() == 1


# --- whole-batch refusals -----------------------------------------------------------------


def _malformed(keyed, case: str):
    good = reading(keyed.network.north_flow, keyed.at(2), 1)
    return {
        "not-an-object": ([good], "pipeline.batch_malformed"),
        "string": ("readings", "pipeline.batch_malformed"),
        "unknown-field": (
            {"batch_id": "x", "readings": [good], "extra": 1},
            "pipeline.batch_malformed",
        ),
        "missing-batch-id": ({"readings": [good]}, "pipeline.batch_id_invalid"),
        "batch-id-number": ({"batch_id": 7, "readings": [good]}, "pipeline.batch_id_invalid"),
        "batch-id-empty": ({"batch_id": "", "readings": [good]}, "pipeline.batch_id_invalid"),
        "batch-id-spaces": ({"batch_id": "a b", "readings": [good]}, "pipeline.batch_id_invalid"),
        "batch-id-too-long": (
            {"batch_id": "x" * 101, "readings": [good]},
            "pipeline.batch_id_invalid",
        ),
        "readings-missing": ({"batch_id": "x"}, "pipeline.batch_malformed"),
        "readings-object": ({"batch_id": "x", "readings": good}, "pipeline.batch_malformed"),
        "readings-empty": ({"batch_id": "x", "readings": []}, "pipeline.batch_empty"),
        "reading-not-object": (
            {"batch_id": "x", "readings": [good, [1, 2]]},
            "pipeline.batch_malformed",
        ),
        "reading-unknown-field": (
            {"batch_id": "x", "readings": [good, {**good, "unit": "bar"}]},
            "pipeline.batch_malformed",
        ),
        "too-many": ({"batch_id": "x", "readings": [good] * 10_001}, "pipeline.batch_too_large"),
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "not-an-object",
        "string",
        "unknown-field",
        "missing-batch-id",
        "batch-id-number",
        "batch-id-empty",
        "batch-id-spaces",
        "batch-id-too-long",
        "readings-missing",
        "readings-object",
        "readings-empty",
        "reading-not-object",
        "reading-unknown-field",
        "too-many",
    ],
)
def test_malformed_batch_is_refused_and_stores_nothing(keyed, case):
    body, code = _malformed(keyed, case)

    response = _post(keyed.raw_key, body)

    assert response.status_code == 400, response.content[:300]
    error = error_of(response)
    assert error["code"] == code
    assert set(error) == {"code", "message", "details", "fields"}
    assert (reading_count(), batch_count()) == (0, 0)


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ('{"batch_id": "x", "readings": [', "application/json", 400, "malformed_request"),
        (
            '{"batch_id": "x", "readings": [{"sensor": "S", "at": "x", "value": NaN}]}',
            "application/json",
            400,
            "malformed_request",
        ),
        ("batch_id=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "malformed_request"),
    ],
    ids=["truncated", "nan", "form", "nested-too-deep"],
)
def test_unparseable_body_is_refused_and_stores_nothing(keyed, raw, content_type, status, code):
    response = device_client(keyed.raw_key).generic("POST", URL, raw, content_type=content_type)

    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert (reading_count(), batch_count()) == (0, 0)


# --- authentication and tenants -------------------------------------------------------------


def _one(keyed) -> dict:
    return {"batch_id": "b-auth", "readings": [reading(keyed.network.north_flow, keyed.at(1), 1)]}


def test_no_key_is_401(keyed):
    response = _post(None, _one(keyed))

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("DeviceKey")
    assert batch_count() == 0


@pytest.mark.parametrize(
    "header",
    ["DeviceKey", "DeviceKey tdk_nope", "DeviceKey a b", "DeviceKey tdk_000000000000_" + "A" * 43],
    ids=["no-key", "malformed", "two-parts", "unknown"],
)
def test_bad_key_is_401(keyed, header):
    client = device_client(None)
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.post(URL, _one(keyed), format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "pipeline.device_key_invalid"
    assert response.headers["WWW-Authenticate"].startswith("DeviceKey")
    assert batch_count() == 0


def test_revoked_key_is_401_and_stores_nothing(keyed):
    from apps.pipeline.services.ingestion import device_key_revoke

    with in_tenant(TENANT_B):
        device_key_revoke(actor=None, key=keyed.key)

    response = _post(keyed.raw_key, _one(keyed))

    assert response.status_code == 401
    assert error_of(response)["code"] == "pipeline.device_key_invalid"
    assert (reading_count(), batch_count()) == (0, 0)


def test_a_users_token_does_not_ingest(keyed, api_client):
    response = api_client(TENANT_B, "admin").post(URL, _one(keyed), format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert batch_count() == 0


@pytest.fixture
def pipeline_on_for_a(db):
    """Tenant A gets the pipeline module too (rolled back with the test)."""
    from apps.tenants.models import Tenant, TenantModule
    from apps.tenants.selectors import tenant_hostnames_forget

    TenantModule.objects.update_or_create(
        tenant=Tenant.objects.get(schema_name=TENANT_A),
        module="pipeline",
        defaults={"is_enabled": True},
    )
    tenant_hostnames_forget(hostnames=[HOSTS[TENANT_A]])
    yield
    tenant_hostnames_forget(hostnames=[HOSTS[TENANT_A]])


def test_key_of_tenant_a_is_401_on_host_of_b(keyed, pipeline_on_for_a):
    from apps.pipeline.services.ingestion import device_key_issue
    from apps.pipeline.tests import factories as f

    with in_tenant(TENANT_A):
        zone = f.zone_make("NET")
        asset = f.asset_make("A-NORTH-MAIN", zone=zone)
        device_a = f.device_make("LOGGER-1", asset=asset)
        f.sensor_make("S-NORTH-FLOW", asset=asset, device=device_a)
        _, key_a = device_key_issue(actor=None, device=device_a)

    on_b = _post(key_a, _one(keyed))
    on_a = _post(key_a, _one(keyed), schema_name=TENANT_A)

    assert on_b.status_code == 401
    assert error_of(on_b)["code"] == "pipeline.device_key_invalid"
    assert (reading_count(), batch_count()) == (0, 0)
    # The control: the same key works on its own tenant's host, for its own sensor.
    assert on_a.status_code == 201, on_a.content
    assert on_a.json()["accepted"] == 1
    assert reading_count(TENANT_A) == 1


def test_sensor_code_of_another_tenant_is_unknown(keyed, pipeline_on_for_a):
    from apps.pipeline.tests import factories as f

    with in_tenant(TENANT_A):
        zone = f.zone_make("NET")
        f.sensor_make("S-ONLY-IN-A", asset=f.asset_make(zone=zone))
    readings_in_a = reading_count(TENANT_A)

    response = _post(
        keyed.raw_key,
        {"batch_id": "b-xt", "readings": [reading("S-ONLY-IN-A", keyed.at(1), 1.0)]},
    )

    assert response.status_code == 422
    rejections = response.json()["error"]["details"]["rejections"]
    assert [(r["sensor"], r["code"]) for r in rejections] == [("S-ONLY-IN-A", "unknown_sensor")]
    assert reading_count(TENANT_A) == readings_in_a == 0
    assert reading_count() == 0
    assert batch_count(TENANT_A) == 0


def test_ingest_is_404_for_a_tenant_without_the_module(keyed):
    response = _post(keyed.raw_key, _one(keyed), schema_name=TENANT_A)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert batch_count(TENANT_A) == 0


def test_a_batch_of_the_largest_size_goes_through(keyed):
    net = keyed.network
    sensors = [net.north_flow, net.north_pressure, net.north1_pressure, net.south_flow]
    readings = [
        reading(sensor, keyed.now - timedelta(seconds=second), 1.5)
        for second in range(2_500)
        for sensor in sensors
    ]

    response = _post(keyed.raw_key, {"batch_id": "largest", "readings": readings})

    assert response.status_code == 201, response.content[:300]
    assert response.json()["accepted"] == 10_000
    assert reading_count() == 10_000
