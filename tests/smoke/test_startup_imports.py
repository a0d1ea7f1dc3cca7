"""Start-up stays light: django.setup() does not import the libraries that only a report or
a provider call needs (every manage.py command, worker and web process pays for them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Imported inside the functions that use them (apps/reports/excel.py and pdf.py,
# apps/notifications/providers/sendgrid.py, apps/notifications/webhooks.py).
DEFERRED = ("fpdf", "openpyxl", "sendgrid", "python_http_client")

# See test_compose.py: the session-wide test-tenant fixture needs one django_db test.
pytestmark = pytest.mark.django_db


def test_django_setup_does_not_import_report_or_provider_libraries():
    code = (
        "import sys, django; django.setup(); "
        f"print(' '.join(name for name in {DEFERRED!r} if name in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_sendgrid_webhook_headers_match_the_library():
    from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

    from apps.notifications import webhooks

    assert webhooks.SENDGRID_SIGNATURE_HEADER == EventWebhookHeader.SIGNATURE
    assert webhooks.SENDGRID_TIMESTAMP_HEADER == EventWebhookHeader.TIMESTAMP
