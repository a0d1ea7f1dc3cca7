"""Demo HR data for one tenant: departments, positions, two offices, ~50 employees."""

from django.core.management.base import BaseCommand, CommandError

from apps.hr.demo import hr_demo_seed
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Seed demo departments, locations and employees into a tenant (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="The tenant's schema name.")

    def handle(self, *args, **options):
        schema_name = options["schema"]
        if not Tenant.objects.filter(schema_name=schema_name, kind=Tenant.Kind.BUSINESS).exists():
            raise CommandError(f"No business tenant with schema {schema_name!r}.")
        result = hr_demo_seed(schema_name=schema_name)
        # Silent when there was nothing to add, like seed_demo on a seeded platform.
        if result.created or options["verbosity"] > 1:
            self.stdout.write(
                f"hr demo for {schema_name}: {result.created} rows created, "
                f"{result.employees} employees"
            )
