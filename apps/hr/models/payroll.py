"""Payroll tables: salary components and structures, assignments, runs, payslips."""

__all__: list[str] = []
