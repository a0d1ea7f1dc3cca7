from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is acting inside one tenant: the user, their roles, permissions and row scopes.

    Services take an Actor instead of a request, so the same rules apply to the API, the
    admin, tasks and commands.
    """

    user: Any
    schema_name: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    # scope type -> allowed values, e.g. {"department": {"<uuid>", ...}}.
    scopes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def has_perm(self, permission: str) -> bool:
        return permission in self.permissions

    def has_any_perm(self, *permissions: str) -> bool:
        return any(permission in self.permissions for permission in permissions)
