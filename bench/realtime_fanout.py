"""Realtime fan-out: publish -> websocket receive latency, 1,000 clients over 10 tenants.

One uvicorn (``config.asgi:application``, one worker) serves ``/ws/events/``. Client
processes (``python -m bench.realtime_fanout client``, asyncio + websockets) open the
websockets with each user's JWT on its tenant's host. This process publishes through
``apps.realtime.publish.publish_event(..., to_tenant=True)``, the path services use, and
every event carries its wall-clock send time; clients record receive - send.

Baseline, same run, same publisher, same groups, same number of receivers: the channel
layer alone. The server is stopped, and the receiver processes join each receiver's
channel to its tenant's group and read it with ``channel_layer.receive`` (no consumer,
no websocket, no uvicorn). The difference is the cost of the websocket path.

    python -m bench.realtime_fanout     # run() as JSON; bench.run_all calls section()

Environment: BENCH_WS_CLIENTS (1000), BENCH_WS_TENANTS (10), BENCH_WS_EVENTS events per
tenant (10), BENCH_WS_RATE events per second over all tenants (10),
BENCH_WS_PROCESSES client processes (2).
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import BENCH_PASSWORD, PYTHON, ROOT, Row, Section, child_env, free_port, log
from config.devstack import uvicorn_command

GOAL_P99_MS = 100.0
SCHEMA_PREFIX = "bench_rt_"
WARMUP_EVENTS = 2
CONNECT_CONCURRENCY = 50
# Every phase is bounded; the whole benchmark stays well under two minutes.
READY_TIMEOUT = 60.0
DRAIN_SECONDS = 10.0


def _settings() -> dict[str, Any]:
    return {
        "clients": int(os.environ.get("BENCH_WS_CLIENTS", "1000")),
        "tenants": int(os.environ.get("BENCH_WS_TENANTS", "10")),
        "events": int(os.environ.get("BENCH_WS_EVENTS", "10")),
        "rate": float(os.environ.get("BENCH_WS_RATE", "10")),
        "processes": int(os.environ.get("BENCH_WS_PROCESSES", "2")),
    }


def _schema(index: int) -> str:
    return f"{SCHEMA_PREFIX}{index:02d}"


def _host(schema_name: str) -> str:
    return f"{schema_name.replace('_', '-')}.localhost"


# --- data --------------------------------------------------------------------------------


def _seed(*, tenants: int, users_per_tenant: int) -> dict[str, list[str]]:
    """Tenants (cloned) with their users; an access token per user, by schema."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import User
    from apps.core import tenancy
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    tokens: dict[str, list[str]] = {}
    for index in range(tenants):
        schema_name = _schema(index)
        if not Tenant.objects.filter(schema_name=schema_name).exists():
            tenant_create(
                schema_name=schema_name,
                name=f"Bench realtime {index}",
                domain=_host(schema_name),
                admin_username="benchadmin",
                admin_password=BENCH_PASSWORD,
            )
        with tenancy.in_tenant(schema_name):
            _users_ensure(users_per_tenant)
            users = User.objects.filter(username__startswith="rt").order_by("username")
            tokens[schema_name] = []
            for user in users[:users_per_tenant]:
                refresh = RefreshToken.for_user(user)
                refresh["tenant"] = schema_name
                tokens[schema_name].append(str(refresh.access_token))
    return tokens


def _users_ensure(count: int) -> None:
    """``count`` users in the current tenant, every other one with the staff role. Bulk
    inserts: a thousand user_create() calls would take most of the time budget."""
    from apps.accounts.models import Role, User

    ours = User.objects.filter(username__startswith="rt")
    existing = set(ours.values_list("username", flat=True))
    new_users = []
    for number in range(count):
        username = f"rt{number:04d}"
        if username not in existing:
            user = User(username=username, email=f"{username}@example.test")
            user.set_unusable_password()
            new_users.append(user)
    User.objects.bulk_create(new_users)
    staff = Role.objects.get(slug="staff")
    memberships = User.roles.through
    memberships.objects.bulk_create(
        [
            memberships(user_id=user.pk, role_id=staff.pk)
            for user in new_users
            if int(user.username[2:]) % 2
        ]
    )


def _drop(tenants: int) -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_hard_delete, tenant_soft_delete

    for index in range(tenants):
        tenant = Tenant.objects.filter(schema_name=_schema(index)).first()
        if tenant is None:
            continue
        if tenant.status != Tenant.Status.DELETED:
            tenant = tenant_soft_delete(tenant=tenant)
        tenant_hard_delete(tenant=tenant, confirm_schema_name=tenant.schema_name)


# --- processes ---------------------------------------------------------------------------


