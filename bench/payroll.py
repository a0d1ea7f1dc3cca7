"""Payroll: a month's payroll run for 1,000 and 10,000 employees.

    BENCH_ONLY=payroll make bench     # or: python -m bench.payroll (inside config.devstack)

Each size gets its own tenant (cloned like any tenant) filled with SQL ``generate_series``:
employees with a salary assignment under a structure of three components (fixed, a
percentage and a formula), a Monday-to-Friday roster, a month (March 2026) of closed
attendance records with overtime and a few missing days, and approved leave (every tenth
employee two unpaid days, every seventh one paid day). The figure is the wall time of
``apps.hr.services.payroll.payroll_run_compute``, the function the job runs, including
its writes (payslips and lines), and the number of SQL statements it sends, counted with a
connection execute wrapper. The baseline is one SQL pass aggregating the same attendance
rows (days present and overtime per employee), the one query the computation cannot do
without. The query count is compared between the two sizes: it must be the same.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from bench.common import BENCH_PASSWORD, Row, Section, log

SIZES = (1_000, 10_000)
MONTH = date(2026, 3, 1)
TODAY = date(2026, 4, 15)
WALL_GOAL_SECONDS = 60.0


def _tenant(schema_name: str) -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create

    if Tenant.objects.filter(schema_name=schema_name).exists():
        return
    template_ensure()
    tenant_create(
        schema_name=schema_name,
        name=f"Bench {schema_name}",
        domain=f"{schema_name.replace('_', '-')}.bench.localhost",
        admin_username="admin",
        admin_password=BENCH_PASSWORD,
        modules=["hr"],
    )


FILL_SQL = """
TRUNCATE hr_payslipline, hr_payslip, hr_payrollrun, hr_attendancerecord, hr_leaverequest,
    hr_shiftassignment, hr_salaryassignment, hr_salarystructure_components,
    hr_salarystructure, hr_salarycomponent, hr_leavetype, hr_shifttemplate CASCADE;
DELETE FROM hr_employee;

INSERT INTO hr_employee (id, created_at, updated_at, employee_number, first_name, last_name,
    email, phone, employment_start, work_time_zone, is_geofence_exempt)
SELECT gen_random_uuid(), now(), now(), 'B' || lpad(n::text, 6, '0'), 'First' || n,
    'Last' || n, '', '',
    CASE WHEN n % 25 = 0 THEN DATE '2026-03-16' ELSE DATE '2024-01-01' END, 'UTC', false
FROM generate_series(1, %(count)s) AS n;
UPDATE hr_employee SET employment_end = DATE '2026-03-20'
WHERE substr(employee_number, 2)::int % 40 = 1;

INSERT INTO hr_salarycomponent (id, created_at, updated_at, code, name, kind, calculation,
    amount, is_prorated, percentage, base_component_id, formula)
VALUES
    (gen_random_uuid(), now(), now(), 'housing', 'Housing', 'earning', 'fixed', 400, true,
     NULL, NULL, ''),
    (gen_random_uuid(), now(), now(), 'pension', 'Pension', 'deduction', 'percentage', NULL,
     true, 5, NULL, ''),
    (gen_random_uuid(), now(), now(), 'bonus', 'Bonus', 'earning', 'formula', NULL, true,
     NULL, NULL, 'min(base * 0.05, 150) + overtime_hours * 2');
INSERT INTO hr_salarystructure (id, created_at, updated_at, name, description)
VALUES (gen_random_uuid(), now(), now(), 'Standard', '');
INSERT INTO hr_salarystructure_components (salarystructure_id, salarycomponent_id)
SELECT s.id, c.id FROM hr_salarystructure s, hr_salarycomponent c;

INSERT INTO hr_salaryassignment (id, created_at, updated_at, employee_id, structure_id,
    base_pay, effective_from)
SELECT gen_random_uuid(), now(), now(), e.id, s.id,
    2000 + (substr(e.employee_number, 2)::int % 97) * 13.37, DATE '2024-01-01'
