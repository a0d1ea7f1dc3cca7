"""Concurrent transitions of one incident: exactly one applies.

Two threads, each with its own database connection and its own committed transaction (as
two web requests would be), meet at a barrier and act on the same incident. The row lock
each transition takes first makes the second re-read the row the first changed.

These tests need committed rows (the threads' connections cannot see the test's own
transaction), so they write with committed access and remove what they wrote, like
apps/hr/tests/test_leave_concurrency.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.pipeline.errors import InvalidTransitionError, OfferNotOpenError
from apps.pipeline.tests.conftest import pipeline_actor
from tests.concurrency import race
from tests.personas import TENANT_B


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed access instead of pytest-django's rolled-back transaction (named ``db``
    so pytest-django sets up the test database)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def committed(db, monkeypatch) -> Iterator[dict[str, Any]]:
    """A zone, a team and an open incident offered to it in tenant B, committed; all of
    it is deleted afterwards. Realtime publishing is switched off (not this test's
    point)."""
    from auditlog.models import LogEntry

    from apps.jobs.models import OutboxMessage
    from apps.pipeline.models import DispatchOffer, FieldTeam, Incident, Zone
    from apps.pipeline.services import incidents as services

    monkeypatch.setattr(services, "publish_event", lambda **kwargs: None)
    with in_tenant(TENANT_B):
        started = timezone.now()
        zone = Zone.objects.create(code="RACE-ZONE", name="Race zone")
        team = FieldTeam.objects.create(
            code="RACE-TEAM", name="Race team", base_latitude=52, base_longitude=5
        )
        incident = Incident.objects.create(
            number="RACE-1",
            title="Race",
            severity="high",
            source="manual",
            zone=zone,
            latitude=52,
            longitude=5,
        )
        offer = DispatchOffer.objects.create(
            incident=incident,
            team=team,
            distance_km=0,
            respond_by=timezone.now() + timedelta(hours=1),
        )
    try:
        yield {"incident": incident, "offer": offer, "team": team}
    finally:
        with in_tenant(TENANT_B):
            DispatchOffer.objects.filter(incident=incident).delete()
            Incident.objects.filter(pk=incident.pk).delete()
            FieldTeam.all_objects.filter(pk=team.pk).delete()
            Zone.objects.filter(pk=zone.pk).delete()
            LogEntry.objects.filter(timestamp__gte=started).delete()
            OutboxMessage.objects.filter(created_at__gte=started).delete()


_race = partial(race, schema_name=TENANT_B)


def test_two_acknowledgements_apply_once(committed):
    from apps.pipeline.models import Incident, IncidentEvent
    from apps.pipeline.services import incidents as services

    actor = pipeline_actor("admin")
    incident = committed["incident"]

    results = _race(
        lambda: services.incident_acknowledge(actor=actor, incident=incident),
        lambda: services.incident_acknowledge(actor=actor, incident=incident),
    )

    assert sum(isinstance(result, Incident) for result in results) == 1, results
    assert sum(isinstance(result, InvalidTransitionError) for result in results) == 1, results
    with in_tenant(TENANT_B):
        assert IncidentEvent.objects.filter(incident=incident, kind="status_changed").count() == 1


def test_accept_and_decline_of_one_offer_apply_once(committed):
    from apps.pipeline.models import DispatchOffer, Incident
    from apps.pipeline.services import incidents as services

    actor = pipeline_actor("admin")
    offer = committed["offer"]

    results = _race(
        lambda: services.offer_accept(actor=actor, offer=offer),
        lambda: services.offer_decline(actor=actor, offer=offer),
    )

    assert sum(isinstance(result, DispatchOffer) for result in results) == 1, results
    assert sum(isinstance(result, OfferNotOpenError) for result in results) == 1, results
    with in_tenant(TENANT_B):
        stored = DispatchOffer.objects.get(pk=offer.pk)
        incident = Incident.objects.get(pk=committed["incident"].pk)
    winner = next(result for result in results if isinstance(result, DispatchOffer))
    assert stored.status == winner.status
    assert incident.status == ("assigned" if winner.status == "accepted" else "open")


def test_expiry_racing_an_accept_never_deadlocks(committed):
    """Both take the incident's lock before the offer's: one wins, the other finds the
    offer answered (or the incident busy, left to the next tick)."""
    from django.db import DatabaseError

    from apps.pipeline.models import DispatchOffer
    from apps.pipeline.services import incidents as services

    actor = pipeline_actor("admin")
    offer = committed["offer"]
    later = timezone.now() + timedelta(hours=2)

    results = _race(
        lambda: services.offer_accept(actor=actor, offer=offer),
        lambda: services.dispatch_offers_expire(now=later),
    )

    assert not any(isinstance(result, DatabaseError) for result in results), results
    with in_tenant(TENANT_B):
        stored = DispatchOffer.objects.get(pk=offer.pk)
    if isinstance(results[0], DispatchOffer):
        assert results[1] == 0
        assert stored.status == "accepted"
    else:
        assert isinstance(results[0], OfferNotOpenError), results
        assert results[1] == 1
        assert stored.status == "expired"
