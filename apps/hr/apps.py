from django.apps import AppConfig


class HrConfig(AppConfig):
    name = "apps.hr"
    label = "hr"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.hr.models import Department, Employee, Position, WorkLocation

        auditlog.register(Department, exclude_fields=["updated_at"])
        auditlog.register(Position, exclude_fields=["updated_at"])
        auditlog.register(WorkLocation, exclude_fields=["updated_at"])
        auditlog.register(Employee, m2m_fields={"allowed_locations"}, exclude_fields=["updated_at"])
