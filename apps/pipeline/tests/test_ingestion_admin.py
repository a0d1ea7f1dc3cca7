"""The ingestion admin: device keys are read-only (the hash is shown, never editable) and
revoked through the service; batches are read-only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from apps.core.tenancy import in_tenant
from tests.personas import HOSTS, PASSWORD, TENANT_B

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_B])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_key_page_shows_the_hash_read_only(pipeline_network, admin_client):
    from apps.pipeline.services.ingestion import device_key_issue

    key, raw_key = device_key_issue(actor=None, device=pipeline_network.logger)

    page = admin_client.get(f"/admin/pipeline/devicekey/{key.pk}/change/")
    listing = admin_client.get("/admin/pipeline/devicekey/")

    assert page.status_code == 200
    html = page.content.decode()
    assert key.secret_hash in html
    assert 'name="secret_hash"' not in html
    assert raw_key.split("_", 2)[2] not in html
    assert listing.status_code == 200
    assert key.prefix in listing.content.decode()


def test_revoke_action_revokes_through_the_service(pipeline_network, admin_client):
    from apps.pipeline.models import DeviceKey
    from apps.pipeline.services.ingestion import device_key_issue

    key, _ = device_key_issue(actor=None, device=pipeline_network.logger)
    kept, _ = device_key_issue(actor=None, device=pipeline_network.logger)

    response = admin_client.post(
        "/admin/pipeline/devicekey/",
        {"action": "revoke", "_selected_action": [str(key.pk)]},
    )

    assert response.status_code == 302
    with in_tenant(TENANT_B):
        assert DeviceKey.objects.get(pk=key.pk).revoked_at is not None
        assert DeviceKey.objects.get(pk=key.pk).updated_by.username == "admin"
        assert DeviceKey.objects.get(pk=kept.pk).revoked_at is None


def test_batches_are_listed_read_only(pipeline_network, admin_client):
    from apps.pipeline.services.ingestion import readings_ingest

    with in_tenant(TENANT_B):
        readings_ingest(
            device=pipeline_network.logger,
            batch_id="admin-batch",
            readings=[
                {"sensor": "NOPE", "at": timezone.now().isoformat(), "value": 1},
                {
                    "sensor": pipeline_network.north_flow.code,
                    "at": timezone.now().isoformat(),
                    "value": 1,
                },
            ],
        )

    listing = admin_client.get("/admin/pipeline/ingestbatch/")
    add = admin_client.get("/admin/pipeline/ingestbatch/add/")

    assert listing.status_code == 200
    assert "admin-batch" in listing.content.decode()
    assert add.status_code == 403
