"""The tenant's HR policy (one row per tenant schema), read by every HR sub-domain."""

from __future__ import annotations

from apps.hr.models import HrPolicy


def hr_policy_get() -> HrPolicy:
    """The policy row, created with the defaults on first use."""
    policy, _ = HrPolicy.objects.get_or_create(singleton=1)
    return policy
