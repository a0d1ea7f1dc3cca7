"""The pipeline pages in a real browser.

The incident board: a handler granted one zone opens
/pipeline/incidents/ and acknowledges an incident there; then incidents change on the
server through the incidents services and the page follows over the websocket without a
reload: a changed row is updated in place, a new incident appears at the top, a closed
one goes, and an incident of a zone the user cannot see never shows.

The reports page: a report started from its form is listed as queued, and once the
worker has made it the list shows its download link, without a reload.

The live server is another process, so the rows it must see are committed here and
removed at the end (``db`` below is committed access, as in tests/realtime).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.core.tenancy import in_tenant
from tests.personas import TENANT_B

PASSWORD = "x-secret-pass-9"  # apps.pipeline.tests.factories.user_make's


@pytest.fixture(autouse=True)
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def board_setup(db) -> Iterator[dict[str, Any]]:
    """Zones NORTH and SOUTH, a manager (views and handles incidents) granted NORTH only,
    one open incident in NORTH opened an hour ago."""
    from apps.accounts.models import User
    from apps.jobs.models import OutboxMessage
    from apps.pipeline.models import Incident, Zone
    from apps.pipeline.tests import factories as f
    from apps.pipeline.tests.helpers_board import incident_make

    with in_tenant(TENANT_B):
        started = timezone.now()
        north = f.zone_make(f.unique_code("BR-N"), name="Browser north")
        south = f.zone_make(f.unique_code("BR-S"), name="Browser south")
        user = f.user_make(roles=["manager"], zones=[north])
        first = incident_make(
            zone=north, title="Leak on the quay", opened_at=timezone.now() - timedelta(hours=1)
        )
    try:
        yield {"north": north, "south": south, "user": user, "first": first}
    finally:
        with in_tenant(TENANT_B):
            Incident.objects.filter(zone__in=[north, south]).delete()
            # Dispatch offers made while reporting, if the tenant has teams.
            OutboxMessage.objects.filter(created_at__gte=started).delete()
            User.objects.filter(pk=user.pk).delete()
            Zone.objects.filter(pk__in=[north.pk, south.pk]).delete()


def _on_server_side(work: Any) -> Any:
    """Run ``work()`` in tenant B in a thread of its own: Playwright's sync API keeps an
    event loop in this thread, where publish_event's async_to_sync refuses to run. The
    thread's database connection is closed when it is done."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run() -> Any:
        try:
            with in_tenant(TENANT_B):
                return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def _handler() -> Any:
    """Tenant B's admin, who handles and reports incidents in every zone."""
    from apps.accounts.selectors import actor_for_user
    from tests.fixtures import persona

    return actor_for_user(user=persona(TENANT_B, "admin"))


def _report(zone: Any, title: str) -> Any:
    from apps.pipeline.services.incidents import incident_report
    from apps.pipeline.tests.factories import BASE_LATITUDE, BASE_LONGITUDE

    return incident_report(
        actor=_handler(),
        data={
            "title": title,
            "severity": "critical",
            "zone": zone.pk,
            "latitude": BASE_LATITUDE,
            "longitude": BASE_LONGITUDE,
        },
    )


def _resolve_and_close(incident: Any) -> None:
    from apps.pipeline.models import Incident
    from apps.pipeline.services.incidents import incident_close, incident_resolve

    actor = _handler()
    incident_resolve(
        actor=actor, incident=Incident.objects.get(pk=incident.pk), resolution="Valve replaced."
    )
    incident_close(actor=actor, incident=Incident.objects.get(pk=incident.pk))


def _row(page: Any, incident: Any) -> Any:
    return page.locator(f"#incident-{incident.pk}")


