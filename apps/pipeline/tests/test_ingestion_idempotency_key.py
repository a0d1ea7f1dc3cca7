"""An Idempotency-Key sent by a device belongs to that device's key: another device using
the same Idempotency-Key neither replays nor collides with the first one's answer."""

from __future__ import annotations

import pytest

from apps.pipeline.tests.conftest_ingestion import device_client, keyed, reading  # noqa: F401

pytestmark = pytest.mark.django_db


def test_two_devices_with_the_same_idempotency_key_each_get_their_own_answer(keyed):  # noqa: F811
    from apps.pipeline.services.ingestion import device_key_issue
    from apps.pipeline.tests import factories

    network = keyed.network
    other_device = factories.device_make("LOGGER-2", asset=network.south_pump)
    _key, other_raw_key = device_key_issue(actor=None, device=other_device)
    north = {"batch_id": "b-north", "readings": [reading(network.north_flow, keyed.at(1), 5.0)]}
    south = {"batch_id": "b-south", "readings": [reading(network.south_flow, keyed.at(1), 7.0)]}

    first = device_client(keyed.raw_key).post(
        "/api/v1/pipeline/ingest/", north, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    second = device_client(other_raw_key).post(
        "/api/v1/pipeline/ingest/", south, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert second.json()["batch_id"] == "b-south"
    assert "Idempotent-Replayed" not in second.headers
