"""Base classes every tenant API view builds on."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.audit import audit_actor_set
from apps.core.tenancy import require_tenant_schema
from apps.core.types import Actor


class TenantApi(GenericAPIView):
    """An API view that only ever runs inside a tenant schema (fails closed in public).

    After authentication ``request.actor`` holds the caller's roles, permissions and
    scopes, ready to hand to services and selectors.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        require_tenant_schema()
        super().initial(request, *args, **kwargs)

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if request.user.is_authenticated:
            # Imported here: accounts builds on core, not the other way round.
            from apps.accounts.selectors import actor_for_user

            request.actor = actor_for_user(user=request.user)
            # JWT users are only known here, after DRF authentication; the audit trail
            # needs them as the actor of every write this request makes.
            audit_actor_set(request.user)

    @property
    def actor(self) -> Actor:
        return self.request.actor

    def list_response(self, queryset: QuerySet, serializer_class: type) -> Response:
        """Filter (django-filter), order and cursor-paginate ``queryset``."""
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(serializer_class(page, many=True).data)
