from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.core.tenancy import current_schema

TENANT_CLAIM = "tenant"


def token_tenant_check(token: Any) -> None:
    """A token is only good on the host of the tenant that issued it.

    The claim is compared with the schema the request was routed to, so a token from
    tenant A fails on B's host even where a user with the same id exists there.
    """
    if token.get(TENANT_CLAIM) != current_schema():
        raise InvalidToken("Token was issued for another tenant.")


class TenantJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Any:
        token = super().get_validated_token(raw_token)
        token_tenant_check(token)
        return token
