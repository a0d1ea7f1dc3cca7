"""``Authorization: DeviceKey tdk_<prefix>_<secret>``: DRF authentication of devices.

The host has already picked the tenant, so the key is looked up in that tenant's schema
only: another tenant's key is simply unknown (401 ``pipeline.device_key_invalid``). A
device is not a user: ``request.user`` stays anonymous and ``request.auth`` is the
Device, which ``IsDevice`` requires.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.pipeline.errors import DeviceKeyInvalidError
from apps.pipeline.models import Device

KEYWORD = "DeviceKey"


class DeviceKeyRefused(DeviceKeyInvalidError, AuthenticationFailed):
    """DeviceKeyInvalidError as DRF sees a failed authentication: the request is marked
    unauthenticated, and the answer keeps the error's own code
    (apps.core.api.exceptions handles ApplicationError first)."""

    def __init__(self) -> None:
        DeviceKeyInvalidError.__init__(self)
        self.detail = self.message


class DeviceKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Device] | None:
        from django.contrib.auth.models import AnonymousUser

        from apps.pipeline.services.ingestion import device_authenticate

        header = get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") != KEYWORD:
            return None
        if len(header) != 2:
            raise DeviceKeyRefused()
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise DeviceKeyRefused() from None
        try:
            device = device_authenticate(raw_key)
        except DeviceKeyInvalidError:
            raise DeviceKeyRefused() from None
        return AnonymousUser(), device

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="api"'


class IsDevice(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Device)


class DeviceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.pipeline.authentication.DeviceKeyAuthentication"
    name = "deviceKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`DeviceKey tdk_<prefix>_<secret>`, issued per device.",
        }
