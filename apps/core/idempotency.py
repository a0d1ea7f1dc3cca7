"""``Idempotency-Key`` on POST: a retried request gets the first answer, never a second write.

Same key, same body -> the stored response is replayed (``Idempotent-Replayed: true``);
same key, another body -> 422; same key while the first is still running -> 409.
Records live in each tenant's schema for TENANTRY_IDEMPOTENCY_TTL_SECONDS.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.core import tenancy
from apps.core.api.errors import error_response
from apps.core.models import IdempotencyRecord

logger = logging.getLogger("tenantry.idempotency")

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
# A record still "running" after this long belongs to a request whose process died.
ABANDONED_AFTER = timedelta(minutes=5)
# Login and token calls create nothing; their answers (tokens) are never stored.
EXCLUDED_PREFIXES = ("/api/v1/auth/",)


def _caller(request: HttpRequest) -> str:
    """Who the key belongs to: the token's user, else the holder of another credential
    (a device key...), else the session's user, else anonymous."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization.startswith("Bearer "):
        from apps.accounts.authentication import TenantJWTAuthentication

        try:
            token = TenantJWTAuthentication().get_validated_token(authorization[7:].encode())
            return f"user:{token.get('user_id')}"
        except Exception:  # noqa: BLE001 - DRF answers the bad token itself
            return "invalid-token"
    if authorization:
        # Any other scheme (a device's key): only the same credential shares the records.
        # Hashed, so the secret is never stored; a wrong one is answered by the view.
        return "credential:" + hashlib.sha256(authorization.encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anonymous"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if (
            key is None
            or request.method != "POST"
            or not request.path.startswith("/api/")
            or request.path.startswith(EXCLUDED_PREFIXES)
            or tenancy.is_public()
        ):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return error_response(
                status=400,
                code="idempotency_key_invalid",
                message=f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters.",
            )

        caller = _caller(request)
        fingerprint = _fingerprint(request)
        record, created = self._claim(caller=caller, key=key, fingerprint=fingerprint)
        if not created:
            return self._answer_existing(record, fingerprint)

        response = self.get_response(request)
        if response.status_code >= 500 or response.streaming:
            # Nothing to replay: let the client retry with the same key.
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            response_status=response.status_code,
            response_body=response.content,
            response_content_type=response.get("Content-Type", ""),
        )
        return response

    def _claim(self, *, caller: str, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
        now = timezone.now()
        expired_before = now - timedelta(seconds=settings.TENANTRY_IDEMPOTENCY_TTL_SECONDS)
        IdempotencyRecord.objects.filter(
            caller=caller, key=key, created_at__lt=expired_before
        ).delete()
        IdempotencyRecord.objects.filter(
            caller=caller,
            key=key,
            state=IdempotencyRecord.State.RUNNING,
            created_at__lt=now - ABANDONED_AFTER,
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    caller=caller, key=key, fingerprint=fingerprint
                )
            return record, True
        except IntegrityError:
            return IdempotencyRecord.objects.get(caller=caller, key=key), False

    def _answer_existing(self, record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
        if record.fingerprint != fingerprint:
            return error_response(
                status=422,
                code="idempotency_key_reused",
                message="This Idempotency-Key was used with a different request.",
            )
        if record.state == IdempotencyRecord.State.RUNNING:
            return error_response(
                status=409,
                code="idempotency_request_in_progress",
                message="A request with this Idempotency-Key is still being processed.",
            )
        response = HttpResponse(
            bytes(record.response_body or b""),
            status=record.response_status,
            content_type=record.response_content_type or "application/json",
        )
        response["Idempotent-Replayed"] = "true"
        return response
