"""Races for concurrency tests: several calls released at the same moment, each in its own
thread and so on its own database connection (their writes must be committed to be seen
across connections; see the tests' ``committed`` fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

THREAD_TIMEOUT = 60


def race(*calls: Callable[[], Any], schema_name: str) -> list[Any]:
    """Run each call inside ``schema_name`` in its own thread, all released by one barrier;
    returns each call's result or the exception it raised, in order."""
    from apps.core.tenancy import in_tenant

    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            with in_tenant(schema_name):
                barrier.wait(timeout=THREAD_TIMEOUT)
                results[index] = call()
        except Exception as error:  # noqa: BLE001 - handed back to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)
        assert not thread.is_alive(), "a racing thread hung"
    return results
