"""Websocket scope middleware: host -> tenant (fail closed), then who is connecting.

The websocket twin of ``apps.core.middleware.TenantRoutingMiddleware``. Refusals are
sent as close codes after an accept, because a close before the accept reaches the
client as a bare HTTP 403 that does not say why:

    4401  no or bad credentials (missing, expired, another tenant's token)
    4403  the tenant is suspended
    4404  no tenant is served at this host (unknown, deleted, template, operators' host)
    4503  the tenant's last migration failed; retry later

Authentication, first match wins:

1. A JWT access token, offered as the websocket subprotocol pair
   ``["tenantry.jwt", "<token>"]`` (the server echoes ``tenantry.jwt``, never the
   token), or as ``?token=<token>`` in the URL. The subprotocol is the better choice:
   URLs end up in access logs. Offering both is refused.
2. The Django session cookie of the tenant's host, looked up in the tenant's schema.
   Only for a same-origin handshake (``Origin`` equals the ``Host``), the websocket
   version of the CSRF check: a page on another tenant's host cannot ride the cookie.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from apps.core.tenancy import in_tenant

logger = logging.getLogger("tenantry.realtime")

JWT_SUBPROTOCOL = "tenantry.jwt"

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SUSPENDED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_UNAVAILABLE = 4503

Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    for header_name, value in scope.get("headers", []):
        if header_name == name:
            return value.decode("latin1")
    return None


def offered_subprotocol(scope: Scope) -> str | None:
    """The subprotocol to echo: a browser fails the handshake when it offered some and the
    server picked none, even on the way to a close code."""
    return JWT_SUBPROTOCOL if JWT_SUBPROTOCOL in scope.get("subprotocols", []) else None


async def close_with(scope: Scope, receive: Any, send: Any, *, code: int) -> None:
    """Finish the handshake only to close it with ``code``."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    subprotocol = offered_subprotocol(scope)
    if subprotocol:
        accept["subprotocol"] = subprotocol
    await send(accept)
    await send({"type": "websocket.close", "code": code})


