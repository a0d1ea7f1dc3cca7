"""Pipeline tables, one module per sub-domain. Import models from here
(``apps.pipeline.models``)."""

from apps.pipeline.models.detection import (
    LEAK_KINDS,
    SENSOR_KINDS,
    ZONE_KINDS,
    Alarm,
    AlarmKind,
    DetectionRule,
    Severity,
    ZoneWaterBalance,
)
from apps.pipeline.models.incidents import (
    DispatchOffer,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    IncidentEscalation,
    IncidentEvent,
)
from apps.pipeline.models.ingestion import DeviceKey, IngestBatch, Reading, ReadingPartition
from apps.pipeline.models.network import Asset, Device, FieldTeam, Sensor, TeamMember, Zone

__all__ = [
    "LEAK_KINDS",
    "SENSOR_KINDS",
    "ZONE_KINDS",
    "Alarm",
    "AlarmKind",
    "Asset",
    "DetectionRule",
    "Device",
    "DeviceKey",
    "DispatchOffer",
    "EscalationLevel",
    "EscalationPolicy",
    "FieldTeam",
    "Incident",
    "IncidentEscalation",
    "IncidentEvent",
    "IngestBatch",
    "Reading",
    "ReadingPartition",
    "Sensor",
    "Severity",
    "TeamMember",
    "Zone",
    "ZoneWaterBalance",
]
