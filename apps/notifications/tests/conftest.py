"""Fakes for the providers' HTTP layers; no test here opens a socket to the outside
(pytest-socket allows loopback only)."""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.error import HTTPError

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from tests.personas import TENANT_A


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def persona_in(name: str, schema_name: str = TENANT_A):
    from tests.fixtures import persona

    return persona(schema_name, name)


class RecordingTwilioHttp(HttpClient):
    """A twilio.http.HttpClient that records what the real client would send and answers
    with a canned response instead of going to api.twilio.com."""

    def __init__(self, *, status: int = 201, body: dict[str, Any] | None = None) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.status = status
        self.body = body if body is not None else {"sid": "SM0123456789abcdef", "status": "queued"}
        self.requests: list[dict[str, Any]] = []

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        self.requests.append(
            {
                "method": method,
                "url": uri,
                "data": dict(data or {}),
                "auth": auth,
                "headers": headers,
            }
        )
        return TwilioResponse(self.status, json.dumps(self.body), headers={})


@pytest.fixture
def twilio_http(monkeypatch) -> Callable[..., RecordingTwilioHttp]:
    """``twilio_http(status=503)``: the Twilio provider's default HTTP client becomes a
    recorder with that answer."""
    from apps.notifications.providers import twilio as twilio_provider

    def install(**kwargs: Any) -> RecordingTwilioHttp:
        recorder = RecordingTwilioHttp(**kwargs)
        monkeypatch.setattr(twilio_provider, "TwilioHttpClient", lambda timeout=None: recorder)
        return recorder

    return install


@dataclass
class FakeUrlopenResponse:
    status: int
    body: bytes
    message_id: str

    def getcode(self) -> int:
        return self.status

    def read(self) -> bytes:
        return self.body

    def info(self) -> Message:
        headers = Message()
        headers["X-Message-Id"] = self.message_id
        return headers


@dataclass
class RecordingOpener:
    """Stands in for urllib's opener inside python_http_client (SendGrid's HTTP layer)."""

    status: int = 202
    message_id: str = "sg-message-1"
    requests: list[Any] = field(default_factory=list)
    timeouts: list[Any] = field(default_factory=list)
    raise_error: Exception | None = None

    def open(self, request: Any, timeout: Any = None) -> FakeUrlopenResponse:
        self.requests.append(request)
        self.timeouts.append(timeout)
        if self.raise_error is not None:
            raise self.raise_error
        if self.status >= 400:
            raise HTTPError(
                request.full_url, self.status, "error", Message(), _bytes_io(b'{"errors": []}')
            )
        return FakeUrlopenResponse(status=self.status, body=b"", message_id=self.message_id)


def _bytes_io(content: bytes):
    import io

    return io.BytesIO(content)


@pytest.fixture
def sendgrid_http(monkeypatch) -> Callable[..., RecordingOpener]:
    import python_http_client.client as http_client

    def install(**kwargs: Any) -> RecordingOpener:
        opener = RecordingOpener(**kwargs)
        monkeypatch.setattr(http_client.urllib, "build_opener", lambda *handlers: opener)
        return opener

    return install


class FakeSMTP:
    """smtplib.SMTP as Django's SMTP backend uses it, recording every call."""

    instances: list[FakeSMTP] = []
    fail_with: Exception | None = None

    def __init__(self, host: str, port: int, **kwargs: Any) -> None:
        self.host = host
        self.port = port
        self.kwargs = kwargs
        self.calls: list[tuple[str, Any]] = []
        FakeSMTP.instances.append(self)

    def starttls(self, **kwargs: Any) -> None:
        self.calls.append(("starttls", None))

    def login(self, user: str, password: str) -> None:
        self.calls.append(("login", (user, password)))

    def sendmail(self, from_addr: str, to_addrs: list[str], message: bytes) -> dict:
        if FakeSMTP.fail_with is not None:
            raise FakeSMTP.fail_with
        self.calls.append(("sendmail", (from_addr, to_addrs, message)))
        return {}

    def quit(self) -> None:
        self.calls.append(("quit", None))

    def close(self) -> None:
        self.calls.append(("close", None))


@pytest.fixture
def smtp_server(monkeypatch) -> type[FakeSMTP]:
    from django.core.mail.utils import DNS_NAME

    FakeSMTP.instances = []
    FakeSMTP.fail_with = None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    # Django names the local host in EHLO by its FQDN: no DNS lookup in tests.
    monkeypatch.setattr(DNS_NAME, "_fqdn", "tenantry.test", raising=False)
    return FakeSMTP


@pytest.fixture
def published(monkeypatch) -> list[dict[str, Any]]:
    """Realtime events the notifications services publish."""
    from apps.notifications import services

    events: list[dict[str, Any]] = []
    monkeypatch.setattr(services, "publish_event", lambda **kwargs: events.append(kwargs))
    return events
