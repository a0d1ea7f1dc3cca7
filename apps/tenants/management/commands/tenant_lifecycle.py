from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.tenants import services
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Suspend, reactivate, soft-delete or hard-delete (drop the schema of) a tenant."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["suspend", "reactivate", "delete", "hard-delete"])
        parser.add_argument("schema_name")
        parser.add_argument(
            "--confirm", default="", help="hard-delete only: repeat the schema name."
        )

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(
            schema_name=options["schema_name"], kind=Tenant.Kind.BUSINESS
        ).first()
        if tenant is None:
            raise CommandError(f"No tenant with schema {options['schema_name']!r}.")
        try:
            match options["action"]:
                case "suspend":
                    services.tenant_suspend(tenant=tenant)
                case "reactivate":
                    services.tenant_reactivate(tenant=tenant)
                case "delete":
                    services.tenant_soft_delete(tenant=tenant)
                case "hard-delete":
                    services.tenant_hard_delete(
                        tenant=tenant, confirm_schema_name=options["confirm"]
                    )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(f"{options['action']}: {tenant.schema_name} done")
