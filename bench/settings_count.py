"""Bench-only settings for the counting run: routed (default) or plain
(``BENCH_BASE=plain``), with :class:`bench.instrument.CountingMiddleware` outermost."""

import os

if os.environ.get("BENCH_BASE") == "plain":
    from bench.settings_plain import *  # noqa: F403
else:
    from config.settings.test import *  # noqa: F403

MIDDLEWARE = ["bench.instrument.CountingMiddleware", *MIDDLEWARE]  # noqa: F405