FROM hr_employee e, hr_salarystructure s;

INSERT INTO hr_shifttemplate (id, created_at, updated_at, name, start_time, end_time,
    break_minutes, grace_minutes)
VALUES (gen_random_uuid(), now(), now(), 'Day', '09:00', '17:00', 30, 5);
INSERT INTO hr_shiftassignment (id, created_at, updated_at, employee_id, shift_id, weekdays,
    valid_from)
SELECT gen_random_uuid(), now(), now(), e.id, t.id, ARRAY[0,1,2,3,4], DATE '2025-01-01'
FROM hr_employee e, hr_shifttemplate t;

INSERT INTO hr_attendancerecord (id, created_at, updated_at, employee_id, work_date, state,
    approval, check_in_at, punched_in_at, check_out_at, punched_out_at, worked_minutes,
    late_minutes, early_leave_minutes, overtime_minutes, needs_review)
SELECT gen_random_uuid(), now(), now(), e.id, d::date, 'closed', 'not_required',
    d + TIME '09:00', d + TIME '09:00', d + TIME '17:30', d + TIME '17:30', 480, 0, 0,
    (substr(e.employee_number, 2)::int % 4) * 15, false
FROM hr_employee e
CROSS JOIN generate_series(DATE '2026-03-01', DATE '2026-03-31', INTERVAL '1 day') AS d
WHERE extract(isodow FROM d) < 6
  AND (substr(e.employee_number, 2)::int + extract(day FROM d)::int) % 23 <> 0
  AND d::date >= e.employment_start
  AND (e.employment_end IS NULL OR d::date <= e.employment_end);

INSERT INTO hr_leavetype (id, created_at, updated_at, code, name, is_paid, tracks_balance,
    allows_negative_balance, allows_half_days, is_active)
VALUES (gen_random_uuid(), now(), now(), 'unpaid', 'Unpaid', false, false, false, true, true),
       (gen_random_uuid(), now(), now(), 'annual', 'Annual', true, true, false, true, true);
INSERT INTO hr_leaverequest (id, created_at, updated_at, employee_id, leave_type_id,
    starts_on, ends_on, start_half, end_half, days, reason, status, decision_note)
SELECT gen_random_uuid(), now(), now(), e.id, t.id, DATE '2026-03-24', DATE '2026-03-25',
    false, false, 2, '', 'approved', ''
FROM hr_employee e, hr_leavetype t
WHERE t.code = 'unpaid' AND substr(e.employee_number, 2)::int % 10 = 0;
INSERT INTO hr_leaverequest (id, created_at, updated_at, employee_id, leave_type_id,
    starts_on, ends_on, start_half, end_half, days, reason, status, decision_note)
SELECT gen_random_uuid(), now(), now(), e.id, t.id, DATE '2026-03-11', DATE '2026-03-11',
    false, false, 1, '', 'approved', ''
FROM hr_employee e, hr_leavetype t
WHERE t.code = 'annual' AND substr(e.employee_number, 2)::int % 7 = 0;
-- Only this tenant's filled tables: a bare ANALYZE would take a lock on every table of
-- every schema in one transaction, which runs out of lock slots after the deploy bench's
-- 200 tenants.
ANALYZE hr_employee, hr_attendancerecord, hr_leaverequest, hr_leavetype, hr_shifttemplate,
    hr_shiftassignment, hr_salarycomponent, hr_salarystructure,
    hr_salarystructure_components, hr_salaryassignment;
