from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "apps.schedules"
    label = "schedules"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.schedules import registry
        from apps.schedules.models import Schedule

        auditlog.register(Schedule, exclude_fields=["updated_at", "last_run_at"])
        # Every app's schedulable.py registers the tasks tenants may schedule.
        registry.autodiscover()
