from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.authentication import TENANT_CLAIM, token_tenant_check
from apps.accounts.errors import (
    InvalidCredentialsError,
    LastAdminError,
    LoginThrottledError,
    RoleBuiltinError,
    RoleSlugTakenError,
    UnknownPermissionError,
    UnknownRoleError,
    UsernameTakenError,
)
from apps.accounts.models import Role, ScopeGrant, User
from apps.accounts.selectors import (
    permissions_by_codename,
    require_perm,
    tenant_admins_remaining_without,
)
from apps.core.tenancy import require_tenant_schema
from apps.core.types import Actor

ADMIN_ROLE = "tenant_admin"


# --- Login, tokens ----------------------------------------------------------------------------


def _login_failures_key(username: str) -> str:
    # The cache KEY_FUNCTION prefixes the schema, so the count is per tenant and username;
    # the username is hashed so any input makes a safe, bounded key.
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return f"accounts:login_failures:{digest}"


def login_tokens_issue(*, username: str, password: str) -> dict[str, str]:
    """Check the credentials and return ``access`` and ``refresh`` tokens for this tenant.

    Raises LoginThrottledError after too many recent failures for this username in this
    tenant (even when the password is right), InvalidCredentialsError otherwise.
    """
    schema_name = require_tenant_schema()
    key = _login_failures_key(username)
    failures = cache.get(key, 0)
    if failures >= settings.TENANTRY_LOGIN_MAX_FAILURES:
        raise LoginThrottledError(
            retry_after_seconds=settings.TENANTRY_LOGIN_FAILURE_WINDOW_SECONDS
        )

    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        if cache.add(key, 1, settings.TENANTRY_LOGIN_FAILURE_WINDOW_SECONDS) is False:
            cache.incr(key)
        raise InvalidCredentialsError()

    cache.delete(key)
    refresh = RefreshToken.for_user(user)
    refresh[TENANT_CLAIM] = schema_name
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token_load(refresh: str) -> RefreshToken:
    """The refresh token if it is well-formed, unexpired, not blacklisted and this tenant's.

    simplejwt raises TokenError (not an API exception) for the rest; left alone, a replayed
    or malformed token would answer 500 instead of 401 ``token_not_valid``.
    """
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    token_tenant_check(token)
    return token


def refresh_token_rotate(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair; the old one is blacklisted (rotation)."""
    from rest_framework_simplejwt.serializers import TokenRefreshSerializer

    _refresh_token_load(refresh)
    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    return serializer.validated_data


def refresh_token_blacklist(*, refresh: str) -> None:
    _refresh_token_load(refresh).blacklist()


# --- Users ---------------------------------------------------------------------------------------


def _roles_by_slug(slugs: Sequence[str]) -> list[Role]:
    roles = list(Role.objects.filter(slug__in=slugs))
    missing = set(slugs) - {role.slug for role in roles}
    if missing:
        raise UnknownRoleError(roles=sorted(missing))
    return roles


@transaction.atomic
def user_create(
    *,
    actor: Actor | None,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    roles: Sequence[str] = (),
    is_staff: bool = False,
) -> User:
    """Create a user of the current tenant. ``actor=None`` is for provisioning only."""
    require_tenant_schema()
    if actor is not None:
        require_perm(actor, "accounts.add_user")
        if roles:
            require_perm(actor, "accounts.assign_role")
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTakenError(username=username)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff or ADMIN_ROLE in roles,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if roles:
        user.roles.set(_roles_by_slug(roles))
    return user


@transaction.atomic
def user_update(*, actor: Actor, user: User, data: dict[str, Any]) -> User:
    require_perm(actor, "accounts.change_user")
    user = User.objects.select_for_update().get(pk=user.pk)
    if "roles" in data:
        require_perm(actor, "accounts.assign_role")
        new_roles = _roles_by_slug(data["roles"])
        was_admin = user.roles.filter(slug=ADMIN_ROLE).exists()
        if (
            was_admin
            and ADMIN_ROLE not in data["roles"]
            and not tenant_admins_remaining_without(user)
        ):
            raise LastAdminError()
        user.roles.set(new_roles)
        user.is_staff = ADMIN_ROLE in data["roles"]
    deactivating = data.get("is_active") is False
    is_admin = user.roles.filter(slug=ADMIN_ROLE).exists()
    if deactivating and is_admin and not tenant_admins_remaining_without(user):
        raise LastAdminError()
    for field in ("email", "first_name", "last_name", "is_active"):
        if field in data:
            setattr(user, field, data[field])
    if data.get("password"):
        user.set_password(data["password"])
    user.save()
    return user


@transaction.atomic
def user_deactivate(*, actor: Actor, user: User) -> User:
    """Users are deactivated, never deleted: their audit trail keeps pointing at them."""
    require_perm(actor, "accounts.delete_user")
    return user_update(actor=actor, user=user, data={"is_active": False})


def scope_grant(*, actor: Actor | None, user: User, scope_type: str, scope_value: str) -> None:
    if actor is not None:
        require_perm(actor, "accounts.add_scopegrant")
    ScopeGrant.objects.get_or_create(user=user, scope_type=scope_type, scope_value=scope_value)


# --- Roles ---------------------------------------------------------------------------------------


def _permissions_for_codenames(codenames: Sequence[str]) -> list:
    found = permissions_by_codename(list(codenames))
    missing = sorted(set(codenames) - set(found))
    if missing:
        raise UnknownPermissionError(permissions=missing)
    return list(found.values())


@transaction.atomic
def role_create(
    *, actor: Actor, slug: str, name: str, description: str = "", permissions: Sequence[str] = ()
) -> Role:
    require_perm(actor, "accounts.add_role")
    if Role.objects.filter(slug=slug).exists():
        raise RoleSlugTakenError(slug=slug)
    role = Role.objects.create(slug=slug, name=name, description=description)
    role.permissions.set(_permissions_for_codenames(permissions))
    return role


@transaction.atomic
def role_update(*, actor: Actor, role: Role, data: dict[str, Any]) -> Role:
    require_perm(actor, "accounts.change_role")
    if role.is_builtin and "slug" in data and data["slug"] != role.slug:
        raise RoleBuiltinError()
    if "slug" in data and Role.objects.filter(slug=data["slug"]).exclude(pk=role.pk).exists():
        raise RoleSlugTakenError(slug=data["slug"])
    for field in ("slug", "name", "description"):
        if field in data:
            setattr(role, field, data[field])
    role.save()
    if "permissions" in data:
        role.permissions.set(_permissions_for_codenames(data["permissions"]))
    return role


@transaction.atomic
def role_delete(*, actor: Actor, role: Role) -> None:
    require_perm(actor, "accounts.delete_role")
    if role.is_builtin:
        raise RoleBuiltinError()
    role.delete()
