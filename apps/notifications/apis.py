from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.filters import StrictBooleanFilter, StrictChoiceFilter
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.notifications import selectors, services, webhooks
from apps.notifications.errors import BadSignatureError
from apps.notifications.models import Channel, Delivery, InAppNotification

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only; DRF's own also takes "yes", "1", 0..."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


# --- In-app notifications --------------------------------------------------------------------


class InAppNotificationOutputSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = InAppNotification
        fields = ("id", "event", "title", "body", "is_read", "created_at", "read_at")


class InAppNotificationFilter(filters.FilterSet):
    is_read = StrictBooleanFilter(method="filter_is_read")

    class Meta:
        model = InAppNotification
        fields = ("is_read",)

    def filter_is_read(
        self, queryset: QuerySet[InAppNotification], name: str, value: bool
    ) -> QuerySet[InAppNotification]:
        return queryset.filter(read_at__isnull=not value)


class InAppNotificationListApi(TenantApi):
    """The caller's own in-app notifications, newest first."""

    filterset_class = InAppNotificationFilter
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[InAppNotification]:
        return InAppNotification.objects.none()

    @extend_schema(responses={200: InAppNotificationOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        notifications = selectors.in_app_notification_list(user=self.actor.user)
        return self.list_response(notifications, InAppNotificationOutputSerializer)


class InAppNotificationReadApi(TenantApi):
    @extend_schema(request=None, responses={200: InAppNotificationOutputSerializer, 404: ERROR})
    def post(self, request: Request, notification_id: str) -> Response:
        notification = selectors.in_app_notification_get(
            user=self.actor.user, notification_id=notification_id
        )
        notification = services.in_app_notification_mark_read(notification=notification)
        return Response(InAppNotificationOutputSerializer(notification).data)


# --- Opt-outs --------------------------------------------------------------------------------


class OptOutSettingsSerializer(StrictSerializer):
    """One flag per channel: true means the user does not want notifications there."""

    email = StrictBooleanField()
    sms = StrictBooleanField()
    whatsapp = StrictBooleanField()
    in_app = StrictBooleanField()


class OptOutSettingsApi(TenantApi):
    pagination_class = None

    @extend_schema(responses={200: OptOutSettingsSerializer})
    def get(self, request: Request) -> Response:
        channels = selectors.opt_out_channels(user=self.actor.user)
        return Response(OptOutSettingsSerializer(channels).data)

    @extend_schema(
        request=OptOutSettingsSerializer, responses={200: OptOutSettingsSerializer, 400: ERROR}
    )
    def put(self, request: Request) -> Response:
        payload = OptOutSettingsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        channels = services.opt_outs_set(user=self.actor.user, channels=payload.validated_data)
        return Response(OptOutSettingsSerializer(channels).data)


# --- Delivery log ----------------------------------------------------------------------------


class DeliveryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        # The rendered body stays out: it may hold links or codes meant for one person.
        fields = (
            "id",
            "event",
            "channel",
            "user",
            "address",
            "dedupe_key",
            "status",
            "provider",
            "provider_message_id",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
            "updated_at",
        )


class DeliveryFilter(filters.FilterSet):
    status = StrictChoiceFilter(choices=Delivery.Status.choices)
    channel = StrictChoiceFilter(choices=Channel.choices)
    event = filters.CharFilter(max_length=100)

    class Meta:
        model = Delivery
        fields = ("status", "channel", "event")


class DeliveryListApi(TenantApi):
    """The delivery log (permission ``notifications.view_delivery``)."""

    filterset_class = DeliveryFilter
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[Delivery]:
        return Delivery.objects.none()

    @extend_schema(responses={200: DeliveryOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.delivery_list(actor=self.actor), DeliveryOutputSerializer
        )


# --- Provider webhooks -----------------------------------------------------------------------


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False, description=description
    )


class SendGridWebhookApi(TenantApi):
    """SendGrid's Signed Event Webhook. Point the tenant's SendGrid account at
    ``https://<tenant host>/api/v1/notifications/webhooks/sendgrid/``."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={204: None, 400: ERROR, 403: ERROR},
        parameters=[
            _header(webhooks.SENDGRID_SIGNATURE_HEADER, "base64 ECDSA signature"),
            _header(webhooks.SENDGRID_TIMESTAMP_HEADER, "the signed timestamp"),
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        # The signature covers the exact bytes, so they are read before any parsing.
        body = request.body
        webhooks.sendgrid_verify(
            body=body,
            signature=request.headers.get(webhooks.SENDGRID_SIGNATURE_HEADER, ""),
            timestamp=request.headers.get(webhooks.SENDGRID_TIMESTAMP_HEADER, ""),
        )
        webhooks.sendgrid_events_process(body=body)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwilioWebhookApi(TenantApi):
    """Twilio's message status callback; its URL is set on every message sent."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [FormParser]

    @extend_schema(
        request={
            "application/x-www-form-urlencoded": {
                "type": "object",
                "properties": {
                    "MessageSid": {"type": "string"},
                    "MessageStatus": {"type": "string"},
                    "ErrorCode": {"type": "string"},
                    "ErrorMessage": {"type": "string"},
                },
                "required": ["MessageSid", "MessageStatus"],
            }
        },
        responses={204: None, 400: ERROR, 403: ERROR, 415: ERROR},
        parameters=[
            _header(webhooks.TWILIO_SIGNATURE_HEADER, "base64 HMAC-SHA1 signature"),
            OpenApiParameter(
                "delivery_id", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False
            ),
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        signature = request.headers.get(webhooks.TWILIO_SIGNATURE_HEADER, "")
        if not signature:
            raise BadSignatureError()
        params = request.data
        webhooks.twilio_verify(urls=_signed_urls(request), params=params, signature=signature)
        webhooks.twilio_status_process(
            params=params, delivery_id=request.query_params.get("delivery_id")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _signed_urls(request: Request) -> list[str]:
    url = request.build_absolute_uri()
    if url.startswith("http://"):
        return [url, "https://" + url.removeprefix("http://")]
    return [url]
