import signal

from django.core.management.base import BaseCommand

from apps.jobs.dispatch import relay_forever, relay_pending


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Send outbox messages the broker could not take at commit time (loops by default)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round, then exit.")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, **options):
        if options["once"]:
            self.stdout.write(f"sent {relay_pending()}")
            return
        signal.signal(signal.SIGTERM, _stop)
        try:
            relay_forever(interval=options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("outbox relay stopped")
