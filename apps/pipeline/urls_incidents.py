"""Pipeline incidents routes (included by apps.pipeline.urls under /api/v1/pipeline/)."""

from django.urls import path

from apps.pipeline.apis import incidents as apis

urlpatterns = [
    path("incidents/", apis.IncidentListCreateApi.as_view(), name="pipeline-incident-list"),
    path(
        "incidents/<uuid:incident_id>/",
        apis.IncidentDetailApi.as_view(),
        name="pipeline-incident-detail",
    ),
    path(
        "incidents/<uuid:incident_id>/timeline/",
        apis.IncidentTimelineApi.as_view(),
        name="pipeline-incident-timeline",
    ),
    path(
        "incidents/<uuid:incident_id>/notes/",
        apis.IncidentNoteCreateApi.as_view(),
        name="pipeline-incident-note-create",
    ),
    path(
        "incidents/<uuid:incident_id>/acknowledge/",
        apis.IncidentAcknowledgeApi.as_view(),
        name="pipeline-incident-acknowledge",
    ),
    path(
        "incidents/<uuid:incident_id>/start/",
        apis.IncidentStartApi.as_view(),
        name="pipeline-incident-start",
    ),
    path(
        "incidents/<uuid:incident_id>/resolve/",
        apis.IncidentResolveApi.as_view(),
        name="pipeline-incident-resolve",
    ),
    path(
        "incidents/<uuid:incident_id>/close/",
        apis.IncidentCloseApi.as_view(),
        name="pipeline-incident-close",
    ),
    path(
        "incidents/<uuid:incident_id>/dispatch/",
        apis.IncidentDispatchApi.as_view(),
        name="pipeline-incident-dispatch",
    ),
    path(
        "dispatch-offers/", apis.DispatchOfferListApi.as_view(), name="pipeline-dispatch-offer-list"
    ),
    path(
        "dispatch-offers/<uuid:offer_id>/accept/",
        apis.DispatchOfferAcceptApi.as_view(),
        name="pipeline-dispatch-offer-accept",
    ),
    path(
        "dispatch-offers/<uuid:offer_id>/decline/",
        apis.DispatchOfferDeclineApi.as_view(),
        name="pipeline-dispatch-offer-decline",
    ),
    path(
        "escalation-policies/",
        apis.EscalationPolicyListCreateApi.as_view(),
        name="pipeline-escalation-policy-list",
    ),
    path(
        "escalation-policies/<uuid:policy_id>/",
        apis.EscalationPolicyDetailApi.as_view(),
        name="pipeline-escalation-policy-detail",
    ),
    path("teams/nearest/", apis.TeamNearestApi.as_view(), name="pipeline-team-nearest"),
]
