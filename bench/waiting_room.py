"""The waiting room through gunicorn: requests/s and latency of join + status polls, closed loop.

The platform (bench/harness.py) runs the api under gunicorn (--api-workers gthread workers, 8 threads
each) on a private Redis. One sale is open with an admission rate of 1 shopper/s and no admitter
running, so every shopper stays waiting and each status computes a place, an ETA and a poll hint. The
shoppers' access tokens are minted in-process (api.auth.issue_token_pair), so no login is paid.

The load: --processes client processes (gevent + geventhttpclient, keep-alive), each with
--concurrency greenlets; a greenlet takes the next shopper, joins (POST /queue) and then polls
(GET /queue/me) --polls times without pausing, then takes the next shopper, until --duration seconds
pass. Client and server share the machine's cores, so the figures are what the whole box does.

Run:  python bench/waiting_room.py [--shoppers 10000] [--polls 5] [--processes 2] [--concurrency 16]
                                   [--duration 15] [--runs 3] [--api-workers 2]
"""

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BENCH, free_port, gunicorn, platform, wait_for  # noqa: E402


def open_sale(app, units: int) -> int:
    """An open sale of `units` units admitting 1 shopper/s, and no admitter: nobody gets in here.

    The units must cover every shopper of the run, or those past them are told "sold out" at once
    and their polls take the short final-state path instead of the place, ETA and poll hint.
    """
    from admission import sales
    from api.catalog.models import Product
    from yakku.extensions import db

    with app.app_context():
        product = Product(name=f"Queue Bench Vase {time.time_ns()}", description="", price=9_900, stock=units)
        db.session.add(product)
        db.session.commit()
        data = {
            "product_id": product.id,
            "units": units,
            "opens_at": datetime.now(UTC) + timedelta(hours=1),
            "admission_rate": 1,
            "admitted_cap": 100,
            "checkout_window_s": 300,
            "per_shopper_limit": 1,
        }
        sale_id = sales.create_sale(data, operator_id=1).id
        sales.arm_sale(sale_id)
        sales.open_sale(sale_id)
        return sale_id


def mint_tokens(app, first: int, count: int) -> list[str]:
    """Access tokens for shoppers first..first+count-1, signed as the login would sign them."""
    from api.auth import issue_token_pair

    with app.app_context():
        return [
            issue_token_pair(str(n), {"role": "shopper", "name": f"Bench {n}"})["access_token"]
            for n in range(first, first + count)
        ]


def load(api_url: str, sale_id: int, tokens: list[str], polls: int, concurrency: int, duration: float, out):
    """One client process: greenlets join and poll until `duration` passes; latencies to `out`."""
    import gevent  # geventhttpclient's sockets are gevent's own: no monkey-patching needed
    from geventhttpclient import URL, HTTPClient

    url = URL(api_url)
    client = HTTPClient(
        url.host, url.port, concurrency=concurrency, connection_timeout=10, network_timeout=30
    )
    latencies: list[float] = []
    errors = 0
    shoppers = iter(tokens)
    deadline = time.monotonic() + duration

    def call(method: str, path: str, token: str) -> None:
        nonlocal errors
        started = time.perf_counter()
        answer = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
        answer.read()
        latencies.append(time.perf_counter() - started)
        errors += answer.status_code != 200

    def shopper_loop() -> None:
        for token in shoppers:
            if time.monotonic() >= deadline:
                return
            call("POST", f"/api/sales/{sale_id}/queue", token)
            for _ in range(polls):
                if time.monotonic() >= deadline:
                    return
                call("GET", f"/api/sales/{sale_id}/queue/me", token)

    began = time.monotonic()
    gevent.joinall([gevent.spawn(shopper_loop) for _ in range(concurrency)])
    out.put({"latencies": latencies, "errors": errors, "seconds": time.monotonic() - began})


def one_run(api_url: str, sale_id: int, tokens: list[str], args) -> dict:
    """All client processes at once; requests/s and latency percentiles over every request."""
    share = len(tokens) // args.processes
    spawn = multiprocessing.get_context("spawn")  # fresh clients, not forks of a process holding the app
    out = spawn.Queue()
    procs = [
        spawn.Process(
            target=load,
            args=(
                api_url,
                sale_id,
                tokens[i * share : (i + 1) * share],
                args.polls,
                args.concurrency,
                args.duration,
                out,
            ),
        )
        for i in range(args.processes)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=args.duration + 60) for _ in procs]
    for proc in procs:
        proc.join(10)
    latencies = sorted(x for result in results for x in result["latencies"])
    seconds = max(result["seconds"] for result in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "errors": sum(result["errors"] for result in results),
        "rps": len(latencies) / seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=10_000, help="Shoppers per run (each joins once).")
    parser.add_argument("--polls", type=int, default=5, help="Status polls after each join.")
    parser.add_argument("--processes", type=int, default=2, help="Client processes.")
    parser.add_argument("--concurrency", type=int, default=16, help="Requests in flight per client process.")
    parser.add_argument("--duration", type=float, default=15, help="Seconds of load per run.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--api-workers", type=int, default=2, help="gunicorn workers of the api.")
    args = parser.parse_args()
    with platform(api_workers=args.api_workers, web=False) as shop:
        app = shop.app()
        ceiling = shop.start(
            "ceiling", *gunicorn("ceiling_app:app", ceiling_port := free_port(), args.api_workers), cwd=BENCH
        )
        wait_for(f"http://127.0.0.1:{ceiling_port}/api/sales/1/queue/me")
        runs, ceilings = [], []
        for run in range(args.runs):
            sale_id = open_sale(app, args.shoppers)  # a fresh sale per run: every join is a first join
            tokens = mint_tokens(app, 1 + run * args.shoppers, args.shoppers)
            runs.append(one_run(shop.api_url, sale_id, tokens, args))
            report("waiting room", run, runs[-1])
            # The ceiling right after, so both see the same moment of a shared, noisy machine.
            ceilings.append(one_run(f"http://127.0.0.1:{ceiling_port}", sale_id, tokens, args))
            report("ceiling", run, ceilings[-1])
        shop.stop([ceiling])
    rps, p50, p99 = (statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms"))
    top = statistics.median(r["rps"] for r in ceilings)
    top_p99 = statistics.median(r["p99_ms"] for r in ceilings)
    print(
        f"waiting room, 1 join + {args.polls} status per shopper, {args.processes} client processes x "
        f"{args.concurrency} in flight, api gunicorn {args.api_workers} workers x 8 threads"
    )
    print(f"  median of {args.runs} runs: {rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"  ceiling (same gunicorn, a canned answer): {top:,.0f} req/s, p99 {top_p99:.1f} ms")
    print(f"  waiting room / ceiling: {rps / top:.2f}")
    print(f"  targets: >= 2,000 req/s ({rps / 2000:.2f}x), p99 < 50 ms ({p99 / 50:.2f}x)")


def report(what: str, run: int, figures: dict) -> None:
    rounded = {key: round(value, 1) for key, value in figures.items()}
    print(json.dumps({"run": run + 1, "of": what, **rounded}), flush=True)


if __name__ == "__main__":
    main()
