"""A small HTTP load generator (stdlib only), run as its own process by the request bench.

    python -m bench.loadgen --port 8001 --host t.localhost --path /api/v1/users/ \
        --token TOKEN --threads 4 --seconds 8

Each thread keeps one keep-alive connection and sends GETs back to back until the time is
up (or, with ``--requests N``, sends N requests). Prints one JSON object: requests, errors,
seconds, requests_per_s, latency percentiles in ms, and the sums of any ``X-Bench-*``
response headers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter


def _worker(args, deadline, quota, barrier, out):
    latencies: list[float] = []
    errors = 0
    statuses: Counter[int] = Counter()
    headers_sum: Counter[str] = Counter()
    headers = {"Host": args.host, "Accept": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    barrier.wait()
    sent = 0
    while (quota is None and time.perf_counter() < deadline[0]) or (
        quota is not None and sent < quota
    ):
        started = time.perf_counter()
        try:
            connection.request("GET", args.path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            continue
        finally:
            sent += 1
        latencies.append(time.perf_counter() - started)
        statuses[response.status] += 1
        if response.status != 200:
            errors += 1
        for name, value in response.getheaders():
            if name.lower().startswith("x-bench-"):
                headers_sum[name.lower()] += int(value)
    connection.close()
    out.append((latencies, errors, statuses, headers_sum))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--path", default="/api/v1/users/")
    parser.add_argument("--token", default="")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--requests", type=int, default=None, help="per thread, instead of time")
    args = parser.parse_args()

    out: list = []
    barrier = threading.Barrier(args.threads + 1)
    deadline = [0.0]
    threads = [
        threading.Thread(target=_worker, args=(args, deadline, args.requests, barrier, out))
        for _ in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + args.seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    latencies = sorted(value for item in out for value in item[0])
    statuses: Counter[int] = Counter()
    headers_sum: Counter[str] = Counter()
    for item in out:
        statuses.update(item[2])
        headers_sum.update(item[3])
    ok = statuses.get(200, 0)

    def percentile(fraction: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000, 2)

    print(
        json.dumps(
            {
                "requests": len(latencies),
                "ok": ok,
                "errors": sum(item[1] for item in out),
                "seconds": round(elapsed, 3),
                "requests_per_s": round(ok / elapsed, 1),
                "p50_ms": percentile(0.50),
                "p99_ms": percentile(0.99),
                "statuses": {str(code): count for code, count in statuses.items()},
                "headers": dict(headers_sum),
            }
        )
    )


if __name__ == "__main__":
    main()
