"""Demo pipeline data for one tenant: Nairobi's network, teams, rules and a day of readings."""

from django.core.management.base import BaseCommand, CommandError

from apps.pipeline.demo import pipeline_demo_seed
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Seed the demo water network, field teams, people, detection rules, escalation "
        "policies and recent readings into a tenant (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", default="waterworks", help="The tenant's schema name.")

    def handle(self, *args, **options):
        schema_name = options["schema"]
        if not Tenant.objects.filter(schema_name=schema_name, kind=Tenant.Kind.BUSINESS).exists():
            raise CommandError(f"No business tenant with schema {schema_name!r}.")
        result = pipeline_demo_seed(schema_name=schema_name)
        # Silent when there was nothing to add, like seed_demo on a seeded platform (a
        # top-up of readings since the last run is not worth a line).
        if result.created or options["verbosity"] > 1:
            self.stdout.write(
                f"pipeline demo for {schema_name}: {result.created} rows created, "
                f"{result.assets} assets, {result.sensors} sensors, "
                f"{result.readings} readings added"
            )