class _Child:
    """A client process speaking one JSON line per message on stdout."""

    def __init__(self, mode: str, spec: dict[str, Any], spec_dir: Path, index: int) -> None:
        spec_path = spec_dir / f"{mode}-{index}.json"
        spec_path.write_text(json.dumps(spec))
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.realtime_fanout", "client", mode, str(spec_path)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put(None)

    def expect(self, kind: str, timeout: float) -> dict[str, Any]:
        try:
            message = self.lines.get(timeout=timeout)
        except queue.Empty:
            message = None
        if message is None or message.get("kind") != kind:
            self.stop()
            stderr = self.process.stderr.read()[-3000:] if self.process.stderr else ""
            raise RuntimeError(f"client process: expected {kind}, got {message!r}\n{stderr}")
        return message

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def _server(log_dir: Path) -> Iterator[tuple[int, int]]:
    import http.client

    port = free_port()
    log_path = log_dir / "uvicorn.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            uvicorn_command(port=port, python=PYTHON),
            cwd=ROOT,
            env=child_env(DJANGO_SETTINGS_MODULE="config.settings.test"),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{log_path.read_text()[-3000:]}")
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request(
                        "GET", "/api/v1/health/", headers={"Host": _host(_schema(0))}
                    )
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not ready:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield port, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _publish_all(schemas: list[str], *, events: int, rate: float) -> float:
    """Warm-up events, then ``events`` per tenant, round robin at ``rate`` per second.
    Returns the seconds the measured publishing took."""
    from apps.core import tenancy
    from apps.realtime.publish import publish_event

    def publish(schema_name: str, seq: int, warmup: bool) -> None:
        with tenancy.in_tenant(schema_name):
            publish_event(
                event_type="bench.tick",
                payload={"seq": seq, "warmup": warmup, "sent_at": time.time()},
                to_tenant=True,
            )

    for seq in range(WARMUP_EVENTS):
        for schema_name in schemas:
            publish(schema_name, seq, True)
        time.sleep(0.2)
    time.sleep(0.5)
    interval = 1.0 / rate
    started = next_at = time.perf_counter()
    for seq in range(events):
        for schema_name in schemas:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            publish(schema_name, seq, False)
            next_at += interval
    return time.perf_counter() - started


def _phase(
    mode: str,
    tokens: dict[str, list[str]],
    *,
    processes: int,
    events: int,
    rate: float,
    spec_dir: Path,
    port: int | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    clients = [(schema, token) for schema, items in tokens.items() for token in items]
    slices = [clients[index::processes] for index in range(processes)]
    wait_seconds = WARMUP_EVENTS * 0.2 + 0.5 + events * len(tokens) / rate + DRAIN_SECONDS
    children = [
        _Child(
            mode,
            {
                "port": port,
                "clients": [[schema, _host(schema), token] for schema, token in part],
                "expected": WARMUP_EVENTS + events,
                "wait_seconds": wait_seconds,
            },
            spec_dir,
            index,
        )
        for index, part in enumerate(slices)
    ]
    try:
        started = time.perf_counter()
        ready = [child.expect("ready", READY_TIMEOUT) for child in children]
        connect_seconds = time.perf_counter() - started
        cpu_before = _cpu_seconds(server_pid)
        publish_seconds = _publish_all(list(tokens), events=events, rate=rate)
        results = [child.expect("result", wait_seconds + 15) for child in children]
        server_cpu = _cpu_seconds(server_pid) - cpu_before
    finally:
        for child in children:
            child.stop()
    latencies = [value for result in results for value in result["latencies_ms"]]
    connect_ms = [value for r in ready for value in r.get("connect_ms", [])]
    return {
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": _rounded(max(latencies, default=None)),
        "expected": len(clients) * events,
        "received": len(latencies),
        "wrong_tenant": sum(result["wrong_tenant"] for result in results),
        "connected": sum(r["connected"] for r in ready),
        "connect_failures": sum(r["failures"] for r in ready),
        "connect_seconds": round(connect_seconds, 2),
        "handshake_p50_ms": _percentile(connect_ms, 0.50),
        "handshake_p99_ms": _percentile(connect_ms, 0.99),
        "publish_seconds": round(publish_seconds, 2),
        # Includes the warm-up deliveries, which the server handled in the same window.
        "server_cpu_us_per_delivery": round(
            server_cpu * 1e6 / max(len(clients) * (events + WARMUP_EVENTS), 1)
        )
        if server_pid
        else None,
    }


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return _rounded(ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))])


