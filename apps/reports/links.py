"""Short-lived download links: a signature bound to the tenant, the run and the user.

The token is the timestamp and signature of ``<schema>:<run id>:<user id>`` (Django's
``TimestampSigner``, keyed by SECRET_KEY, with its own salt). The signed value itself is
not in the token: the download view rebuilds it from the host's schema, the URL's run id
and the authenticated user, so a token checks out only for that exact triple. A token
copied to another tenant's host, another run or another user's session fails as tampered.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing

from apps.reports.errors import LinkExpiredError, LinkInvalidError

_SALT = "tenantry.reports.download"
DEFAULT_LINK_SECONDS = 300


def link_max_age() -> int:
    return int(getattr(settings, "TENANTRY_REPORT_LINK_SECONDS", DEFAULT_LINK_SECONDS))


def _value(*, schema_name: str, run_id: Any, user_id: Any) -> str:
    return f"{schema_name}:{run_id}:{user_id}"


def download_token_make(*, schema_name: str, run_id: Any, user_id: Any) -> str:
    signed = signing.TimestampSigner(salt=_SALT).sign(
        _value(schema_name=schema_name, run_id=run_id, user_id=user_id)
    )
    timestamp, signature = signed.rsplit(":", 2)[-2:]
    return f"{timestamp}.{signature}"


def download_token_check(
    *, token: str, schema_name: str, run_id: Any, user_id: Any, max_age: int | None = None
) -> None:
    """Raise LinkInvalidError (403) or LinkExpiredError (410) unless ``token`` is good."""
    timestamp, dot, signature = (token or "").partition(".")
    if not dot or not timestamp or not signature:
        raise LinkInvalidError()
    value = _value(schema_name=schema_name, run_id=run_id, user_id=user_id)
    signed = f"{value}:{timestamp}:{signature}"
    try:
        signing.TimestampSigner(salt=_SALT).unsign(
            signed, max_age=link_max_age() if max_age is None else max_age
        )
    except signing.SignatureExpired as error:
        raise LinkExpiredError() from error
    except signing.BadSignature as error:
        raise LinkInvalidError() from error
