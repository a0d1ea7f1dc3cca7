"""django-tenants' own migrate command, with its parallel executor, still works here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.jobs.live import children_database_url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_migrate_schemas_with_the_multiprocessing_executor_finishes():
    # A subprocess with a deadline: an executor that forks a process holding a connection
    # pool would hang rather than fail (see config/settings/base.py).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": children_database_url(),
    }

    result = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "manage.py", "migrate_schemas", "--executor=multiprocessing", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    # The executor's workers prefix their output with the schema they migrate.
    assert "multiprocessing:alpha] No migrations to apply" in " ".join(result.stdout.split())
    assert "multiprocessing:beta] No migrations to apply" in " ".join(result.stdout.split())
