"""Pipeline incidents API: incidents and their transitions and timeline, dispatch offers,
escalation policies and the nearest-team query. Incidents follow the zone row scope: an
incident of a zone the caller may not see answers 404."""

from __future__ import annotations

import math

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.selectors import require_perm
from apps.core.api.fields import StrictBooleanField, StrictFloatField, StrictIntegerField
from apps.core.api.filters import StrictBooleanFilter, StrictChoiceFilter, StrictUUIDFilter
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.pipeline.models import DispatchOffer, EscalationPolicy, Incident, IncidentEvent, Severity
from apps.pipeline.selectors import incidents as selectors
from apps.pipeline.selectors.network import zone_ids_with_descendants
from apps.pipeline.services import incidents as services

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


class FiniteFloatField(serializers.FloatField):
    """A float that is a number: NaN and infinities are refused (they pass range checks)."""

    def to_internal_value(self, data: object) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class RefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


# --- incidents -----------------------------------------------------------------------------


class IncidentOutputSerializer(serializers.ModelSerializer):
    zone = RefSerializer()
    asset = RefSerializer(allow_null=True)
    assigned_team = RefSerializer(allow_null=True)
    reported_by = serializers.UUIDField(source="reported_by_id", allow_null=True)
    acknowledged_by = serializers.UUIDField(source="acknowledged_by_id", allow_null=True)
    escalation_policy = serializers.UUIDField(source="escalation_policy_id", allow_null=True)

    class Meta:
        model = Incident
        fields = (
            "id",
            "number",
            "title",
            "description",
            "severity",
            "status",
            "source",
            "zone",
            "asset",
            "latitude",
            "longitude",
            "required_skill",
            "reported_by",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "assigned_team",
            "resolved_at",
            "resolution",
            "closed_at",
            "escalation_policy",
            "escalation_level",
            "next_escalation_at",
            "created_at",
            "updated_at",
        )


class IncidentReportInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Severity.choices)
    zone = serializers.UUIDField()
    asset = serializers.UUIDField(
        required=False, allow_null=True, help_text="Places the incident at the asset."
    )
    latitude = StrictFloatField(
        min_value=-90, max_value=90, required=False, allow_null=True, help_text="Without asset."
    )
    longitude = StrictFloatField(
        min_value=-180, max_value=180, required=False, allow_null=True, help_text="Without asset."
    )
    required_skill = serializers.CharField(max_length=32, required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("asset") is None:
            missing = {
                name: ["Required without an asset."]
                for name in ("latitude", "longitude")
                if attrs.get(name) is None
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class IncidentFilter(filters.FilterSet):
    status = StrictChoiceFilter(choices=Incident.Status.choices)
    severity = StrictChoiceFilter(choices=Severity.choices)
    zone = StrictUUIDFilter(method="filter_zone", help_text="That zone and the zones under it.")
    open_only = StrictBooleanFilter(method="filter_open_only", help_text="Not resolved or closed.")

    class Meta:
        model = Incident
        fields = ("status", "severity", "zone", "open_only")

    def filter_zone(self, queryset: QuerySet[Incident], name: str, value: object):
        return queryset.filter(zone_id__in=list(zone_ids_with_descendants([value])))

    def filter_open_only(
        self, queryset: QuerySet[Incident], name: str, value: bool
    ) -> QuerySet[Incident]:
        if value:
            return queryset.filter(status__in=selectors.UNRESOLVED)
        return queryset.exclude(status__in=selectors.UNRESOLVED)


class IncidentListCreateApi(TenantApi):
    filterset_class = IncidentFilter
    ordering_fields = ("created_at", "opened_at")

    def get_queryset(self) -> QuerySet[Incident]:
        return Incident.objects.none()

    @extend_schema(responses={200: IncidentOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        """Incidents of the zones the caller may see."""
        return self.list_response(
            selectors.incident_list(actor=self.actor), IncidentOutputSerializer
        )

    @extend_schema(
        request=IncidentReportInputSerializer,
        responses={201: IncidentOutputSerializer, 400: ERROR, 403: ERROR},
    )
    def post(self, request: Request) -> Response:
        """Report an incident by hand (``pipeline.report_incident``): in a zone the caller
        may see, at an asset or at latitude/longitude. It opens, starts escalation and is
        offered to the nearest available team."""
        payload = IncidentReportInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident = services.incident_report(actor=self.actor, data=payload.validated_data)
        incident = selectors.incident_get(actor=self.actor, incident_id=incident.pk)
        return Response(IncidentOutputSerializer(incident).data, status=status.HTTP_201_CREATED)


class IncidentDetailApi(TenantApi):
    @extend_schema(responses={200: IncidentOutputSerializer, 404: ERROR})
    def get(self, request: Request, incident_id: str) -> Response:
        incident = selectors.incident_get(actor=self.actor, incident_id=incident_id)
        return Response(IncidentOutputSerializer(incident).data)


class IncidentEventOutputSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", allow_null=True)

    class Meta:
        model = IncidentEvent
        fields = ("id", "kind", "at", "actor", "message", "data")


class IncidentTimelineApi(TenantApi):
    pagination_class = None
    queryset = IncidentEvent.objects.none()

    @extend_schema(responses={200: IncidentEventOutputSerializer(many=True), 404: ERROR})
    def get(self, request: Request, incident_id: str) -> Response:
        """Every event of the incident, oldest first."""
        incident = selectors.incident_get(actor=self.actor, incident_id=incident_id)
        events = selectors.incident_timeline(incident=incident)
        return Response(IncidentEventOutputSerializer(events, many=True).data)


class IncidentNoteInputSerializer(StrictSerializer):
    message = serializers.CharField(max_length=300)


class IncidentNoteCreateApi(TenantApi):
    queryset = IncidentEvent.objects.none()

    @extend_schema(
        request=IncidentNoteInputSerializer,
        responses={201: IncidentEventOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, incident_id: str) -> Response:
        """A note on the timeline (a handler or the assigned team)."""
        incident = selectors.incident_get(actor=self.actor, incident_id=incident_id)
        payload = IncidentNoteInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.incident_note(
            actor=self.actor, incident=incident, message=payload.validated_data["message"]
        )
        return Response(IncidentEventOutputSerializer(event).data, status=status.HTTP_201_CREATED)


def _transition_view(name: str, doc: str, service, input_serializer=None) -> type[TenantApi]:
    responses = {200: IncidentOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}

    class View(TenantApi):
        queryset = Incident.objects.none()

        @extend_schema(request=input_serializer, responses=responses, description=doc)
        def post(self, request: Request, incident_id: str) -> Response:
            incident = selectors.incident_get(actor=self.actor, incident_id=incident_id)
            kwargs = {}
            if input_serializer is not None:
                payload = input_serializer(data=request.data)
                payload.is_valid(raise_exception=True)
                kwargs = dict(payload.validated_data)
            service(actor=self.actor, incident=incident, **kwargs)
            incident = selectors.incident_get(actor=self.actor, incident_id=incident_id)
            return Response(IncidentOutputSerializer(incident).data)

    View.__name__ = View.__qualname__ = name
    return View


class IncidentResolveInputSerializer(StrictSerializer):
    resolution = serializers.CharField(max_length=5000, help_text="How it was resolved.")


IncidentAcknowledgeApi = _transition_view(
    "IncidentAcknowledgeApi",
    "open -> acknowledged (``pipeline.approve_incident_handling``); escalation stops.",
    services.incident_acknowledge,
)
IncidentStartApi = _transition_view(
    "IncidentStartApi",
    "acknowledged or assigned -> in_progress (a handler or the assigned team).",
    services.incident_start,
)
IncidentResolveApi = _transition_view(
    "IncidentResolveApi",
    "acknowledged, assigned or in_progress -> resolved; ``resolution`` is required.",
    services.incident_resolve,
    IncidentResolveInputSerializer,
)
IncidentCloseApi = _transition_view(
    "IncidentCloseApi",
    "resolved -> closed; anything else is a 409 ``pipeline.invalid_transition``.",
    services.incident_close,
)


class DispatchOfferOutputSerializer(serializers.ModelSerializer):
    incident = serializers.UUIDField(source="incident_id")
    incident_number = serializers.CharField(source="incident.number")
    team = RefSerializer()
    responded_by = serializers.UUIDField(source="responded_by_id", allow_null=True)

    class Meta:
        model = DispatchOffer
        fields = (
            "id",
            "incident",
            "incident_number",
            "team",
            "status",
            "distance_km",
            "offered_at",
            "respond_by",
            "responded_at",
            "responded_by",
        )


class IncidentDispatchInputSerializer(StrictSerializer):
    respond_within_minutes = StrictIntegerField(
        min_value=1, max_value=1440, required=False, help_text="Defaults to 10."
    )


class IncidentDispatchApi(TenantApi):
    queryset = Incident.objects.none()

    @extend_schema(
        request=IncidentDispatchInputSerializer,
        responses={
            200: DispatchOfferOutputSerializer(many=True),
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def post(self, request: Request, incident_id: str) -> Response:
        """Re-dispatch an open or acknowledged incident: a live offer is withdrawn and the
        next nearest team not yet offered gets one. Answers with the incident's offers
        (the last one new; none new when no team is left)."""
        incident = selectors.incident_get(actor=self.actor, incident_id=incident_id)
        payload = IncidentDispatchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.incident_dispatch(
            actor=self.actor,
            incident=incident,
            minutes=payload.validated_data.get("respond_within_minutes"),
        )
        offers = selectors.incident_offers(incident=incident).select_related("incident")
        return Response(DispatchOfferOutputSerializer(offers, many=True).data)


# --- offers --------------------------------------------------------------------------------


class DispatchOfferFilter(filters.FilterSet):
    status = StrictChoiceFilter(choices=DispatchOffer.Status.choices)
    incident = StrictUUIDFilter(field_name="incident_id")
    mine = StrictBooleanFilter(method="filter_mine", help_text="Only offers to my teams.")

    class Meta:
        model = DispatchOffer
        fields = ("status", "incident", "mine")

    def filter_mine(
        self, queryset: QuerySet[DispatchOffer], name: str, value: bool
    ) -> QuerySet[DispatchOffer]:
        own = selectors.team_list_for_user(user=self.request.user)
        return queryset.filter(team_id__in=own) if value else queryset.exclude(team_id__in=own)


class DispatchOfferListApi(TenantApi):
    filterset_class = DispatchOfferFilter
    ordering_fields = ("created_at", "offered_at")

    def get_queryset(self) -> QuerySet[DispatchOffer]:
        return DispatchOffer.objects.none()

    @extend_schema(responses={200: DispatchOfferOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        """Offers of incidents the caller may see, and offers to the caller's teams."""
        return self.list_response(
            selectors.offer_list(actor=self.actor), DispatchOfferOutputSerializer
        )


class DispatchOfferDeclineInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class DispatchOfferAcceptApi(TenantApi):
    queryset = DispatchOffer.objects.none()

    @extend_schema(
        request=None,
        responses={200: DispatchOfferOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, offer_id: str) -> Response:
        """The team takes the incident (a member of the team, or
        ``pipeline.approve_dispatch_response``); an answered or expired offer is a 409
        ``pipeline.offer_not_open``."""
        offer = selectors.offer_get(actor=self.actor, offer_id=offer_id)
        offer = services.offer_accept(actor=self.actor, offer=offer)
        return Response(DispatchOfferOutputSerializer(offer).data)


class DispatchOfferDeclineApi(TenantApi):
    queryset = DispatchOffer.objects.none()

    @extend_schema(
        request=DispatchOfferDeclineInputSerializer,
        responses={
            200: DispatchOfferOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def post(self, request: Request, offer_id: str) -> Response:
        """The team passes; the next nearest team is offered the incident."""
        offer = selectors.offer_get(actor=self.actor, offer_id=offer_id)
        payload = DispatchOfferDeclineInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        offer = services.offer_decline(
            actor=self.actor, offer=offer, reason=payload.validated_data["reason"]
        )
        return Response(DispatchOfferOutputSerializer(offer).data)


# --- escalation policies -------------------------------------------------------------------


class EscalationLevelSerializer(StrictSerializer):
    level = StrictIntegerField(min_value=1, max_value=100)
    delay_minutes = StrictIntegerField(
        min_value=0,
        max_value=525_600,
        help_text="After the previous level (after opening, for level 1).",
    )
    user_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=200
    )
    role_slugs = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, default=list, max_length=50
    )


class EscalationPolicyOutputSerializer(serializers.ModelSerializer):
    then_policy = serializers.UUIDField(source="then_policy_id", allow_null=True)
    levels = serializers.SerializerMethodField()

    class Meta:
        model = EscalationPolicy
        fields = (
            "id",
            "name",
            "severity",
            "is_active",
            "then_policy",
            "levels",
            "created_at",
            "updated_at",
        )

    @extend_schema_field(EscalationLevelSerializer(many=True))
    def get_levels(self, policy: EscalationPolicy) -> list[dict]:
        return [
            {
                "level": level.level,
                "delay_minutes": level.delay_minutes,
                "user_ids": sorted(str(user.pk) for user in level.users.all()),
                "role_slugs": sorted(role.slug for role in level.roles.all()),
            }
            for level in policy.levels.all()
        ]


class EscalationPolicyInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    severity = serializers.ChoiceField(choices=Severity.choices)
    is_active = StrictBooleanField(required=False, default=True)
    then_policy = serializers.UUIDField(
        required=False, allow_null=True, help_text="Continue with this policy's levels."
    )
    levels = EscalationLevelSerializer(many=True, allow_empty=False, max_length=100)


class EscalationPolicyListCreateApi(TenantApi):
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[EscalationPolicy]:
        return EscalationPolicy.objects.none()

    @extend_schema(responses={200: EscalationPolicyOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.escalation_policy_list(actor=self.actor), EscalationPolicyOutputSerializer
        )

    @extend_schema(
        request=EscalationPolicyInputSerializer,
        responses={201: EscalationPolicyOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """Levels 1..n in order with delays of 0 or more; a ``then_policy`` chain that
        comes back is a 400 ``pipeline.escalation_loop``; a second active policy of a
        severity a 409 ``pipeline.policy_severity_taken``. Nothing is stored on error."""
        payload = EscalationPolicyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        policy = services.escalation_policy_create(actor=self.actor, data=payload.validated_data)
        policy = selectors.escalation_policy_get(actor=self.actor, policy_id=policy.pk)
        return Response(
            EscalationPolicyOutputSerializer(policy).data, status=status.HTTP_201_CREATED
        )


class EscalationPolicyDetailApi(TenantApi):
    @extend_schema(responses={200: EscalationPolicyOutputSerializer, 404: ERROR})
    def get(self, request: Request, policy_id: str) -> Response:
        policy = selectors.escalation_policy_get(actor=self.actor, policy_id=policy_id)
        return Response(EscalationPolicyOutputSerializer(policy).data)

    @extend_schema(
        request=EscalationPolicyInputSerializer(partial=True),
        responses={
            200: EscalationPolicyOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, policy_id: str) -> Response:
        """Fields sent change; ``levels``, when sent, replace all levels."""
        policy = selectors.escalation_policy_get(actor=self.actor, policy_id=policy_id)
        payload = EscalationPolicyInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        services.escalation_policy_update(
            actor=self.actor, policy=policy, data=payload.validated_data
        )
        policy = selectors.escalation_policy_get(actor=self.actor, policy_id=policy_id)
        return Response(EscalationPolicyOutputSerializer(policy).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, policy_id: str) -> Response:
        policy = selectors.escalation_policy_get(actor=self.actor, policy_id=policy_id)
        services.escalation_policy_delete(actor=self.actor, policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- nearest teams -------------------------------------------------------------------------


class TeamNearestQuerySerializer(StrictSerializer):
    latitude = FiniteFloatField(min_value=-90, max_value=90)
    longitude = FiniteFloatField(min_value=-180, max_value=180)
    skill = serializers.CharField(max_length=32, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=50, required=False, default=5)


class TeamNearestOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    skills = serializers.ListField(child=serializers.CharField())
    distance_km = serializers.FloatField()
    latitude = serializers.SerializerMethodField()
    longitude = serializers.SerializerMethodField()

    def get_latitude(self, team) -> float:
        return team.last_latitude if team.last_latitude is not None else team.base_latitude

    def get_longitude(self, team) -> float:
        return team.last_longitude if team.last_longitude is not None else team.base_longitude


class TeamNearestApi(TenantApi):
    pagination_class = None
    queryset = Incident.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("latitude", float, required=True),
            OpenApiParameter("longitude", float, required=True),
            OpenApiParameter("skill", str),
            OpenApiParameter("limit", int, description="1 to 50; 5 by default."),
        ],
        responses={200: TeamNearestOutputSerializer(many=True), 400: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        """Available teams nearest to a point (with ``skill`` when given), nearest first,
        as dispatch would rank them."""
        require_perm(self.actor, "pipeline.view_fieldteam")
        params = {key: request.query_params[key] for key in request.query_params}
        params.pop("format", None)
        query = TeamNearestQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        teams = selectors.team_nearest(
            latitude=data["latitude"],
            longitude=data["longitude"],
            skill=data.get("skill") or None,
            limit=data["limit"],
        )
        return Response(TeamNearestOutputSerializer(teams, many=True).data)
