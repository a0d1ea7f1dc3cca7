from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "apps.pipeline"
    label = "pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.pipeline import models

        # Who changed the network, a rule, a policy or an incident, and what. Readings,
        # batches, alarms' repeated detections and timeline rows are not logged: they
        # are high-volume and are themselves the record.
        for model in (
            models.Zone,
            models.Asset,
            models.Device,
            models.Sensor,
            models.FieldTeam,
            models.TeamMember,
            models.DetectionRule,
            models.EscalationPolicy,
            models.EscalationLevel,
            models.Incident,
        ):
            auditlog.register(model, exclude_fields=["updated_at"])
        auditlog.register(models.DeviceKey, exclude_fields=["updated_at", "secret_hash"])
