"""Device keys: issued raw once and stored hashed, rotated with a grace period, revoked,
expired, scoped to their tenant; and the admin routes that manage them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import PermissionDeniedError
from apps.core.tenancy import in_tenant
from apps.pipeline.errors import DeviceKeyInvalidError
from apps.pipeline.tests.conftest import error_of, pipeline_actor
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _services():
    from apps.pipeline.services import ingestion

    return ingestion


def test_issued_key_is_stored_only_as_its_hash(pipeline_network):
    from auditlog.models import LogEntry

    from apps.pipeline.models import DeviceKey

    key, raw_key = _services().device_key_issue(actor=None, device=pipeline_network.logger)

    assert raw_key.startswith(f"tdk_{key.prefix}_")
    stored = DeviceKey.objects.filter(pk=key.pk).values().get()
    assert stored["secret_hash"] == hashlib.sha256(raw_key.encode()).hexdigest()
    secret = raw_key.split("_", 2)[2]
    assert not any(secret in str(value) for value in stored.values())
    assert not any(
        secret in str(entry.changes) for entry in LogEntry.objects.filter(object_pk=str(key.pk))
    )
    assert _services().device_authenticate(raw_key) == pipeline_network.logger


def test_keys_are_random(pipeline_network):
    first = _services().device_key_issue(actor=None, device=pipeline_network.logger)[1]
    second = _services().device_key_issue(actor=None, device=pipeline_network.logger)[1]

    assert first != second
    assert _services().device_authenticate(first) == pipeline_network.logger
    assert _services().device_authenticate(second) == pipeline_network.logger


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: "",
        lambda raw: "tdk_",
        lambda raw: raw[:-1],
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),
        lambda raw: raw.replace("tdk_", "xyz_"),
        lambda raw: "tdk_000000000000_" + raw.split("_", 2)[2],
        lambda raw: raw + " ",
    ],
    ids=[
        "empty",
        "prefix-only",
        "truncated",
        "wrong-secret",
        "wrong-scheme",
        "unknown-prefix",
        "trailing-space",
    ],
)
def test_malformed_or_wrong_keys_are_refused(pipeline_network, mangle):
    _, raw_key = _services().device_key_issue(actor=None, device=pipeline_network.logger)

    with pytest.raises(DeviceKeyInvalidError):
        _services().device_authenticate(mangle(raw_key))


def test_revoked_key_is_refused_and_revoking_again_changes_nothing(pipeline_network):
    admin = pipeline_actor("admin")
    key, raw_key = _services().device_key_issue(actor=admin, device=pipeline_network.logger)

    _services().device_key_revoke(actor=admin, key=key)
    revoked_at = key.revoked_at
    _services().device_key_revoke(actor=admin, key=key)

    key.refresh_from_db()
    assert key.revoked_at == revoked_at
    with pytest.raises(DeviceKeyInvalidError):
        _services().device_authenticate(raw_key)


def test_expired_key_is_refused(pipeline_network):
    from apps.pipeline.models import DeviceKey

    key, raw_key = _services().device_key_issue(
        actor=None,
        device=pipeline_network.logger,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert _services().device_authenticate(raw_key) == pipeline_network.logger
    DeviceKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(DeviceKeyInvalidError):
        _services().device_authenticate(raw_key)


def test_key_of_a_deleted_device_is_refused(pipeline_network):
    _, raw_key = _services().device_key_issue(actor=None, device=pipeline_network.logger)
    pipeline_network.logger.deleted_at = timezone.now()
    pipeline_network.logger.save(update_fields=["deleted_at"])

    with pytest.raises(DeviceKeyInvalidError):
        _services().device_authenticate(raw_key)


def test_rotation_keeps_the_old_key_for_the_grace_period(pipeline_network):
    admin = pipeline_actor("admin")
    old, old_raw = _services().device_key_issue(actor=admin, device=pipeline_network.logger)
    before = timezone.now()

    new, new_raw = _services().device_key_rotate(
        actor=admin, device=pipeline_network.logger, grace_hours=6
    )

    old.refresh_from_db()
    assert new.pk != old.pk
    assert new.expires_at is None
    assert before + timedelta(hours=6) <= old.expires_at <= timezone.now() + timedelta(hours=6)
    assert _services().device_authenticate(old_raw) == pipeline_network.logger
    assert _services().device_authenticate(new_raw) == pipeline_network.logger


def test_rotation_without_grace_ends_the_old_keys_at_once(pipeline_network):
    old_raw = _services().device_key_issue(actor=None, device=pipeline_network.logger)[1]

    new_raw = _services().device_key_rotate(
        actor=None, device=pipeline_network.logger, grace_hours=0
    )[1]

    with pytest.raises(DeviceKeyInvalidError):
        _services().device_authenticate(old_raw)
    assert _services().device_authenticate(new_raw) == pipeline_network.logger


def test_rotation_never_extends_a_key_that_expires_sooner(pipeline_network):
    soon = timezone.now() + timedelta(hours=1)
    old, _ = _services().device_key_issue(
        actor=None, device=pipeline_network.logger, expires_at=soon
    )

    _services().device_key_rotate(actor=None, device=pipeline_network.logger, grace_hours=24)

    old.refresh_from_db()
    assert old.expires_at == soon


def test_last_use_is_recorded_at_most_once_a_minute(pipeline_network):
    from apps.pipeline.models import DeviceKey

    key, raw_key = _services().device_key_issue(actor=None, device=pipeline_network.logger)

    _services().device_authenticate(raw_key)
    first = DeviceKey.objects.get(pk=key.pk).last_used_at
    _services().device_authenticate(raw_key)
    second = DeviceKey.objects.get(pk=key.pk).last_used_at
    DeviceKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    _services().device_authenticate(raw_key)
    third = DeviceKey.objects.get(pk=key.pk).last_used_at

    assert first is not None
    assert second == first
    assert third > first


def test_key_of_another_tenant_is_unknown_here(pipeline_network):
    from apps.pipeline.tests import factories as f

    with in_tenant(TENANT_A):
        device_a = f.device_make("LOGGER-1")  # the same code as B's logger
        _, raw_key_a = _services().device_key_issue(actor=None, device=device_a)
        assert _services().device_authenticate(raw_key_a) == device_a

    with in_tenant(TENANT_B), pytest.raises(DeviceKeyInvalidError):
        _services().device_authenticate(raw_key_a)


def test_staff_cannot_issue_rotate_or_revoke(pipeline_network):
    from apps.pipeline.models import DeviceKey

    staff = pipeline_actor("staff")
    key, _ = _services().device_key_issue(actor=None, device=pipeline_network.logger)

    with pytest.raises(PermissionDeniedError):
        _services().device_key_issue(actor=staff, device=pipeline_network.logger)
    with pytest.raises(PermissionDeniedError):
        _services().device_key_rotate(actor=staff, device=pipeline_network.logger)
    with pytest.raises(PermissionDeniedError):
        _services().device_key_revoke(actor=staff, key=key)

    assert list(DeviceKey.objects.values_list("pk", "revoked_at", "expires_at")) == [
        (key.pk, None, None)
    ]


# --- routes -----------------------------------------------------------------------------------


def _keys_url(device) -> str:
    return f"/api/v1/pipeline/devices/{device.pk}/keys/"


def test_admin_issues_a_key_shown_once(pipeline_network, api_client):
    from apps.pipeline.models import DeviceKey

    client = api_client(TENANT_B, "admin")

    issued = client.post(_keys_url(pipeline_network.logger), {}, format="json")
    listed = client.get(_keys_url(pipeline_network.logger))

    assert issued.status_code == 201, issued.content
    body = issued.json()
    with in_tenant(TENANT_B):
        assert _services().device_authenticate(body["raw_key"]) == pipeline_network.logger
        key = DeviceKey.objects.get(pk=body["id"])
    assert body["prefix"] == key.prefix
    assert body["is_usable"] is True
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]
    assert body["raw_key"] not in listed.content.decode()
    assert key.secret_hash not in listed.content.decode()
    assert "raw_key" not in listed.json()["results"][0]


def test_admin_rotates_and_revokes(pipeline_network, api_client):
    from apps.pipeline.models import DeviceKey

    client = api_client(TENANT_B, "admin")
    old_raw = client.post(_keys_url(pipeline_network.logger), {}, format="json").json()["raw_key"]

    rotated = client.post(
        _keys_url(pipeline_network.logger) + "rotate/", {"grace_hours": 0}, format="json"
    )
    revoked = client.post(f"/api/v1/pipeline/device-keys/{rotated.json()['id']}/revoke/")

    assert rotated.status_code == 201, rotated.content
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["is_usable"] is False
    with in_tenant(TENANT_B):
        assert DeviceKey.objects.filter(revoked_at__isnull=False).count() == 1
        for raw_key in (old_raw, rotated.json()["raw_key"]):
            with pytest.raises(DeviceKeyInvalidError):
                _services().device_authenticate(raw_key)


@pytest.mark.parametrize("grace_hours", [-1, 721, "24", None])
def test_rotation_refuses_a_bad_grace(pipeline_network, api_client, grace_hours):
    from apps.pipeline.models import DeviceKey

    response = api_client(TENANT_B, "admin").post(
        _keys_url(pipeline_network.logger) + "rotate/",
        {"grace_hours": grace_hours},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert "grace_hours" in error_of(response)["fields"]
    with in_tenant(TENANT_B):
        assert not DeviceKey.objects.exists()


def test_staff_may_list_but_not_issue(pipeline_network, api_client):
    from apps.accounts.models import User
    from apps.pipeline.models import DeviceKey
    from apps.pipeline.tests import factories as f

    f.zone_grant(User.objects.get(username="staff"), pipeline_network.north)
    client = api_client(TENANT_B, "staff")

    listed = client.get(_keys_url(pipeline_network.logger))
    issued = client.post(_keys_url(pipeline_network.logger), {}, format="json")

    assert listed.status_code == 200
    assert issued.status_code == 403
    assert error_of(issued)["code"] == "permission_denied"
    with in_tenant(TENANT_B):
        assert not DeviceKey.objects.exists()


def test_device_outside_the_users_zones_is_not_found(pipeline_network, client_for):
    from apps.pipeline.models import DeviceKey
    from apps.pipeline.tests import factories as f

    permissions = ["pipeline.view_devicekey", "pipeline.add_devicekey", "pipeline.change_devicekey"]
    south_user = f.user_make(zones=[pipeline_network.south], permissions=permissions)
    north_user = f.user_make(zones=[pipeline_network.north], permissions=permissions)
    key, _ = _services().device_key_issue(actor=None, device=pipeline_network.logger)
    south, north = client_for(south_user), client_for(north_user)

    answers = [
        south.get(_keys_url(pipeline_network.logger)),
        south.post(_keys_url(pipeline_network.logger), {}, format="json"),
        south.post(_keys_url(pipeline_network.logger) + "rotate/", {}, format="json"),
        south.post(f"/api/v1/pipeline/device-keys/{key.pk}/revoke/"),
    ]
    control = north.get(_keys_url(pipeline_network.logger))

    for response in answers:
        assert response.status_code == 404, response.content
        assert error_of(response)["code"] == "not_found"
    with in_tenant(TENANT_B):
        assert list(DeviceKey.objects.values_list("pk", "revoked_at", "expires_at")) == [
            (key.pk, None, None)
        ]
    assert control.status_code == 200
    assert [row["id"] for row in control.json()["results"]] == [str(key.pk)]


@pytest.mark.parametrize("expires_at", ["2020-01-01T00:00:00Z", "soon", 12])
def test_issue_refuses_an_expiry_not_in_the_future(pipeline_network, api_client, expires_at):
    from apps.pipeline.models import DeviceKey

    response = api_client(TENANT_B, "admin").post(
        _keys_url(pipeline_network.logger), {"expires_at": expires_at}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert "expires_at" in error_of(response)["fields"]
    with in_tenant(TENANT_B):
        assert not DeviceKey.objects.exists()


def test_issue_with_a_future_expiry(pipeline_network, api_client):
    expires_at = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    response = api_client(TENANT_B, "admin").post(
        _keys_url(pipeline_network.logger), {"expires_at": expires_at.isoformat()}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["expires_at"] == expires_at.isoformat().replace("+00:00", "Z")
