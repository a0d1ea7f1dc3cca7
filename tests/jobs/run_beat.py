"""``python -m tests.jobs.run_beat -A config beat ...``: celery beat with a short lock TTL.

The single-beat lock lives ``apps.jobs.beat.LOCK_TTL`` (30 s) after its holder dies; the
takeover test sets ``TENANTRY_TEST_BEAT_LOCK_TTL`` so it need not wait that long.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.jobs.settings_live")
    import django

    django.setup()
    from apps.jobs import beat

    beat.LOCK_TTL = int(os.environ.get("TENANTRY_TEST_BEAT_LOCK_TTL", beat.LOCK_TTL))
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", *sys.argv[1:]]
    sys.exit(celery_main())


if __name__ == "__main__":
    main()
