"""Admin for HR attendance (registered on import by apps.hr.admin)."""
