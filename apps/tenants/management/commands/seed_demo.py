"""Seed the demo platform; safe to run on every `make run`.

Operator ``operator`` on the bare host, and three tenants each with ``admin``:
clinic.localhost (healthcare), staffco.localhost (hr), waterworks.localhost (pipeline).
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.core import tenancy
from apps.tenants.models import Tenant
from apps.tenants.services import public_tenant_ensure, template_ensure, tenant_create

DEMO_PASSWORD = "tenantry-demo"  # noqa: S105 - published demo credentials
DEMO_TENANTS = [
    ("clinic", "Riverside Clinic", ["healthcare"], "Europe/London"),
    ("staffco", "StaffCo Services", ["hr"], "America/New_York"),
    ("waterworks", "Waterworks Utility", ["pipeline"], "Africa/Nairobi"),
]


class Command(BaseCommand):
    help = "Create the demo operator and tenants (idempotent)."

    def handle(self, *args, **options):
        from apps.accounts.models import User

        base = settings.TENANTRY_BASE_DOMAIN
        public_tenant_ensure(domain=base)
        with tenancy.in_public():
            if not User.objects.filter(username="operator").exists():
                User.objects.create_superuser(
                    username="operator", email="operator@example.test", password=DEMO_PASSWORD
                )
        template_ensure()
        for schema_name, name, modules, time_zone in DEMO_TENANTS:
            if Tenant.objects.filter(schema_name=schema_name).exists():
                continue
            result = tenant_create(
                schema_name=schema_name,
                name=name,
                domain=f"{schema_name}.{base}",
                admin_username="admin",
                admin_password=DEMO_PASSWORD,
                admin_email=f"admin@{schema_name}.example.test",
                modules=modules,
                time_zone=time_zone,
            )
            self.stdout.write(f"created {schema_name} in {result.seconds:.2f}s")
        # People and places for the hr demo; the command is idempotent, so it runs on
        # every seed and fills a staffco created before the hr module had demo data.
        call_command("seed_hr_demo", schema="staffco", stdout=self.stdout)
        # The water network, teams and a day of readings for the pipeline demo; the
        # simulated feed (`make run`'s "feed" process) posts live readings on top.
        call_command("seed_pipeline_demo", schema="waterworks", stdout=self.stdout)