def run() -> dict[str, Any]:
    """Seed, measure the websocket path, then the baseline; drop the tenants."""
    config = _settings()
    tenants = config["tenants"]
    users_per_tenant = config["clients"] // tenants
    started = time.perf_counter()
    tokens = _seed(tenants=tenants, users_per_tenant=users_per_tenant)
    log(
        f"realtime: {tenants} tenants x {users_per_tenant} users with tokens in "
        f"{time.perf_counter() - started:.1f}s"
    )
    shape = {k: config[k] for k in ("processes", "events", "rate")}
    try:
        with tempfile.TemporaryDirectory(prefix="tenantry-bench-ws-") as directory:
            spec_dir = Path(directory)
            with _server(spec_dir) as (port, pid):
                websocket = _phase(
                    "websocket", tokens, spec_dir=spec_dir, port=port, server_pid=pid, **shape
                )
            log(
                f"realtime: websocket phase: {websocket['received']}/{websocket['expected']} "
                f"received, {websocket['connected']} connected in "
                f"{websocket['connect_seconds']:.1f}s"
            )
            layer = _phase("layer", tokens, spec_dir=spec_dir, **shape)
            log(f"realtime: layer phase: {layer['received']}/{layer['expected']} received")
    finally:
        _drop(tenants)
    complete = (
        websocket["received"] == websocket["expected"]
        and websocket["wrong_tenant"] == 0
        and websocket["connect_failures"] == 0
    )
    return {
        **config,
        "warmup_events": WARMUP_EVENTS,
        "websocket": websocket,
        "baseline": layer,
        "goal_p99_ms": GOAL_P99_MS,
        "goal_met": complete
        and websocket["p99_ms"] is not None
        and websocket["p99_ms"] <= GOAL_P99_MS,
    }


def section() -> Section:
    """``run()`` in bench.run_all's table shape."""
    result = run()
    websocket, layer = result["websocket"], result["baseline"]
    ws_p50, ws_p99 = websocket["p50_ms"], websocket["p99_ms"]
    base_p50, base_p99 = layer["p50_ms"], layer["p99_ms"]
    config = result

    def ratio(figure: float | None, baseline: float | None) -> tuple[float | None, str]:
        if not figure or not baseline:
            return None, "-"
        return figure / baseline, f"{figure / baseline:.1f}x"

    p50_ratio, p50_label = ratio(ws_p50, base_p50)
    p99_ratio, p99_label = ratio(ws_p99, base_p99)
    clients = websocket["expected"] // max(config["events"], 1)
    rows = [
        Row(
            benchmark=f"Realtime publish -> receive p99, {clients} websockets / "
            f"{config['tenants']} tenants",
            figure=ws_p99,
            baseline=base_p99,
            unit="ms",
            better="lower",
            goal=f"<= {GOAL_P99_MS:.0f} ms, every event delivered",
            met=result["goal_met"],
            ratio=p99_ratio,
            ratio_label=p99_label,
        ),
        Row(
            benchmark="Realtime publish -> receive p50",
            figure=ws_p50,
            baseline=base_p50,
            unit="ms",
            better="lower",
            goal="- (informational)",
            met=None,
            ratio=p50_ratio,
            ratio_label=p50_label,
        ),
        Row(
            benchmark="Realtime: uvicorn CPU per delivered event",
            figure=websocket["server_cpu_us_per_delivery"],
            baseline=None,
            unit="us",
            better="lower",
            goal="- (informational)",
            met=None,
            ratio_label="-",
        ),
        Row(
            benchmark=f"Realtime: open {clients} authenticated websockets",
            figure=websocket["connect_seconds"],
            baseline=None,
            unit="s",
            better="lower",
            goal="- (informational)",
            met=None,
            ratio_label="-",
        ),
    ]
    notes = [
        f"Websocket path: {websocket['received']} of {websocket['expected']} measured "
        f"deliveries arrived; {websocket['wrong_tenant']} carried another tenant's events; "
        f"{websocket['connect_failures']} handshakes failed; max {websocket['max_ms']} ms.",
        f"Handshakes ({CONNECT_CONCURRENCY} at a time per client process, so mostly "
        "queueing; tenant lookup, JWT check and role lookup inside the tenant's schema): "
        f"p50 {websocket['handshake_p50_ms']} ms, p99 {websocket['handshake_p99_ms']} ms.",
        f"Baseline (channel layer only): {layer['received']} of {layer['expected']} "
        f"deliveries; max {layer['max_ms']} ms.",
        f"Publishing took {websocket['publish_seconds']:.1f} s (websocket phase) and "
        f"{layer['publish_seconds']:.1f} s (baseline) for "
        f"{config['events'] * config['tenants']} events.",
    ]
    how = (
        f"{config['tenants']} cloned tenants with {clients // config['tenants']} users each "
        "(every other one with the `staff` role), an access token per user. One uvicorn "
        "(`config.asgi:application`, one worker, `config.settings.test`) on 127.0.0.1; "
        f"{config['processes']} client processes (asyncio + websockets) open one websocket "
        "per user on its tenant's host (`Sec-WebSocket-Protocol: tenantry.jwt, <token>`). "
        f"This process then publishes {WARMUP_EVENTS} unmeasured warm-up events and "
        f"{config['events']} measured events per tenant, round robin over the tenants at "
        f"{config['rate']:g} events/s in all, each with `publish_event(..., to_tenant=True)` "
        "(on commit, through the Redis channel layer); every client receives every event "
        "of its tenant. Latency = receive time in the client process - wall-clock time "
        "taken right before `publish_event`, over all deliveries. Baseline, same run: the "
        "server stopped, the same number of receivers in the same client processes join "
        "the same groups with `channel_layer.group_add` and read with "
        "`channel_layer.receive`, and the same publisher sends the same events: the "
        "channel layer without consumer, websocket and uvicorn. Ratio = websocket / "
        "baseline. The tenants are dropped afterwards."
    )
    return Section(title="Realtime fan-out", rows=rows, how=how, notes=notes)


