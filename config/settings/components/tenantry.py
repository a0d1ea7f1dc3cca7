# Business modules a tenant can switch on. A module's routes, admin pages and scheduled work
# exist for a tenant only while its switch is on.
TENANTRY_MODULES = {
    "hr": "Human resources: employees, attendance, leave, payroll",
    "pipeline": "Pipeline monitoring: assets, sensors, leaks, incidents",
    "healthcare": "Healthcare: patients, outpatient, inpatient, billing",
    "property": "Property management",
    "crm": "CRM campaigns",
    "commerce": "Commerce and inventory",
}

# Failed logins per (tenant, username) before the login answers 429, and the window.
TENANTRY_LOGIN_MAX_FAILURES = 5
TENANTRY_LOGIN_FAILURE_WINDOW_SECONDS = 900

# Idempotency-Key records are kept this long per tenant.
TENANTRY_IDEMPOTENCY_TTL_SECONDS = 24 * 3600

# Hostname -> tenant lookups are cached this long (and invalidated on every domain change).
TENANTRY_DOMAIN_CACHE_SECONDS = 300
