"""/ws/events/ on a live uvicorn: tenant routing, authentication, isolated fan-out."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fixtures import access_token_for
from tests.personas import HOSTS, PASSWORD, PERSONAS, TENANT_A, TENANT_B

ALPHA_HOST = HOSTS[TENANT_A]
BETA_HOST = HOSTS[TENANT_B]
ADMIN_ID = PERSONAS["admin"][0]


def _publish(schema_name: str, **kwargs: Any) -> None:
    from apps.core.tenancy import in_tenant
    from apps.realtime.publish import publish_event

    # Outside any transaction on_commit runs at once, so the event is sent on return.
    with in_tenant(schema_name):
        publish_event(**kwargs)


def test_event_for_alpha_admin_reaches_alpha_client_not_beta_admin_with_same_id(sockets):
    alpha_admin = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "admin"))
    beta_admin = sockets.connect(BETA_HOST, token=access_token_for(TENANT_B, "admin"))

    _publish(TENANT_A, event_type="note.created", payload={"n": 1}, user_ids=[ADMIN_ID])

    event = sockets.receive(alpha_admin)
    assert event["type"] == "note.created"
    assert event["tenant"] == TENANT_A
    assert event["payload"] == {"n": 1}
    assert sockets.receive(beta_admin, timeout=1.0) is None


def test_role_and_tenant_events_reach_members_of_that_tenant_only(sockets):
    alpha_admin = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "admin"))
    alpha_staff = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "staff"))
    beta_staff = sockets.connect(BETA_HOST, token=access_token_for(TENANT_B, "staff"))

    _publish(TENANT_A, event_type="shift.changed", payload={}, roles=["staff"])
    _publish(TENANT_A, event_type="notice.posted", payload={}, to_tenant=True)

    assert sockets.receive(alpha_staff)["type"] == "shift.changed"
    assert sockets.receive(alpha_staff)["type"] == "notice.posted"
    assert sockets.receive(alpha_admin)["type"] == "notice.posted"
    assert sockets.receive(beta_staff, timeout=1.0) is None
    assert sockets.receive(alpha_admin, timeout=0.2) is None


def test_idle_connection_outlives_the_channel_layers_blocking_read(sockets):
    # The channel layer waits for messages with BZPOPMIN (5 s); redis-py 8's default
    # 5 s socket timeout used to abort that read and take every idle consumer down.
    connection = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "admin"))
    time.sleep(6.5)

    _publish(TENANT_A, event_type="note.created", payload={}, user_ids=[ADMIN_ID])

    assert sockets.receive(connection)["type"] == "note.created"


def test_subprotocol_is_echoed_and_ping_is_answered(sockets):
    connection = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "staff"))

    sockets.send(connection, {"type": "ping"})

    assert connection.subprotocol == "tenantry.jwt"
    assert sockets.receive(connection) == {"type": "pong"}


def test_token_in_query_string_is_accepted(sockets):
    connection = sockets.connect(
        ALPHA_HOST, token=access_token_for(TENANT_A, "admin"), carrier="query"
    )

    sockets.send(connection, {"type": "ping"})

    assert connection.subprotocol is None
    assert sockets.receive(connection) == {"type": "pong"}


def test_unknown_messages_get_an_error_frame(sockets):
    connection = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "admin"))

    sockets.run(connection.send("not json"))
    sockets.send(connection, {"type": "subscribe", "group": "t.beta.all"})

    assert sockets.receive(connection) == {"type": "error", "code": "realtime.invalid_json"}
    assert sockets.receive(connection) == {"type": "error", "code": "realtime.unknown_message"}


def test_connection_is_closed_when_its_token_expires(sockets):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    from apps.core.tenancy import in_tenant
    from tests.fixtures import persona

    with in_tenant(TENANT_A):
        token = AccessToken.for_user(persona(TENANT_A, "admin"))
    token["tenant"] = TENANT_A
    token.set_exp(lifetime=timedelta(seconds=2))
    connection = sockets.connect(ALPHA_HOST, token=str(token))

    sockets.send(connection, {"type": "ping"})

    assert sockets.receive(connection) == {"type": "pong"}
    assert sockets.close_code(connection) == 4401


def test_alpha_token_on_beta_host_is_refused(sockets):
    # The beta admin has the same id: only the tenant claim tells the tokens apart.
    assert sockets.refused_with(BETA_HOST, token=access_token_for(TENANT_A, "admin")) == 4401


@pytest.mark.parametrize(
    ("token", "carrier"),
    [(None, "subprotocol"), ("not-a-jwt", "subprotocol"), ("not-a-jwt", "query")],
    ids=["no-token", "garbage-subprotocol", "garbage-query"],
)
def test_missing_or_bad_token_is_refused(sockets, token, carrier):
    assert sockets.refused_with(ALPHA_HOST, token=token, carrier=carrier) == 4401


def test_token_offered_twice_is_refused(sockets):
    token = access_token_for(TENANT_A, "admin")

    assert sockets.refused_with(ALPHA_HOST, token=token, carrier="both") == 4401


@pytest.mark.parametrize(
    ("host", "expected"),
    [("nowhere.localhost", 4404), ("localhost", 4404)],
    ids=["unknown", "operators-host"],
)
def test_host_without_a_servable_tenant_is_refused(sockets, host, expected):
    assert sockets.refused_with(host, token=access_token_for(TENANT_A, "admin")) == expected


def test_handshake_without_origin_is_denied(sockets):
    # AllowedHostsOriginValidator: no Origin header, no websocket (HTTP 403, no upgrade).
    assert sockets.refused_with(ALPHA_HOST, token="x", origin=None) == 403


def test_unknown_path_is_closed_with_4404(sockets):
    token = access_token_for(TENANT_A, "admin")

    assert sockets.refused_with(ALPHA_HOST, token=token, path="/ws/nothing-here/") == 4404


@pytest.fixture
def throwaway_tenant() -> Iterator[str]:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create, tenant_hard_delete, tenant_soft_delete

    schema_name = "rt_suspended"
    tenant_create(
        schema_name=schema_name,
        name="Realtime suspended",
        domain="rt-suspended.localhost",
        admin_username="admin",
        admin_password=PASSWORD,
    )
    try:
        yield schema_name
    finally:
        tenant = Tenant.objects.get(schema_name=schema_name)
        if tenant.status != Tenant.Status.DELETED:
            tenant = tenant_soft_delete(tenant=tenant)
        tenant_hard_delete(tenant=tenant, confirm_schema_name=schema_name)


def test_suspended_tenant_is_refused(sockets, throwaway_tenant):
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_suspend

    token = access_token_for(throwaway_tenant, "admin")
    before = sockets.connect("rt-suspended.localhost", token=token)
    sockets.send(before, {"type": "ping"})
    assert sockets.receive(before) == {"type": "pong"}

    tenant_suspend(tenant=Tenant.objects.get(schema_name=throwaway_tenant))

    assert sockets.refused_with("rt-suspended.localhost", token=token) == 4403


@pytest.fixture
def alpha_session(asgi_server) -> Iterator[str]:
    """The session key of alpha's admin, logged in through the live server's login form."""
    host = f"{ALPHA_HOST}:{asgi_server.port}"
    form = asgi_server.request("GET", "/accounts/login/", host=host)
    csrf_cookie = form.cookies["tenantry_csrftoken"]
    csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)

    login = asgi_server.request(
        "POST",
        "/accounts/login/",
        host=host,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"tenantry_csrftoken={csrf_cookie}",
        },
        body=urlencode(
            {"csrfmiddlewaretoken": csrf_token, "username": "admin", "password": PASSWORD}
        ),
    )
    assert login.status == 302, login.body[:500]
    session_key = login.cookies["tenantry_session"]
    try:
        yield session_key
    finally:
        from django.contrib.sessions.models import Session

        from apps.core.tenancy import in_tenant

        with in_tenant(TENANT_A):
            Session.objects.filter(session_key=session_key).delete()


def test_session_cookie_from_the_login_form_authenticates(sockets, alpha_session):
    connection = sockets.connect(ALPHA_HOST, cookies={"tenantry_session": alpha_session})

    _publish(TENANT_A, event_type="note.created", payload={}, user_ids=[ADMIN_ID])

    assert connection.subprotocol is None
    assert sockets.receive(connection)["type"] == "note.created"


@pytest.mark.parametrize(
    ("host", "origin"),
    [(ALPHA_HOST, "http://beta.localhost"), (BETA_HOST, "same")],
    ids=["cross-origin", "other-tenants-host"],
)
def test_session_cookie_is_refused_cross_origin_and_on_another_tenant(
    sockets, alpha_session, asgi_server, host, origin
):
    if origin != "same":
        origin = f"{origin}:{asgi_server.port}"

    code = sockets.refused_with(host, cookies={"tenantry_session": alpha_session}, origin=origin)

    assert code == 4401


@pytest.fixture
def alpha_job() -> Iterator[str]:
    from apps.core.tenancy import in_tenant
    from apps.jobs.models import JobRun

    with in_tenant(TENANT_A):
        job = JobRun.objects.create(kind="realtime.test", requested_by_id=ADMIN_ID)
    try:
        yield str(job.pk)
    finally:
        with in_tenant(TENANT_A):
            JobRun.objects.filter(pk=job.pk).delete()


def test_job_progress_reaches_the_requester_only(sockets, alpha_job):
    from apps.core.tenancy import in_tenant
    from apps.jobs.services import job_running

    requester = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "admin"))
    colleague = sockets.connect(ALPHA_HOST, token=access_token_for(TENANT_A, "staff"))
    same_id_elsewhere = sockets.connect(BETA_HOST, token=access_token_for(TENANT_B, "admin"))

    with in_tenant(TENANT_A), job_running(job_id=alpha_job) as context:
        context.progress(40)
        context.progress(80)

    seen = [sockets.receive(requester) for _ in range(4)]
    assert [(e["type"], e["payload"]["status"], e["payload"]["progress"]) for e in seen] == [
        ("job.updated", "running", 0),
        ("job.updated", "running", 40),
        ("job.updated", "running", 80),
        ("job.updated", "succeeded", 100),
    ]
    assert {e["payload"]["id"] for e in seen} == {alpha_job}
    assert sockets.receive(colleague, timeout=1.0) is None
    assert sockets.receive(same_id_elsewhere, timeout=0.2) is None