"""

BASELINE_SQL = """
SELECT employee_id, array_agg(DISTINCT work_date), sum(overtime_minutes)
FROM hr_attendancerecord
WHERE work_date BETWEEN %s AND %s AND approval <> 'rejected'
GROUP BY employee_id
"""


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _measure(count: int) -> dict[str, Any]:
    from django.db import connection

    from apps.core.tenancy import in_tenant
    from apps.hr.models import AttendanceRecord, PayrollRun, PayslipLine
    from apps.hr.services import payroll as services

    schema_name = f"bench_payroll_{count}"
    _tenant(schema_name)
    with in_tenant(schema_name):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL_SQL.replace("%(count)s", str(int(count))))
        fill_seconds = time.perf_counter() - started
        attendance_rows = AttendanceRecord.objects.count()
        log(f"payroll: {count} employees, {attendance_rows} attendance rows in {fill_seconds:.1f}s")

        # The baseline first, so both start with the same warm cache.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [MONTH, date(2026, 3, 31)])
            cursor.fetchall()
        baseline_seconds = time.perf_counter() - started

        run = PayrollRun.objects.create(period=MONTH)
        counter = _Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            computed = services.payroll_run_compute(run_id=run.pk, today=TODAY)
        seconds = time.perf_counter() - started

        recount = _Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(recount):
            services.payroll_run_compute(run_id=run.pk, today=TODAY)
        recompute_seconds = time.perf_counter() - started
        lines = PayslipLine.objects.filter(payslip__run=run).count()
    log(
        f"payroll: {count} employees computed in {seconds:.2f}s ({counter.count} queries), "
        f"recomputed in {recompute_seconds:.2f}s ({recount.count} queries), "
        f"baseline {baseline_seconds:.3f}s"
    )
    return {
        "count": count,
        "seconds": seconds,
        "recompute_seconds": recompute_seconds,
        "queries": counter.count,
        "recompute_queries": recount.count,
        "baseline_seconds": baseline_seconds,
        "attendance_rows": attendance_rows,
        "payslips": computed.employee_count,
        "lines": lines,
        "net_total": computed.net_total,
        "fill_seconds": fill_seconds,
    }


def section() -> Section:
    results = {count: _measure(count) for count in SIZES}
    small, large = results[SIZES[0]], results[SIZES[-1]]
    return Section(
        title="Payroll run",
        rows=[
            Row(
                benchmark=f"Payroll run, {large['count']:,} employees: wall time "
                "(vs one SQL pass over the attendance)",
                figure=large["seconds"],
                baseline=large["baseline_seconds"],
                unit="s",
                better="lower",
                goal=f"<= {WALL_GOAL_SECONDS:g} s",
                met=large["seconds"] <= WALL_GOAL_SECONDS,
                ratio=large["seconds"] / large["baseline_seconds"],
                ratio_label=f"{large['seconds'] / large['baseline_seconds']:.0f}x",
            ),
            Row(
                benchmark=f"Payroll run, {small['count']:,} employees: wall time",
                figure=small["seconds"],
                baseline=small["baseline_seconds"],
                unit="s",
                better="lower",
                goal=f"<= {WALL_GOAL_SECONDS:g} s",
                met=small["seconds"] <= WALL_GOAL_SECONDS,
                ratio=small["seconds"] / small["baseline_seconds"],
                ratio_label=f"{small['seconds'] / small['baseline_seconds']:.0f}x",
            ),
            Row(
                benchmark=f"Payroll run: SQL statements at {large['count']:,} employees "
                f"(baseline: at {small['count']:,})",
                figure=float(large["queries"]),
                baseline=float(small["queries"]),
                unit="queries",
                better="lower",
                goal="the same at both sizes",
                met=large["queries"] == small["queries"],
                ratio=large["queries"] / small["queries"],
                ratio_label=f"{large['queries'] / small['queries']:.2f}",
            ),
        ],
        how=" ".join((__doc__ or "").split("\n\n")[2:]).strip().replace("\n", " "),
        notes=[
            f"{r['count']:,} employees: {r['attendance_rows']:,} attendance rows, "
            f"{r['payslips']:,} payslips, {r['lines']:,} lines, net total {r['net_total']}; "
            f"computed in {r['seconds']:.2f} s with {r['queries']} statements, recomputed "
            f"in {r['recompute_seconds']:.2f} s with {r['recompute_queries']}; data built "
            f"in {r['fill_seconds']:.1f} s."
            for r in results.values()
        ],
    )


def main() -> int:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    for row in section().rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
