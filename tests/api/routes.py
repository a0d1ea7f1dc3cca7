"""Every API route, and how the cross-tenant suite exercises it.

``api_routes()`` walks the tenant URLconf; the suite fails when a route has no entry in
ROUTES, so a new endpoint joins the isolation tests by construction.

An entry says how to make an object of the route in a tenant (``make``, returning the
URL kwargs and a marker string that appears in that object's representation) and which
methods to try. Routes anyone may call (login, health) are listed in PUBLIC_ROUTES with
the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    pattern: str
    view_class: type
    methods: frozenset[str]


def _walk(patterns, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found.extend(_walk(pattern.url_patterns, prefix + str(pattern.pattern)))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def api_routes(urlconf: str = "config.urls_tenant") -> list[Route]:
    routes = []
    for pattern, callback in _walk(get_resolver(urlconf).url_patterns):
        if not pattern.startswith("api/v1/"):
            continue
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        methods = frozenset(
            method.upper()
            for method in ("get", "post", "put", "patch", "delete")
            if view_class is not None and hasattr(view_class, method)
        )
        routes.append(Route(pattern=pattern, view_class=view_class, methods=methods))
    return routes


# --- makers: create one object in the current tenant, return (url kwargs, marker) ---------


def _make_role() -> tuple[dict, str]:
    from apps.accounts.models import Role

    marker = f"xt-role-{uuid.uuid4().hex[:8]}"
    role = Role.objects.create(slug=marker, name=marker)
    return {"role_id": role.pk}, marker


def _make_user() -> tuple[dict, str]:
    from apps.accounts.models import User

    marker = f"xt-user-{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(username=marker, password="x-secret-pass-9")
    return {"user_id": user.pk}, marker


def _make_audit_entry() -> tuple[dict, str]:
    from auditlog.models import LogEntry

    from apps.accounts.models import Role

    marker = f"xt-audit-{uuid.uuid4().hex[:8]}"
    Role.objects.create(slug=marker, name=marker)  # auditlog records the create
    entry = LogEntry.objects.filter(object_repr=marker).latest("timestamp")
    return {"entry_id": entry.pk}, marker


def _make_job() -> tuple[dict, str]:
    from apps.jobs.models import JobRun

    marker = f"xt-job-{uuid.uuid4().hex[:8]}"
    job = JobRun.objects.create(kind=marker, label=marker)
    return {"job_id": job.pk}, marker


@dataclass(frozen=True)
class Spec:
    make: Callable[[], tuple[dict, str]] | None
    # body for PATCH/PUT/POST attempts against another tenant's object
    write_body: dict = field(default_factory=dict)
    # (marker) -> True when the object made by ``make`` is still there, unchanged
    intact: Callable[[str], bool] | None = None


def _role_intact(marker: str) -> bool:
    from apps.accounts.models import Role

    return Role.objects.filter(slug=marker, name=marker).exists()


def _user_intact(marker: str) -> bool:
    from apps.accounts.models import User

    return User.objects.filter(username=marker, is_active=True, first_name="").exists()


def _audit_intact(marker: str) -> bool:
    from auditlog.models import LogEntry

    return LogEntry.objects.filter(object_repr=marker).exists()


def _job_intact(marker: str) -> bool:
    from apps.jobs.models import JobRun

    return JobRun.objects.filter(kind=marker, status=JobRun.Status.QUEUED).exists()


ROUTES: dict[str, Spec] = {
    "api/v1/me/": Spec(make=None),
    "api/v1/roles/": Spec(make=_make_role, intact=_role_intact),
    "api/v1/roles/<uuid:role_id>/": Spec(
        make=_make_role, write_body={"name": "taken over"}, intact=_role_intact
    ),
    "api/v1/permissions/": Spec(make=None),
    "api/v1/users/": Spec(make=_make_user, intact=_user_intact),
    "api/v1/users/<uuid:user_id>/": Spec(
        make=_make_user, write_body={"first_name": "taken"}, intact=_user_intact
    ),
    "api/v1/audit/": Spec(make=_make_audit_entry, intact=_audit_intact),
    "api/v1/audit/<int:entry_id>/": Spec(make=_make_audit_entry, intact=_audit_intact),
    "api/v1/jobs/": Spec(make=_make_job, intact=_job_intact),
    "api/v1/jobs/<uuid:job_id>/": Spec(make=_make_job, intact=_job_intact),
    "api/v1/jobs/<uuid:job_id>/cancel/": Spec(make=_make_job, intact=_job_intact),
}

PUBLIC_ROUTES: dict[str, str] = {
    "api/v1/health/": "readiness probe, no data",
    "api/v1/auth/token/": "login: takes credentials, covered by the token tests",
    "api/v1/auth/token/refresh/": "takes a refresh token; cross-tenant refusal tested directly",
    "api/v1/auth/logout/": "takes a refresh token; cross-tenant refusal tested directly",
}


def fill(pattern: str, kwargs: dict) -> str:
    path = pattern
    for name, value in kwargs.items():
        for converter in ("uuid", "int", "str", "slug"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return "/" + path


def _load_app_routes() -> None:
    """Each app may keep its routes in tests/api/routes_<app>.py, defining ROUTES (and
    optionally PUBLIC_ROUTES) dicts in the shapes above; they are merged here."""
    import importlib
    import pkgutil

    import tests.api as package

    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("routes_"):
            module = importlib.import_module(f"tests.api.{module_info.name}")
            ROUTES.update(getattr(module, "ROUTES", {}))
            PUBLIC_ROUTES.update(getattr(module, "PUBLIC_ROUTES", {}))


_load_app_routes()
