from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # The platform's own reports, then any app's ``reports.py`` (each registers its
        # reports with @report when imported).
        from apps.reports import builtin  # noqa: F401

        autodiscover_modules("reports")
