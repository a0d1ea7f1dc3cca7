"""Admin for HR payroll (registered on import by apps.hr.admin)."""
