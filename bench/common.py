"""Small helpers shared by the benchmarks: timing, medians, subprocesses, results."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Passwords of the bench's own throwaway tenants (embedded database, deleted after the run).
BENCH_PASSWORD = "bench-password-1"  # noqa: S105


@dataclass
class Row:
    """One line of the results table."""

    benchmark: str
    figure: float | None
    baseline: float | None
    unit: str
    # "higher" when a bigger figure is better (requests/s), "lower" for seconds.
    better: str
    goal: str
    met: bool | None
    ratio: float | None = None
    ratio_label: str = ""


@dataclass
class Section:
    """What one benchmark reports: table rows, how it was measured, extra lines."""

    title: str
    rows: list[Row]
    how: str
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def child_env(**extra: str) -> dict[str, str]:
    """The environment of this process (DATABASE_URL, REDIS_URL, settings) plus ``extra``."""
    env = {**os.environ, **extra}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    return env


def run_manage(args: Sequence[str], *, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run ``python manage.py ARGS`` to completion; wall seconds (process start included)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env or child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode:
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {completed.returncode}:\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
        )
    return elapsed, completed.stdout + completed.stderr


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    return f"{value:g} {unit}".strip()
