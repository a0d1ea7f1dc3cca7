import getpass

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant: schema cloned from the template, primary domain, first admin."

    def add_arguments(self, parser):
        parser.add_argument("schema_name")
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument("--admin-email", default="")
        parser.add_argument(
            "--admin-password", help="Asked for interactively when not given (never logged)."
        )
        parser.add_argument("--module", action="append", default=[], dest="modules")
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--method", choices=["clone", "migrate"], default="clone")

    def handle(self, *args, **options):
        password = options["admin_password"] or getpass.getpass("Admin password: ")
        try:
            result = tenant_create(
                schema_name=options["schema_name"],
                name=options["name"],
                domain=options["domain"],
                admin_username=options["admin_username"],
                admin_password=password,
                admin_email=options["admin_email"],
                modules=options["modules"],
                time_zone=options["time_zone"],
                method=options["method"],
            )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message} {error.details}") from error
        self.stdout.write(
            f"Created {result.tenant.schema_name} at {options['domain']} "
            f"by {result.method} in {result.seconds:.2f}s"
        )
