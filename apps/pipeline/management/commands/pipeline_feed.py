"""The simulated feed of the demo: every gateway posts its sensors' readings to the ingest
API over HTTP, like a field device, and after ``--leak-after`` seconds one DMA leaks.

The readings come from ``apps.pipeline.demo`` (pure functions); this command only issues
the device keys, posts the batches and waits for the web server when it is not up yet.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.pipeline import demo
from apps.tenants.models import Domain, Tenant

INGEST_PATH = "/api/v1/pipeline/ingest/"
MAX_BACKOFF_SECONDS = 30.0
# How often a summary line is printed (every tick at verbosity 2).
SUMMARY_EVERY = timedelta(minutes=5)
# Answers worth trying again: the server is starting, restarting or overloaded.
RETRY_STATUSES = {502, 503, 504}


class ServerDown(Exception):
    pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Post simulated readings of the demo network to the ingest API, with a leak."

    def add_arguments(self, parser):
        parser.add_argument("--schema", default="waterworks", help="The tenant's schema name.")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--interval", type=float, default=15.0, help="Seconds between batches.")
        parser.add_argument(
            "--leak-after",
            type=float,
            default=120.0,
            help="Seconds after the start when the leak begins (negative: no leak).",
        )
        parser.add_argument(
            "--leak-zone", default=None, help="The leaking DMA's code (default: chosen)."
        )
        parser.add_argument("--once", action="store_true", help="Post one round and stop.")
        parser.add_argument(
            "--idle-on-error",
            action="store_true",
            help="On a setup problem (no tenant, no devices), say so and idle until stopped "
            "instead of exiting: `make run` stops every process when one exits.",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=None,
            help="Give up when the server has not answered for this many seconds "
            "(default: never; 60 with --once).",
        )

    def handle(self, *args, **options):
        # Both stop the feed cleanly, also when started in the background of a shell,
        # which would leave SIGINT ignored.
        previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._run(options)
        except CommandError as error:
            if not options["idle_on_error"] or options["once"]:
                raise
            self._say(error=True, message=f"feed: {error} The feed is idle.")
            try:
                signal.pause()
            except KeyboardInterrupt:
                self._say("feed: stopped")
        except KeyboardInterrupt:
            self._say("feed: stopped")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _say(self, message: str = "", *, error: bool = False) -> None:
        """One line, flushed at once: under `make run` the output is a pipe, and a line
        about the leak is no use minutes later."""
        out = self.stderr if error else self.stdout
        out.write(message)
        out.flush()

    # --- setup ---------------------------------------------------------------------------------

    def _setup(self, schema_name: str, leak_zone: str | None):
        from apps.accounts.models import User
        from apps.accounts.selectors import actor_for_user

        tenant = Tenant.objects.filter(schema_name=schema_name, kind=Tenant.Kind.BUSINESS).first()
        if tenant is None:
            raise CommandError(f"No business tenant with schema {schema_name!r}.")
        domain = Domain.objects.filter(tenant=tenant).order_by("-is_primary").first()
        if domain is None:
            raise CommandError(f"Tenant {schema_name!r} has no domain to post to.")
        with in_tenant(schema_name):
            sensors = demo.feed_sensors_by_device()
            if not sensors:
                raise CommandError(
                    f"No devices with sensors in {schema_name!r}: run seed_pipeline_demo first."
                )
            zones = {sensor.zone_code for rows in sensors.values() for sensor in rows}
            zone = demo.leak_zone_choose(zones, leak_zone)
            if zone not in zones:
                raise CommandError(
                    f"No sensors in zone {zone!r} to leak; one of: {', '.join(sorted(zones))}."
                )
            admin = (
                User.objects.filter(roles__slug="tenant_admin", is_active=True)
                .order_by("date_joined")
                .first()
            )
            actor = actor_for_user(user=admin)
            keys = {code: self._key_for(code, actor) for code in sensors}
        return tenant.time_zone, domain.domain, sensors, keys, zone

    @staticmethod
    def _key_for(device_code: str, actor) -> str:
        """A fresh key for the device (the raw key is never printed). A previous run's
        key stays usable for an hour at most; only the feed uses these devices' keys."""
        from apps.pipeline.models import Device
        from apps.pipeline.services import ingestion

        device = Device.objects.get(code=device_code)
        _, raw_key = ingestion.device_key_rotate(actor=actor, device=device, grace_hours=1)
        return raw_key

    # --- the loop ------------------------------------------------------------------------------

    def _run(self, options) -> None:
        time_zone, host, sensors, keys, leak_zone = self._setup(
            options["schema"], options["leak_zone"]
        )
        # No database work from here on: give the connection back while the loop runs
        # (not inside a caller's transaction, e.g. a test's).
        if not connection.in_atomic_block:
            connection.close()
        url = options["base_url"].rstrip("/") + INGEST_PATH
        started = timezone.now().replace(microsecond=0)
        leak = None
        if options["leak_after"] >= 0:
            leak = demo.Leak(
                zone_code=leak_zone, starts_at=started + timedelta(seconds=options["leak_after"])
            )
        wait = options["wait"]
        if wait is None and options["once"]:
            wait = 60.0
        count = sum(len(rows) for rows in sensors.values())
        self._say(
            f"feed: {count} sensors on {len(sensors)} gateways -> {host} ({url}), "
            f"every {options['interval']:g} s"
            + (
                f"; leak in {leak.zone_code} at "
                f"{leak.starts_at.astimezone(ZoneInfo(time_zone)):%H:%M:%S} ({time_zone})"
                if leak
                else ""
            )
        )
        self.leak_announced = False
        self.last_error: dict[str, tuple] = {}
        self.totals = {"accepted": 0, "rejected": 0, "duplicates": 0}
        self.last_summary = time.monotonic()
        next_tick = time.monotonic()
        while True:
            at = timezone.now().replace(microsecond=0)
            if leak and not self.leak_announced and at >= leak.starts_at:
                self.leak_announced = True
                self._say(
                    f"feed: leak started in {leak.zone_code}: pressure "
                    f"-{(1 - demo.LEAK_PRESSURE_FACTOR) * 100:.0f} %, inflow "
                    f"+{(demo.LEAK_INFLOW_FACTOR - 1) * 100:.0f} %, consumption unchanged"
                )
            for device_code, device_sensors in sensors.items():
                batch = demo.feed_batch(
                    device_code, device_sensors, at, time_zone=time_zone, leak=leak
                )
                self._post_until_answered(
                    url,
                    device_code=device_code,
                    host=host,
                    key=keys[device_code],
                    batch=batch,
                    wait=wait,
                    options=options,
                )
            self._summary(options, at)
            if options["once"]:
                return
            next_tick += options["interval"]
            time.sleep(max(0.0, next_tick - time.monotonic()))
            next_tick = max(next_tick, time.monotonic())

    def _summary(self, options, at) -> None:
        due = time.monotonic() - self.last_summary >= SUMMARY_EVERY.total_seconds()
        if options["once"] or options["verbosity"] > 1 or due:
            self.last_summary = time.monotonic()
            self._say(
                f"feed: {at:%H:%M:%S} UTC totals: "
                + ", ".join(f"{value} {name}" for name, value in self.totals.items())
            )

    def _post_until_answered(self, url, *, device_code, host, key, batch, wait, options):
        """Post one batch; while the server is down, retry the same batch (same id: a
        repeat is a replay) with a growing pause."""
        backoff = 1.0
        down_since = None
        while True:
            try:
                status, body = _post(url, host=host, key=key, batch=batch)
            except ServerDown as error:
                now = time.monotonic()
                if down_since is None:
                    down_since = now
                    self._say(f"feed: waiting for the web server at {url} ({error})")
                if wait is not None and now - down_since >= wait:
                    raise CommandError(
                        f"The web server did not answer within {wait:g} s."
                    ) from error
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if down_since is not None:
                self._say("feed: the web server answers; posting")
            break
        if status in {200, 201}:  # 200: a replay of a batch that did arrive before
            self.last_error.pop(device_code, None)
            if body.get("replayed"):
                return
            for name in self.totals:
                self.totals[name] += int(body.get(name, 0))
            if body.get("rejected"):
                first = (body.get("rejections") or [{}])[0]
                self._say(
                    f"feed: {batch['batch_id']}: {body['rejected']} rejected "
                    f"(first: {first.get('code', '?')} {first.get('message', '')})"
                )
            return
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if options["once"]:
            raise CommandError(
                f"The ingest API answered {status} {error.get('code', '')}: "
                f"{error.get('message', '')}"
            )
        # Said once per device and kind of answer, not every tick.
        if self.last_error.get(device_code) == (status, error.get("code")):
            return
        self.last_error[device_code] = (status, error.get("code"))
        self._say(
            error=True,
            message=f"feed: {batch['batch_id']} answered {status} "
            f"{error.get('code', '')} {error.get('message', '')}".rstrip(),
        )


def _post(url: str, *, host: str, key: str, batch: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's --base-url
        url,
        data=json.dumps(batch).encode(),
        method="POST",
        headers={
            "Host": host,
            "Content-Type": "application/json",
            "Authorization": f"DeviceKey {key}",
        },
    )
    # No proxies: the demo server is on this machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        if error.code in RETRY_STATUSES:
            raise ServerDown(f"HTTP {error.code}") from error
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise ServerDown(str(reason)) from error
