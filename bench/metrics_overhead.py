"""What the metrics and request-id hooks cost one request, in CPU microseconds, as gunicorn runs them.

Two bare Flask apps answer the same constant; one has yakku's request hooks (yakku/metrics.py: a counter
and a histogram step per request, in multiprocess mode as under gunicorn; yakku/request_id.py: the id
taken or made, echoed). Each serves --requests requests through the test client, alternately, --runs
times; the CPU time (process_time, so other load on the box counts little) per request is compared.
Less noisy than a wrk run on a shared box, where the hooks' cost is below the noise.

Run:  python bench/metrics_overhead.py [--requests 20000] [--runs 5]
"""

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Before prometheus_client is imported, as gunicorn_conf.py sets it before a worker loads the app.
SAMPLES = tempfile.mkdtemp(prefix="yakku-bench-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = SAMPLES
atexit.register(shutil.rmtree, SAMPLES, ignore_errors=True)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402

from yakku import metrics, request_id  # noqa: E402


def app(hooked: bool) -> Flask:
    made = Flask("bench")
    made.config["METRICS_TOKEN"] = None
    if hooked:
        metrics.init_app(made)
        request_id.init_app(made)
    made.add_url_rule("/api/sales/<int:sale_id>/queue/me", "status", lambda sale_id: {"state": "waiting"})
    return made


def cpu_per_request(client, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        client.get("/api/sales/7/queue/me")
    return (time.process_time() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bare, hooked = app(False).test_client(), app(True).test_client()
    figures = {"bare": [], "hooked": []}
    for _ in range(args.runs):
        figures["bare"].append(cpu_per_request(bare, args.requests))
        figures["hooked"].append(cpu_per_request(hooked, args.requests))
    bare_us, hooked_us = (statistics.median(figures[name]) for name in ("bare", "hooked"))
    print(f"median of {args.runs} runs x {args.requests} requests, CPU per request:")
    print(f"  bare app {bare_us:.1f} us, with the metrics and request-id hooks {hooked_us:.1f} us")
    print(f"  the hooks cost {hooked_us - bare_us:.1f} us per request")


if __name__ == "__main__":
    main()