def _hostname(scope: Scope) -> str | None:
    """The Host header normalised like the HTTP path does, or None if it is not allowed."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host.lower())
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    # Checked before the lookup, as Django's get_host() does for HTTP: arbitrary hosts
    # would otherwise each leave a cached miss behind in Redis.
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    return domain.rstrip(".")


def _refusal_code(resolved: Any) -> int | None:
    if resolved is None or resolved.is_public:
        return CLOSE_NOT_FOUND
    if resolved.status == "suspended":
        return CLOSE_SUSPENDED
    if resolved.status != "active" or resolved.kind == "template":
        return CLOSE_NOT_FOUND
    if resolved.migration_failed:
        return CLOSE_UNAVAILABLE
    return None


def _tenant_for_hostname(hostname: str) -> Any:
    # Imported lazily: the app registry is not ready when the ASGI module loads this one.
    from apps.tenants.selectors import tenant_for_hostname

    return tenant_for_hostname(hostname=hostname)


class _OriginValidator(OriginValidator):
    """channels' OriginValidator, refusing without its WebsocketDenier: that denier is a
    full consumer, so every handshake it turns away starts a channel-layer receive on
    Redis. Refusing needs no Redis at all."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        origin = _header(scope, b"origin")
        parsed_origin = urlsplit(origin) if origin else None
        if self.valid_origin(parsed_origin):
            await self.application(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            # A close before the accept: the server answers the handshake with HTTP 403.
            await send({"type": "websocket.close"})


def allowed_hosts_origin_validator(application: Any) -> OriginValidator:
    """channels' AllowedHostsOriginValidator: the Origin must be one of ALLOWED_HOSTS."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return _OriginValidator(application, allowed_hosts)


class TenantWebsocketMiddleware:
    """Resolves the tenant from the Host header; puts ``schema_name`` in the scope."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            raise ValueError("TenantWebsocketMiddleware only serves websocket connections.")
        hostname = _hostname(scope)
        resolved = None
        if hostname is not None:
            resolved = await database_sync_to_async(_tenant_for_hostname)(hostname)
        code = _refusal_code(resolved)
        if code is not None:
            logger.info("Refused websocket on host %r: close %d", hostname, code)
            await close_with(scope, receive, send, code=code)
            return
        scope = {**scope, "schema_name": resolved.schema_name, "tenant_hostname": hostname}
        await self.inner(scope, receive, send)


@dataclass(frozen=True)
class Credentials:
    user: Any
    method: str  # "jwt" or "session"
    expires_at: float | None = None  # epoch seconds of the token's ``exp``


class _Refused(Exception):
    pass


def _raw_token(scope: Scope) -> str | None:
    """The token offered by the client, None if none; raises _Refused if ambiguous."""
    subprotocols = list(scope.get("subprotocols", []))
    from_subprotocol = None
    if JWT_SUBPROTOCOL in subprotocols:
        index = subprotocols.index(JWT_SUBPROTOCOL)
        if index + 1 >= len(subprotocols):
            raise _Refused("tenantry.jwt offered without a token")
        from_subprotocol = subprotocols[index + 1]
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    from_query = query.get("token", [None])[-1]
    if from_subprotocol and from_query:
        raise _Refused("token offered twice")
    return from_subprotocol or from_query


def _user_from_token(schema_name: str, raw_token: str) -> Credentials | None:
    from rest_framework.exceptions import AuthenticationFailed

    from apps.accounts.authentication import TenantJWTAuthentication

    authentication = TenantJWTAuthentication()
    with in_tenant(schema_name):
        try:
            # Same checks as the HTTP API: signature, expiry, token type, the tenant claim
            # against this schema, and an active user of this schema.
            token = authentication.get_validated_token(raw_token.encode())
            user = authentication.get_user(token)
        except AuthenticationFailed:
            return None
    return Credentials(user=user, method="jwt", expires_at=float(token["exp"]))


def _same_origin(scope: Scope) -> bool:
    origin = _header(scope, b"origin")
    host = _header(scope, b"host")
    if not origin or not host:
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


def _user_from_session(schema_name: str, session_key: str) -> Credentials | None:
    from importlib import import_module

    from django.contrib.auth import get_user
    from django.http import HttpRequest

    engine = import_module(settings.SESSION_ENGINE)
    with in_tenant(schema_name):
        # Sessions live in each tenant's schema, so a cookie only means something here.
        request = HttpRequest()
        request.session = engine.SessionStore(session_key)
        # get_user() checks the backend, the session hash (a password change logs the
        # session out) and is_active, exactly as AuthenticationMiddleware does.
        user = get_user(request)
    if not user.is_authenticated:
        return None
    return Credentials(user=user, method="session")


class WebsocketAuthMiddleware:
    """Puts ``user`` (possibly anonymous) and ``auth`` (Credentials or None) in the scope.

    A token that is offered but not valid here closes the handshake with 4401; the
    consumer refuses anonymous connections itself.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        schema_name = scope["schema_name"]
        credentials: Credentials | None = None
        try:
            raw_token = _raw_token(scope)
        except _Refused as reason:
            logger.info("Refused websocket on %s: %s", schema_name, reason)
            await close_with(scope, receive, send, code=CLOSE_UNAUTHENTICATED)
            return
        if raw_token is not None:
            credentials = await database_sync_to_async(_user_from_token)(schema_name, raw_token)
            if credentials is None:
                logger.info("Refused websocket on %s: token not valid here", schema_name)
                await close_with(scope, receive, send, code=CLOSE_UNAUTHENTICATED)
                return
        else:
            cookies = parse_cookie(_header(scope, b"cookie") or "")
            session_key = cookies.get(settings.SESSION_COOKIE_NAME)
            if session_key and _same_origin(scope):
                credentials = await database_sync_to_async(_user_from_session)(
                    schema_name, session_key
                )
        user = credentials.user if credentials else AnonymousUser()
        await self.inner({**scope, "user": user, "auth": credentials}, receive, send)
