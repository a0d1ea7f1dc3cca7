"""A real uvicorn serving config.asgi on loopback, and real websocket clients for it.

The server is another process reading pytest-django's test database, so whatever it
must see has to be committed: the alpha and beta personas are; tests that need more
write with the ``db`` fixture below (autocommit) and remove what they wrote.

Websocket clients live on an event loop in a background thread, so the test body stays
synchronous and can use the ORM and ``publish_event`` (which calls async_to_sync) freely.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from config.devstack import uvicorn_command

ROOT = Path(__file__).resolve().parent.parent.parent
CONNECT_TIMEOUT = 5.0
RECEIVE_TIMEOUT = 5.0
# How long a client that must receive nothing is watched.
SILENCE_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    status: int
    cookies: dict[str, str]
    body: str


@dataclass
class AsgiServer:
    port: int

    def request(
        self,
        method: str,
        path: str,
        *,
        host: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            cookies = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.load(header)
            return Answer(
                status=response.status,
                cookies={name: morsel.value for name, morsel in cookies.items()},
                body=text,
            )
        finally:
            connection.close()


def _wait_ready(server: AsgiServer, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            if server.request("GET", "/api/v1/health/", host="alpha.localhost").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn not ready after 30 s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, test_tenants) -> Iterator[AsgiServer]:
    from django.conf import settings

    # pytest-django has renamed the database by now (test_..., per xdist worker).
    database_name = settings.DATABASES["default"]["NAME"]
    assert database_name.startswith("test_"), f"not a test database: {database_name}"
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database_name}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url.geturl(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REDIS_URL": os.environ["REDIS_URL"],
    }
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="tenantry-ws-") as log_dir:
        log_path = Path(log_dir) / "uvicorn.log"
        with log_path.open("w") as log_file:
            process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                uvicorn_command(port=port, python=sys.executable),
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            server = AsgiServer(port=port)
            try:
                _wait_ready(server, process, log_path)
                yield server
            finally:
                # Stopped before pytest-django drops the test database it is connected to.
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(autouse=True)
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Replaces pytest-django's ``db`` under tests/realtime: database access in autocommit,
    nothing wrapped in a transaction, nothing rolled back (the server must see the rows,
    and on_commit must fire). A test removes what it wrote itself.

    It is called ``db`` on purpose: pytest-django creates the test database only when a
    collected test requests a fixture of that name (or a django_db marker). Without it, a
    run of this directory alone would work in the database DATABASE_URL names (the
    session's autouse tenant provisioning unblocks the database either way); autouse, so
    that holds for any subset of these tests.
    """
    with django_db_blocker.unblock():
        yield


class Sockets:
    """Synchronous handle on websocket clients running on a background event loop."""

    def __init__(self, server: AsgiServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.open: list[ClientConnection] = []

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def connect(
        self,
        host: str,
        *,
        token: str | None = None,
        carrier: str = "subprotocol",
        cookies: dict[str, str] | None = None,
        origin: str | None = "same",
        path: str = "/ws/events/",
    ) -> ClientConnection:
        """Open ``ws://<host>:<port><path>`` (through 127.0.0.1, Host: <host>).

        ``carrier`` says where the token goes: ``subprotocol``, ``query`` or ``both``.
        """
        query = ""
        subprotocols = None
        if token is not None and carrier in {"subprotocol", "both"}:
            subprotocols = ["tenantry.jwt", token]
        if token is not None and carrier in {"query", "both"}:
            query = "?" + urlencode({"token": token})
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        base = f"{host}:{self.server.port}"

        async def open_socket() -> ClientConnection:
            return await asyncio.wait_for(
                connect(
                    f"ws://{base}{path}{query}",
                    host="127.0.0.1",
                    port=self.server.port,
                    proxy=None,
                    origin=f"http://{base}" if origin == "same" else origin,
                    subprotocols=subprotocols,
                    additional_headers=headers,
                    open_timeout=CONNECT_TIMEOUT,
                ),
                CONNECT_TIMEOUT,
            )

        connection = self.run(open_socket())
        self.open.append(connection)
        return connection

    def receive(self, connection: ClientConnection, timeout: float = RECEIVE_TIMEOUT) -> Any:
        """The next message, parsed; None if nothing arrives within ``timeout``."""

        async def receive_one() -> Any:
            try:
                return json.loads(await asyncio.wait_for(connection.recv(), timeout))
            except TimeoutError:
                return None

        return self.run(receive_one(), timeout=timeout + 5)

    def send(self, connection: ClientConnection, message: Any) -> None:
        self.run(connection.send(json.dumps(message)))

    def close_code(self, connection: ClientConnection) -> int | None:
        """The code the server closed with (waits for it), None if it stayed open."""

        async def wait_closed() -> int | None:
            try:
                await asyncio.wait_for(connection.recv(), RECEIVE_TIMEOUT)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
            except TimeoutError:
                return None
            return None

        return self.run(wait_closed(), timeout=RECEIVE_TIMEOUT + 5)

    def refused_with(self, host: str, **kwargs: Any) -> int | None:
        """Connect expecting a refusal: the close code (HTTP status for a denied handshake)."""
        try:
            connection = self.connect(host, **kwargs)
        except InvalidStatus as denied:
            return denied.response.status_code
        return self.close_code(connection)

    def stop(self) -> None:
        async def close_all() -> None:
            await asyncio.gather(
                *(asyncio.wait_for(c.close(), 5) for c in self.open), return_exceptions=True
            )

        self.run(close_all(), timeout=15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def sockets(asgi_server) -> Iterator[Sockets]:
    handle = Sockets(asgi_server)
    try:
        yield handle
    finally:
        handle.stop()