# --- client processes --------------------------------------------------------------------


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _consume(receive: Any, schema_name: str, expected: int, sink: dict[str, Any]) -> None:
    got = 0
    while got < expected:
        event = await receive()
        received_at = time.time()
        if event.get("tenant") != schema_name:
            sink["wrong_tenant"] += 1
            continue
        got += 1
        payload = event["payload"]
        if not payload["warmup"]:
            sink["latencies_ms"].append((received_at - payload["sent_at"]) * 1000)


async def _until(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _websocket_client(spec: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect

    port = spec["port"]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connect_ms: list[float] = []

    async def open_one(host: str, token: str) -> Any:
        async with gate:
            started = time.perf_counter()
            connection = await connect(
                f"ws://{host}:{port}/ws/events/",
                host="127.0.0.1",
                port=port,
                proxy=None,
                origin=f"http://{host}:{port}",
                subprotocols=["tenantry.jwt", token],
                open_timeout=30,
                ping_interval=None,
            )
            connect_ms.append((time.perf_counter() - started) * 1000)
            return connection

    opened = await asyncio.gather(
        *(open_one(host, token) for _, host, token in spec["clients"]), return_exceptions=True
    )
    live = [
        (schema, connection)
        for (schema, _, _), connection in zip(spec["clients"], opened, strict=True)
        if not isinstance(connection, BaseException)
    ]
    _emit(
        {
            "kind": "ready",
            "connected": len(live),
            "failures": len(opened) - len(live),
            "connect_ms": connect_ms,
        }
    )
    sink: dict[str, Any] = {"latencies_ms": [], "wrong_tenant": 0}

    def receiver(connection: Any) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def receive() -> dict[str, Any]:
            return json.loads(await connection.recv())

        return receive

    tasks = [
        asyncio.create_task(_consume(receiver(connection), schema, spec["expected"], sink))
        for schema, connection in live
    ]
    await _until(tasks, spec["wait_seconds"])
    await asyncio.gather(
        *(asyncio.wait_for(connection.close(), 5) for _, connection in live),
        return_exceptions=True,
    )
    _emit({"kind": "result", **sink})


async def _layer_client(spec: dict[str, Any]) -> None:
    import django

    django.setup()
    from channels.layers import get_channel_layer

    from apps.realtime.publish import tenant_group

    layer = get_channel_layer()
    members = []
    for schema_name, _, _ in spec["clients"]:
        channel = await layer.new_channel()
        await layer.group_add(tenant_group(schema_name), channel)
        members.append((schema_name, channel))
    _emit({"kind": "ready", "connected": len(members), "failures": 0})
    sink: dict[str, Any] = {"latencies_ms": [], "wrong_tenant": 0}

    def receiver(channel: str) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def receive() -> dict[str, Any]:
            return (await layer.receive(channel))["event"]

        return receive

    tasks = [
        asyncio.create_task(_consume(receiver(channel), schema, spec["expected"], sink))
        for schema, channel in members
    ]
    await _until(tasks, spec["wait_seconds"])
    for schema_name, channel in members:
        await layer.group_discard(tenant_group(schema_name), channel)
    _emit({"kind": "result", **sink})


def _client_main(mode: str, spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    client = _websocket_client if mode == "websocket" else _layer_client
    asyncio.run(client(spec))


def _standalone() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.tenants.services import public_tenant_ensure

    call_command("migrate_tenants", verbosity=0)
    public_tenant_ensure(domain="localhost")
    print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        _client_main(sys.argv[2], sys.argv[3])
    else:
        sys.exit(_standalone())
