"""Tasks of the schedules app that tenants may schedule (imported by registry.autodiscover)."""

from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.schedules import tasks
from apps.schedules.registry import register


class HeartbeatParams(StrictSerializer):
    note = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Written to the log with the heartbeat.",
    )


register(
    key="schedules.heartbeat",
    task=tasks.heartbeat,
    description="Records that the schedule fired: its run is marked finished.",
    params_serializer=HeartbeatParams,
    takes_run_id=True,
)
