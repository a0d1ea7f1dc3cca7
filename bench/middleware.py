"""Bench-only middleware: pin every request to one tenant, with no host lookup at all."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse

from apps.core import tenancy


class PinnedTenantMiddleware:
    """Stands where ``TenantRoutingMiddleware`` stands, for the tenant ``BENCH_PINNED_SCHEMA``.

    The tenant is read once (on the first request); afterwards the connection is switched
    only when it is not already in that schema, so a reused connection costs no
    ``SET search_path`` at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.schema_name = os.environ["BENCH_PINNED_SCHEMA"]
        self.tenant = None
        self.modules: frozenset[str] = frozenset()

    def _load(self) -> None:
        from apps.tenants.models import Tenant, TenantModule

        with tenancy.in_public():
            tenant = Tenant.objects.get(schema_name=self.schema_name)
            self.modules = frozenset(
                TenantModule.objects.filter(tenant=tenant, is_enabled=True).values_list(
                    "module", flat=True
                )
            )
            tenant.domain_url = (
                tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
            )
        self.tenant = tenant

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.tenant is None:
            self._load()
        if connection.schema_name != self.schema_name:
            tenancy.activate_tenant(self.tenant)
        request.tenant = self.tenant
        request.tenant_modules = self.modules
        return self.get_response(request)
