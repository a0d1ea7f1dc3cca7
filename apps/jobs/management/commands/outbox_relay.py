from django.core.management.base import BaseCommand

from apps.jobs.dispatch import relay_forever, relay_pending


class Command(BaseCommand):
    help = "Send outbox messages the broker could not take at commit time (loops by default)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round, then exit.")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, **options):
        if options["once"]:
            self.stdout.write(f"sent {relay_pending()}")
            return
        relay_forever(interval=options["interval"])
