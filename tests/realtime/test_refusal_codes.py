"""Which close code a host's tenant gets, for the states the live tests cannot reach cheaply."""

from __future__ import annotations

import pytest

from apps.realtime.middleware import _refusal_code
from apps.tenants.selectors import ResolvedTenant


def _resolved(*, kind: str = "business", status: str = "active", failed: bool = False):
    return ResolvedTenant(
        tenant_id="1",
        schema_name="somewhere",
        name="Somewhere",
        kind=kind,
        status=status,
        time_zone="UTC",
        migration_failed=failed,
        modules=frozenset(),
    )


@pytest.mark.parametrize(
    ("resolved", "expected"),
    [
        (None, 4404),
        (_resolved(kind="public"), 4404),
        (_resolved(kind="template"), 4404),
        (_resolved(status="deleted"), 4404),
        (_resolved(status="suspended"), 4403),
        (_resolved(failed=True), 4503),
        (_resolved(), None),
    ],
    ids=["unknown", "public", "template", "deleted", "suspended", "migration-failed", "active"],
)
def test_refusal_code_follows_the_http_routing_rules(resolved, expected):
    assert _refusal_code(resolved) == expected
