from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import Permission
from django.db.models import QuerySet

from apps.accounts.models import Role, ScopeGrant, User
from apps.accounts.roles import PLATFORM_APP_LABELS
from apps.core.errors import NotFoundError, PermissionDeniedError
from apps.core.tenancy import require_tenant_schema
from apps.core.types import Actor


def actor_for_user(*, user: User) -> Actor:
    """The user's roles, effective permissions and scopes, in the current tenant."""
    schema_name = require_tenant_schema()
    role_slugs = frozenset(user.roles.values_list("slug", flat=True))
    permissions = frozenset(user.get_all_permissions())
    scopes: dict[str, set[str]] = defaultdict(set)
    for scope_type, scope_value in ScopeGrant.objects.filter(user=user).values_list(
        "scope_type", "scope_value"
    ):
        scopes[scope_type].add(scope_value)
    return Actor(
        user=user,
        schema_name=schema_name,
        roles=role_slugs,
        permissions=permissions,
        scopes={key: frozenset(values) for key, values in scopes.items()},
    )


def require_perm(actor: Actor, permission: str) -> None:
    """Services call this: authorization lives in the service layer, not only in views."""
    if not actor.has_perm(permission):
        raise PermissionDeniedError(permission=permission)


def role_list(*, actor: Actor) -> QuerySet[Role]:
    require_perm(actor, "accounts.view_role")
    return Role.objects.prefetch_related("permissions__content_type")


def role_get(*, actor: Actor, role_id: object) -> Role:
    role = role_list(actor=actor).filter(pk=role_id).first()
    if role is None:
        raise NotFoundError()
    return role


def user_list(*, actor: Actor) -> QuerySet[User]:
    require_perm(actor, "accounts.view_user")
    return User.objects.prefetch_related("roles")


def user_get(*, actor: Actor, user_id: object) -> User:
    user = user_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFoundError()
    return user


def permission_list() -> QuerySet[Permission]:
    """Permissions a role may hold: platform internals (tenants, sessions...) are not."""
    return (
        Permission.objects.exclude(content_type__app_label__in=PLATFORM_APP_LABELS)
        .select_related("content_type")
        .order_by("content_type__app_label", "codename")
    )


def permission_codename(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def permissions_by_codename(codenames: list[str]) -> dict[str, Permission]:
    found: dict[str, Permission] = {}
    wanted = set(codenames)
    app_labels = {codename.split(".", 1)[0] for codename in wanted if "." in codename}
    for permission in permission_list().filter(content_type__app_label__in=app_labels):
        codename = permission_codename(permission)
        if codename in wanted:
            found[codename] = permission
    return found


def tenant_admins_remaining_without(user: User) -> int:
    """Active tenant admins other than ``user``."""
    return (
        User.objects.filter(roles__slug="tenant_admin", is_active=True).exclude(pk=user.pk).count()
    )
