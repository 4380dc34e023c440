"""The waiting room through gunicorn: requests/s and latency of join + status polls, closed loop.

The platform (bench/harness.py) runs the api under gunicorn (--api-workers gthread workers, 8 threads
each) on a private Redis. One sale is open with an admission rate of 1 shopper/s and no admitter
running, so every shopper stays waiting and each status computes a place, an ETA and a poll hint. The
shoppers' access tokens are minted in-process (api.auth.issue_token_pair), so no login is paid.

The load: wrk (Debian's package; C, so the load costs the shared cores little), --connections
keep-alive connections with one request in flight each, for --duration seconds; per --polls status
polls (GET /queue/me, to shoppers who joined earlier) one new shopper joins (POST /queue)
(bench/waiting_room_load.lua). After each run the same load goes to a ceiling: the same gunicorn
serving a canned status (bench/ceiling_app.py). Client and server share the machine's cores.

Run:  python bench/waiting_room.py [--shoppers 10000] [--polls 5] [--threads 1] [--connections 32]
                                   [--duration 15] [--runs 3] [--api-workers 2]
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
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
            # generation 0: the bench's shoppers have no account row whose sessions ever ended
            issue_token_pair(str(n), {"role": "shopper", "name": f"Bench {n}"}, generation=0)["access_token"]
            for n in range(first, first + count)
        ]


def join_first(app, sale_id: int, first: int, count: int) -> None:
    """Shoppers first..first+count-1 join before the run, so the load's first polls have someone to ask
    about (a poll before one's join is answered 404)."""
    from admission import waiting_room

    with app.app_context():
        for shopper in range(first, first + count):
            waiting_room.join(sale_id, shopper)


def ready_shoppers(args) -> int:
    """How many shoppers join before each run: a few polls' worth for each connection."""
    return 4 * args.connections


def one_run(api_url: str, sale_id: int, tokens: list[str], args) -> dict:
    """wrk against `api_url` for --duration seconds (waiting_room_load.lua); requests/s and latency."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as token_file:
        token_file.write("\n".join(tokens))
        token_file.flush()
        # A poll goes only to shoppers whose join was answered: twice a thread's connections of joins
        # before, or before the run.
        lag = 2 * args.connections // args.threads
        command = [
            "wrk",
            f"--threads={args.threads}",
            f"--connections={args.connections}",
            f"--duration={args.duration}s",
            "--timeout=10s",
            f"--script={BENCH / 'waiting_room_load.lua'}",
            api_url,
            "--",
            token_file.name,
            str(sale_id),
            str(args.polls),
            str(lag),
            str(args.threads),
            str(ready_shoppers(args)),
        ]
        answer = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(answer.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures.pop("seconds")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=10_000, help="Shoppers per run (each joins once).")
    parser.add_argument("--polls", type=int, default=5, help="Status polls per join, to earlier joiners.")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--connections", type=int, default=32, help="Connections, a request in flight each.")
    parser.add_argument("--duration", type=int, default=15, help="Seconds of load per run.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--api-workers", type=int, default=2, help="gunicorn workers of the api.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/waiting_room.py drives the load with wrk: apt install wrk")
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
            join_first(app, sale_id, 1 + run * args.shoppers, ready_shoppers(args))
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
        f"waiting room, 1 join + {args.polls} status per shopper, wrk {args.threads} thread(s) x "
        f"{args.connections} connections, api gunicorn {args.api_workers} workers x 8 threads"
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
