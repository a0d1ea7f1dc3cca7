"""The platform's own reports: users (Excel and PDF) and the audit trail (Excel).

They live here rather than in accounts and core because those apps know nothing about
reports; each reads through its owner's selectors, which check the permission again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditlog.models import LogEntry
from django.contrib.postgres.aggregates import StringAgg
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from rest_framework import serializers

from apps.accounts.selectors import user_list
from apps.core.api.serializers import StrictSerializer
from apps.core.selectors import audit_entry_list
from apps.core.types import Actor
from apps.reports.excel import Column, queryset_rows, xlsx_write
from apps.reports.pdf import SummaryDocument
from apps.reports.registry import ReportOutput, report


def utc_seconds(field: str) -> Func:
    """A timestamp as naive UTC, to the second, computed by PostgreSQL.

    Excel has no time zones (openpyxl refuses aware datetimes); converting in SQL keeps
    the Python side of a million-row report a plain pass-through.
    """
    return Func(
        F(field),
        template="date_trunc('second', %(expressions)s AT TIME ZONE 'UTC')",
        output_field=DateTimeField(),
    )


USER_COLUMNS = [
    Column("Username", 24),
    Column("Email", 32),
    Column("First name", 18),
    Column("Last name", 18),
    Column("Active", 8),
    Column("Roles", 28),
    Column("Created (UTC)", 20),
    Column("Last login (UTC)", 20),
]


@report(
    name="users",
    title="Users and roles",
    permission="accounts.view_user",
    format="xlsx",
    description="Every user of the tenant with their roles, one row per user.",
)
def users_report(*, actor: Actor, params: dict[str, Any], output: ReportOutput) -> int:
    users = (
        user_list(actor=actor)
        .prefetch_related(None)
        .annotate(
            role_list=StringAgg("roles__slug", ", ", order_by="roles__slug", default=Value("")),
            created_utc=utc_seconds("created_at"),
            last_login_utc=utc_seconds("last_login"),
        )
        .order_by("username")
    )
    rows = queryset_rows(
        users,
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "role_list",
        "created_utc",
        "last_login_utc",
    )
    return xlsx_write(
        path=output.path,
        sheet_title="Users",
        columns=USER_COLUMNS,
        rows=rows,
        total=user_list(actor=actor).count(),
        on_progress=output.progress,
    )


class AuditLogParameters(StrictSerializer):
    date_from = serializers.DateField(help_text="First day (UTC), included.")
    date_to = serializers.DateField(help_text="Last day (UTC), included.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["date_to"] < data["date_from"]:
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        return data


AUDIT_COLUMNS = [
    Column("Time (UTC)", 20),
    Column("Actor", 20),
    Column("Action", 10),
    Column("Model", 22),
    Column("Object id", 38),
    Column("Object", 32),
    Column("Changes", 60),
    Column("Remote address", 16),
]


def audit_action_label() -> Case:
    return Case(
        *(When(action=value, then=Value(str(label))) for value, label in LogEntry.Action.choices),
        default=Cast("action", CharField()),
        output_field=CharField(),
    )


@report(
    name="audit-log",
    title="Audit log",
    permission="auditlog.view_logentry",
    parameters=AuditLogParameters,
    format="xlsx",
    description="Every recorded change between two days (UTC, both included), oldest first.",
)
def audit_log_report(*, actor: Actor, params: dict[str, Any], output: ReportOutput) -> int:
    start = dt.datetime.combine(params["date_from"], dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(params["date_to"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    entries = audit_entry_list(actor=actor).filter(timestamp__gte=start, timestamp__lt=end)
    rows = queryset_rows(
        entries.annotate(
            time_utc=utc_seconds("timestamp"),
            action_label=audit_action_label(),
            model_label=Concat(
                "content_type__app_label",
                Value("."),
                "content_type__model",
                output_field=CharField(),
            ),
            changes_json=Cast("changes", TextField()),
        ).order_by("timestamp", "pk"),
        "time_utc",
        "actor__username",
        "action_label",
        "model_label",
        "object_pk",
        "object_repr",
        "changes_json",
        "remote_addr",
    )
    return xlsx_write(
        path=output.path,
        sheet_title="Audit log",
        columns=AUDIT_COLUMNS,
        rows=rows,
        total=entries.count(),
        on_progress=output.progress,
    )


@report(
    name="users-pdf",
    title="Users summary",
    permission="accounts.view_user",
    format="pdf",
    description="How many users the tenant has, active and by role, on one page.",
)
def users_summary_report(*, actor: Actor, params: dict[str, Any], output: ReportOutput) -> int:
    users = user_list(actor=actor).prefetch_related(None).order_by()
    # The role join repeats a user once per role: count distinct users.
    totals = users.aggregate(
        total=Count("pk", distinct=True),
        active=Count("pk", distinct=True, filter=Q(is_active=True)),
        without_role=Count("pk", distinct=True, filter=Q(roles__isnull=True)),
    )
    by_role = list(
        users.filter(roles__isnull=False)
        .values_list("roles__slug", "roles__name")
        .annotate(active=Count("pk", filter=Q(is_active=True)), total=Count("pk"))
        .order_by("roles__slug")
    )
    document = SummaryDocument(title="Users summary")
    document.facts(
        [
            ("Tenant", actor.schema_name),
            ("Generated (UTC)", timezone.now().strftime("%Y-%m-%d %H:%M")),
            ("Users", totals["total"]),
            ("Active", totals["active"]),
            ("Inactive", totals["total"] - totals["active"]),
            ("Without a role", totals["without_role"]),
        ]
    )
    document.heading("Users by role")
    document.table(columns=["Role", "Name", "Active", "All"], rows=by_role)
    document.save(output.path)
    output.progress(1, 1)
    return len(by_role)