def test_board_follows_incident_changes_without_reload(browser, asgi_server, board_setup):
    base = f"http://beta.localhost:{asgi_server.port}"
    first, north, south = board_setup["first"], board_setup["north"], board_setup["south"]
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{base}/pipeline/incidents/")
        page.fill("#id_username", board_setup["user"].username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/pipeline/incidents/")
        page.wait_for_selector("#board-connection[data-state=open]")
        # Marks the document: a reload would lose it.
        page.evaluate("window.boardMarker = 'still here'")
        assert _row(page, first).get_attribute("data-status") == "open"

        # Acknowledged on the board: the service's event brings the new row back.
        _row(page, first).locator("button", has_text="Acknowledge").click()
        page.wait_for_selector(f"#incident-{first.pk}[data-status=acknowledged]")
        assert "acknowledged" in _row(page, first).locator("[data-field=status]").inner_text()
        assert _row(page, first).locator("button").count() == 0

        hidden = _on_server_side(lambda: _report(south, "Not yours"))
        added = _on_server_side(lambda: _report(north, "Hydrant knocked over"))
        page.wait_for_selector(f"#incident-{added.pk}")
        # The newest first: the new incident is above the hour-old one.
        ids = page.eval_on_selector_all("#incident-rows tr", "rows => rows.map(r => r.dataset.id)")
        assert ids == [str(added.pk), str(first.pk)]
        assert "critical" in _row(page, added).locator("[data-field=severity]").inner_text()
        assert _row(page, added).locator("button", has_text="Acknowledge").count() == 1
        # SOUTH's incident was reported before NORTH's; its event went to SOUTH's
        # audience, which the user is not in, and nothing of it reached the page.
        assert _row(page, hidden).count() == 0
        assert "Not yours" not in page.locator("#incident-board").inner_text()

        _on_server_side(lambda: _resolve_and_close(first))
        page.wait_for_selector(f"#incident-{first.pk}", state="detached")
        assert page.evaluate("window.boardMarker") == "still here"
        assert page.locator("#incident-rows tr").count() == 1
    finally:
        context.close()


@pytest.fixture
def reports_setup(db, settings, tmp_path) -> Iterator[dict[str, Any]]:
    """A zone with one day's water balance and a staff user granted it. Report files of
    this process land in a temporary MEDIA_ROOT."""
    from datetime import date

    from apps.accounts.models import User
    from apps.jobs.models import JobRun, OutboxMessage
    from apps.pipeline.models import Zone, ZoneWaterBalance
    from apps.pipeline.tests import factories as f
    from apps.reports.models import ReportRun

    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES}
    with in_tenant(TENANT_B):
        started = timezone.now()
        zone = f.zone_make(f.unique_code("BR-R"), name="Browser reports")
        ZoneWaterBalance.objects.create(
            zone=zone, day=date(2026, 3, 1), inflow_m3=100.0, loss_m3=10.0, loss_pct=10.0
        )
        user = f.user_make(roles=["staff"], zones=[zone])
    try:
        yield {"zone": zone, "user": user}
    finally:
        with in_tenant(TENANT_B):
            ReportRun.objects.filter(created_by=user).delete()
            JobRun.objects.filter(requested_by=user).delete()
            OutboxMessage.objects.filter(created_at__gte=started).delete()
            ZoneWaterBalance.objects.filter(zone=zone).delete()
            User.objects.filter(pk=user.pk).delete()
            Zone.objects.filter(pk=zone.pk).delete()


def _generate_reports_of(user: Any) -> None:
    """What the worker does with the user's queued report runs."""
    from apps.reports import tasks
    from apps.reports.models import ReportRun

    runs = list(ReportRun.objects.filter(created_by=user).values_list("pk", "job_id"))
    for run_id, job_id in runs:
        tasks.report_generate(schema_name=TENANT_B, job_id=str(job_id), run_id=str(run_id))


def test_reports_page_follows_a_run_to_its_download_link(browser, asgi_server, reports_setup):
    base = f"http://beta.localhost:{asgi_server.port}"
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{base}/pipeline/reports/")
        page.fill("#id_username", reports_setup["user"].username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/pipeline/reports/")
        form = page.locator("#form-pipeline-water-loss")
        form.locator("[name=date_from]").fill("2026-03-01")
        form.locator("[name=date_to]").fill("2026-03-01")
        form.locator("[name=zone]").select_option(str(reports_setup["zone"].pk))
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#report-run-table tr[data-status=queued]")
        page.wait_for_selector("#reports-connection[data-state=open]")
        page.evaluate("window.reportsMarker = 'still here'")

        _on_server_side(lambda: _generate_reports_of(reports_setup["user"]))

        page.wait_for_selector("#report-run-table tr[data-status=succeeded] a.download")
        link = page.locator("#report-run-table a.download").get_attribute("href")
        assert "/api/v1/reports/runs/" in link
        assert "token=" in link
        assert page.evaluate("window.reportsMarker") == "still here"
    finally:
        context.close()
