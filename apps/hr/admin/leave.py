"""Admin for HR leave (registered on import by apps.hr.admin)."""
