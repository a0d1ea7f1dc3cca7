"""Cross-tenant specs for the ingestion routes of /api/v1/pipeline/ (merged into
tests.api.routes).

Rows are made with the ORM in B's schema. The marker of a key is its prefix, which every
representation of the key shows. The ingest route takes no JWT: a device key is looked up
in the host's schema only; its cross-tenant refusal (another tenant's key → 401, another
tenant's sensor code → unknown_sensor) is tested in
apps/pipeline/tests/test_ingestion_api.py.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from tests.api.routes import Spec


def _make_key() -> tuple[dict, str]:
    from apps.pipeline.models import Device, DeviceKey

    marker = secrets.token_hex(6)
    device = Device.objects.create(code=f"XT-DEV-{uuid.uuid4().hex[:8]}", name="xt device")
    key = DeviceKey.objects.create(
        device=device, prefix=marker, secret_hash=hashlib.sha256(marker.encode()).hexdigest()
    )
    return {"device_id": device.pk, "key_id": key.pk}, marker


def _key_intact(marker: str) -> bool:
    from apps.pipeline.models import DeviceKey

    # Not revoked, not expired (a rotation would have set expires_at), and still alone.
    key = DeviceKey.objects.filter(prefix=marker).first()
    return (
        key is not None
        and key.revoked_at is None
        and key.expires_at is None
        and DeviceKey.objects.filter(device_id=key.device_id).count() == 1
    )


ROUTES = {
    "api/v1/pipeline/devices/<uuid:device_id>/keys/": Spec(make=_make_key, intact=_key_intact),
    "api/v1/pipeline/devices/<uuid:device_id>/keys/rotate/": Spec(
        make=_make_key, write_body={"grace_hours": 0}, intact=_key_intact
    ),
    "api/v1/pipeline/device-keys/<uuid:key_id>/revoke/": Spec(make=_make_key, intact=_key_intact),
    # Needs ?sensor=<id>: its cross-tenant 404 is tested in test_ingestion_readings.py.
    "api/v1/pipeline/readings/": Spec(make=None),
}

PUBLIC_ROUTES = {
    "api/v1/pipeline/ingest/": (
        "device-key authentication, no JWT: keys and sensors are looked up in the host's "
        "schema only; another tenant's key is a 401 (tested in test_ingestion_api.py)"
    ),
}
