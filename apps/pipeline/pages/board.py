"""Pipeline staff pages: the landing page, the live incident board and an incident's page.

The board is rendered on the server; static/pipeline/board.js then keeps it current from
the ``pipeline.incident.updated`` events of the websocket (/ws/events/, signed in with the
session cookie). Only incidents of the zones the user may see are listed, and a hidden
incident's page is a 404, as in the API. Handlers (``approve_incident_handling``) get an
Acknowledge button on open incidents; it calls the incidents service, whose event then
updates every board showing the incident, this one included.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError, NotFoundError
from apps.core.types import Actor
from apps.pipeline.selectors import board as selectors
from apps.pipeline.services.incidents import incident_acknowledge


def _viewer(request: HttpRequest) -> Actor:
    actor = actor_for_user(user=request.user)
    if not actor.has_perm(selectors.BOARD_VIEW_PERMISSION):
        raise PermissionDenied
    return actor


def _displayed(row: dict) -> dict:
    """The payload plus the labels board.js derives the same way for rows it adds."""
    opened = datetime.fromisoformat(row["opened_at"]).astimezone(UTC)
    return {
        **row,
        "status_label": row["status"].replace("_", " "),
        "opened_label": opened.strftime("%Y-%m-%d %H:%M"),
    }


def _rows(actor: Actor) -> list[dict]:
    return [
        _displayed(selectors.board_row(incident))
        for incident in selectors.board_incident_list(actor=actor)
    ]


@login_required
def landing_page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    return render(
        request,
        "pipeline/landing.html",
        {"can_view_incidents": actor.has_perm(selectors.BOARD_VIEW_PERMISSION)},
    )


@login_required
def incident_board_page(request: HttpRequest) -> HttpResponse:
    actor = _viewer(request)
    return render(
        request,
        "pipeline/board.html",
        {
            "rows": _rows(actor),
            "zone_ids": selectors.board_zone_ids(actor=actor),
            "limit": selectors.BOARD_LIMIT,
            "can_handle": actor.has_perm(selectors.HANDLE_PERMISSION),
        },
    )


@login_required
def incident_board_rows(request: HttpRequest) -> HttpResponse:
    """The board's rows alone: the script reloads them after a lost connection, since
    events sent while it was away are not replayed."""
    actor = _viewer(request)
    response = render(
        request,
        "pipeline/_board_rows.html",
        {"rows": _rows(actor), "can_handle": actor.has_perm(selectors.HANDLE_PERMISSION)},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def incident_detail_page(request: HttpRequest, incident_id: str) -> HttpResponse:
    actor = _viewer(request)
    try:
        incident = selectors.board_incident_get(actor=actor, incident_id=incident_id)
    except NotFoundError as error:
        raise Http404 from error
    return render(
        request,
        "pipeline/incident.html",
        {
            "incident": incident,
            "row": selectors.board_row(incident),
            "timeline": selectors.board_incident_timeline(incident=incident),
            "offers": selectors.board_incident_offers(incident=incident),
            "can_handle": actor.has_perm(selectors.HANDLE_PERMISSION),
        },
    )


@require_POST
@login_required
def incident_acknowledge_action(request: HttpRequest, incident_id: str) -> HttpResponse:
    """Acknowledge from the board or the incident page. The board's script posts with
    ``Accept: application/json`` and gets the outcome as JSON (the row itself changes
    through the websocket event); a plain form post is redirected back."""
    actor = _viewer(request)
    try:
        incident = selectors.board_incident_get(actor=actor, incident_id=incident_id)
    except NotFoundError as error:
        raise Http404 from error
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        incident_acknowledge(actor=actor, incident=incident)
    except ApplicationError as error:
        # Not a handler (403) or no longer open (409): the board already shows why.
        if wants_json:
            return JsonResponse(
                {"error": {"code": error.code, "message": str(error.message)}},
                status=error.http_status,
            )
    if wants_json:
        return JsonResponse({"status": "acknowledged"})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("pipeline-incident-board")
    return redirect(target)


urlpatterns = [
    path("", landing_page, name="pipeline-home"),
    path("incidents/", incident_board_page, name="pipeline-incident-board"),
    path("incidents/rows/", incident_board_rows, name="pipeline-incident-board-rows"),
    path("incidents/<uuid:incident_id>/", incident_detail_page, name="pipeline-incident-page"),
    path(
        "incidents/<uuid:incident_id>/acknowledge/",
        incident_acknowledge_action,
        name="pipeline-incident-acknowledge",
    ),
]
