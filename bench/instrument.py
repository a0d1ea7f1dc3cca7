"""Bench-only counters for the request benchmark's (unmeasured) counting run.

``SET search_path`` is issued by django-tenants on a raw driver cursor, below Django's
execute wrappers, so it is counted at the driver: every new database connection gets a
cursor factory that counts the statements it executes. Each response carries what its
request cost in ``X-Bench-Search-Path-Sets`` and ``X-Bench-Db-Connects`` (exact when
requests are sent one at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse

COUNTS = {"set_search_path": 0, "connect": 0}


@cache
def _counting_cursor(base: type) -> type:
    class CountingCursor(base):
        counting = True

        def execute(self, query, params=None, **kwargs):
            if isinstance(query, str) and query.lstrip().lower().startswith("set search_path"):
                COUNTS["set_search_path"] += 1
            return super().execute(query, params, **kwargs)

    return CountingCursor


def install() -> None:
    from django_tenants.postgresql_backend.base import DatabaseWrapper

    if getattr(DatabaseWrapper, "_bench_counting", False):
        return
    original = DatabaseWrapper.get_new_connection

    def get_new_connection(self, conn_params):
        raw = original(self, conn_params)
        COUNTS["connect"] += 1
        # With a connection pool the same driver connection comes back again and again:
        # wrap its cursor factory once, or every SET would be counted once per reuse.
        if not getattr(raw.cursor_factory, "counting", False):
            raw.cursor_factory = _counting_cursor(raw.cursor_factory)
        return raw

    DatabaseWrapper.get_new_connection = get_new_connection
    DatabaseWrapper._bench_counting = True


class CountingMiddleware:
    """Outermost middleware of the counting servers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        install()
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sets, connects = COUNTS["set_search_path"], COUNTS["connect"]
        response = self.get_response(request)
        response["X-Bench-Search-Path-Sets"] = str(COUNTS["set_search_path"] - sets)
        response["X-Bench-Db-Connects"] = str(COUNTS["connect"] - connects)
        return response
