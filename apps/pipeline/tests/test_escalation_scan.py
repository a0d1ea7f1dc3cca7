# ruff: noqa: F811 - fixtures imported from helpers_incidents are test arguments
"""Escalation: policies with levels per severity, the set-based scan (levels in order with
their delays, stops on acknowledgement, recipients by user and role, then_policy
continuation, constant query count) and the policy API's refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.pipeline.tests.conftest import error_of, pipeline_actor
from apps.pipeline.tests.helpers_incidents import events_of, incident_make, minutes, policy_make

pytestmark = pytest.mark.django_db

POLICIES = "/api/v1/pipeline/escalation-policies/"


@pytest.fixture
def people(in_tenant_b):
    """Two on-call users; "manager" role holders (one active, one not)."""
    from apps.pipeline.tests import factories as f

    return {
        "oncall": f.user_make("oncall"),
        "boss": f.user_make("boss"),
        "manager": f.user_make("mgr", roles=["manager"]),
        "gone": f.user_make("gone-mgr", roles=["manager"]),
    }


def _deactivate(user):
    user.is_active = False
    user.save()


def _steps(incident):
    from apps.pipeline.models import IncidentEscalation

    return list(
        IncidentEscalation.objects.filter(incident=incident)
        .order_by("escalated_at", "id")
        .values_list("policy__name", "level")
    )


def test_levels_fire_in_order_with_their_delays(pipeline_network, people):
    from apps.pipeline.services.incidents import escalation_scan

    policy_make(
        levels=[
            {"level": 1, "delay_minutes": 5, "user_ids": [people["oncall"].pk]},
            {"level": 2, "delay_minutes": 10, "user_ids": [people["boss"].pk]},
        ]
    )
    incident = incident_make(pipeline_network.north)
    opened = incident.opened_at
    assert incident.next_escalation_at == opened + minutes(5)

    assert escalation_scan(now=opened + minutes(4)) == 0
    assert escalation_scan(now=opened + minutes(5)) == 1
    incident.refresh_from_db()
    assert incident.escalation_level == 1
    assert incident.next_escalation_at == opened + minutes(15)
    assert escalation_scan(now=opened + minutes(14)) == 0
    assert escalation_scan(now=opened + minutes(15)) == 1
    incident.refresh_from_db()
    assert incident.escalation_level == 2
    assert incident.next_escalation_at is None  # out of levels
    assert escalation_scan(now=opened + minutes(600)) == 0

    assert [level for _, level in _steps(incident)] == [1, 2]
    assert events_of(incident).count("escalated") == 2


def test_acknowledgement_stops_escalation(pipeline_network, people):
    from apps.pipeline.services.incidents import escalation_scan, incident_acknowledge

    policy_make(
        levels=[
            {"level": 1, "delay_minutes": 0, "user_ids": [people["oncall"].pk]},
            {"level": 2, "delay_minutes": 10, "user_ids": [people["boss"].pk]},
        ]
    )
    incident = incident_make(pipeline_network.north)
    assert escalation_scan(now=incident.opened_at) == 1

    incident_acknowledge(actor=pipeline_actor("admin"), incident=incident)

    assert escalation_scan(now=incident.opened_at + minutes(60)) == 0
    incident.refresh_from_db()
    assert incident.next_escalation_at is None
    assert [level for _, level in _steps(incident)] == [1]


def test_recipients_by_user_and_role(pipeline_network, people):
    from apps.pipeline.models import IncidentEscalation
    from apps.pipeline.services.incidents import escalation_scan

    _deactivate(people["gone"])
    policy_make(
        levels=[
            {
                "level": 1,
                "delay_minutes": 1,
                "user_ids": [people["oncall"].pk],
                "role_slugs": ["manager"],
            }
        ]
    )
    incident = incident_make(pipeline_network.north)

    escalation_scan(now=incident.opened_at + minutes(1))

    step = IncidentEscalation.objects.get(incident=incident)
    assert str(people["oncall"].pk) in step.recipient_ids
    assert str(people["manager"].pk) in step.recipient_ids
    assert str(people["gone"].pk) not in step.recipient_ids  # inactive users are skipped
    assert str(people["boss"].pk) not in step.recipient_ids


def test_scan_notifies_through_the_notifications_app(pipeline_network, people):
    from apps.jobs.models import OutboxMessage
    from apps.notifications.models import Delivery
    from apps.pipeline.services.incidents import escalation_notify, escalation_scan

    people["oncall"].email = "oncall@example.test"
    people["oncall"].save()
    policy_make(levels=[{"level": 1, "delay_minutes": 1, "user_ids": [people["oncall"].pk]}])
    incident = incident_make(pipeline_network.north)

    escalation_scan(now=incident.opened_at + minutes(1))

    message = OutboxMessage.objects.get(task_name="pipeline.escalation_notify")
    assert escalation_notify(escalated_at=message.kwargs["escalated_at"]) == 1
    deliveries = Delivery.objects.filter(event="pipeline.incident_escalated", user=people["oncall"])
    assert set(deliveries.values_list("channel", flat=True)) == {"in_app", "email"}
    # A redelivered task notifies nobody twice.
    escalation_notify(escalated_at=message.kwargs["escalated_at"])
    assert deliveries.count() == 2


def test_then_policy_continues_after_the_last_level(pipeline_network, people):
    from apps.pipeline.services.incidents import escalation_scan

    backstop = policy_make(
        "critical",
        name="Backstop",
        is_active=False,
        levels=[{"level": 1, "delay_minutes": 30, "user_ids": [people["boss"].pk]}],
    )
    policy_make(
        name="First line",
        then_policy=backstop.pk,
        levels=[{"level": 1, "delay_minutes": 5, "user_ids": [people["oncall"].pk]}],
    )
    incident = incident_make(pipeline_network.north)
    opened = incident.opened_at

    escalation_scan(now=opened + minutes(5))
    incident.refresh_from_db()
    assert incident.escalation_policy == backstop
    assert incident.next_escalation_at == opened + minutes(35)
    escalation_scan(now=opened + minutes(35))

    assert _steps(incident) == [("First line", 1), ("Backstop", 1)]
    incident.refresh_from_db()
    assert incident.next_escalation_at is None


def test_incident_without_active_policy_never_escalates(pipeline_network):
    from apps.pipeline.services.incidents import escalation_scan

    incident = incident_make(pipeline_network.north, severity="low")

    assert incident.next_escalation_at is None
    assert escalation_scan(now=incident.opened_at + minutes(10_000)) == 0


def _scan_queries(pipeline_network, people, count):
    from apps.pipeline.models import Incident
    from apps.pipeline.services.incidents import escalation_scan

    incidents = [incident_make(pipeline_network.north) for _ in range(count)]
    now = max(incident.opened_at for incident in incidents) + minutes(5)
    with CaptureQueriesContext(connection) as queries:
        assert escalation_scan(now=now) == count
    Incident.objects.filter(pk__in=[i.pk for i in incidents]).update(next_escalation_at=None)
    return len(queries.captured_queries)


def test_scan_query_count_does_not_grow_with_the_incidents(pipeline_network, people):
    policy_make(
        levels=[
            {
                "level": 1,
                "delay_minutes": 5,
                "user_ids": [people["oncall"].pk],
                "role_slugs": ["manager"],
            },
            {"level": 2, "delay_minutes": 5, "user_ids": [people["boss"].pk]},
        ]
    )

    few = _scan_queries(pipeline_network, people, 5)
    many = _scan_queries(pipeline_network, people, 50)

    assert few == many
    assert few <= 8


# --- the policy API ------------------------------------------------------------------------


def _policy_rows():
    from apps.pipeline.models import EscalationLevel, EscalationPolicy

    return (
        sorted(
            EscalationPolicy.objects.values_list("name", "severity", "is_active", "then_policy_id")
        ),
        sorted(EscalationLevel.objects.values_list("policy__name", "level", "delay_minutes")),
    )


def test_policy_api_creates_and_reads_nested_levels(api_client, people):
    client = api_client("beta", "admin")
    body = {
        "name": "Critical",
        "severity": "critical",
        "levels": [
            {"level": 1, "delay_minutes": 5, "user_ids": [str(people["oncall"].pk)]},
            {"level": 2, "delay_minutes": 15, "role_slugs": ["manager"]},
        ],
    }

    response = client.post(POLICIES, body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["is_active"] is True
    assert created["levels"] == [
        {"level": 1, "delay_minutes": 5, "user_ids": [str(people["oncall"].pk)], "role_slugs": []},
        {"level": 2, "delay_minutes": 15, "user_ids": [], "role_slugs": ["manager"]},
    ]
    patched = client.patch(
        f"{POLICIES}{created['id']}/",
        {"levels": [{"level": 1, "delay_minutes": 1, "role_slugs": ["manager"]}]},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    assert [level["delay_minutes"] for level in patched.json()["levels"]] == [1]
    assert client.delete(f"{POLICIES}{created['id']}/").status_code == 204


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([{"level": 1, "delay_minutes": -5, "user_ids": []}], "levels.0.delay_minutes"),
        (
            [
                {"level": 1, "delay_minutes": 5, "role_slugs": ["manager"]},
                {"level": 3, "delay_minutes": 5, "role_slugs": ["manager"]},
            ],
            "levels.1.level",
        ),
        ([{"level": 2, "delay_minutes": 5, "role_slugs": ["manager"]}], "levels.0.level"),
        ([], "levels"),
        ([{"level": 1, "delay_minutes": 5, "role_slugs": ["no-such-role"]}], "levels.0.role_slugs"),
        (
            [
                {
                    "level": 1,
                    "delay_minutes": 5,
                    "user_ids": ["00000000-0000-4000-8000-0000000000ff"],
                }
            ],
            "levels.0.user_ids",
        ),
        ([{"level": 1, "delay_minutes": 5}], "levels.0.user_ids"),
        ([{"level": 1, "delay_minutes": "5", "role_slugs": ["manager"]}], "levels.0.delay_minutes"),
    ],
    ids=[
        "negative-delay",
        "gap",
        "not-from-1",
        "empty",
        "unknown-role",
        "unknown-user",
        "nobody",
        "string-delay",
    ],
)
def test_bad_levels_are_400_and_store_nothing(api_client, in_tenant_b, levels, field):
    before = _policy_rows()

    response = api_client("beta", "admin").post(
        POLICIES, {"name": "Bad", "severity": "high", "levels": levels}, format="json"
    )

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "validation_error"
    fields = error_of(response)["fields"]
    assert any(name.startswith(field) for name in fields), fields
    assert _policy_rows() == before


def test_loops_are_400_and_store_nothing(api_client, people):
    level = [{"level": 1, "delay_minutes": 5, "user_ids": [people["oncall"].pk]}]
    first = policy_make("low", name="A", levels=level)
    second = policy_make("medium", name="B", then_policy=first.pk, levels=level)
    third = policy_make("high", name="C", then_policy=second.pk, levels=level)
    client = api_client("beta", "admin")
    before = _policy_rows()

    to_itself = client.patch(
        f"{POLICIES}{first.pk}/", {"then_policy": str(first.pk)}, format="json"
    )
    round_trip = client.patch(
        f"{POLICIES}{first.pk}/",
        {
            "then_policy": str(third.pk),
            "name": "Renamed",
            "levels": [{"level": 1, "delay_minutes": 1, "role_slugs": ["manager"]}],
        },
        format="json",
    )

    for response in (to_itself, round_trip):
        assert response.status_code == 400, response.content
        assert error_of(response)["code"] == "pipeline.escalation_loop"
    assert _policy_rows() == before


def test_second_active_policy_of_a_severity_is_409(api_client, people):
    level = [{"level": 1, "delay_minutes": 5, "user_ids": [str(people["oncall"].pk)]}]
    policy_make("high", name="Existing", levels=level)
    before = _policy_rows()

    response = api_client("beta", "admin").post(
        POLICIES, {"name": "Another", "severity": "high", "levels": level}, format="json"
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.policy_severity_taken"
    assert _policy_rows() == before


def test_staff_cannot_write_policies(api_client, in_tenant_b):
    response = api_client("beta", "staff").post(
        POLICIES,
        {
            "name": "x",
            "severity": "low",
            "levels": [{"level": 1, "delay_minutes": 1, "role_slugs": ["manager"]}],
        },
        format="json",
    )

    assert response.status_code == 403
