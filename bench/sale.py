"""The checkout drain's throughput, without HTTP shoppers: N admitted tickets, U units, W workers.

Each run makes a fresh sale on one platform (harness: gunicorn api with 2 workers, SQLite or
DATABASE_URL, a private Redis), writes N admitted tickets straight into Redis (what admit.lua writes,
but without the admitter's "only while a unit could reach them" room check, so with U < N the drain
itself meets the sold-out tickets), starts W real `yakku worker` processes, puts the N checkouts in
the sale's line in one pipeline (as N submits would; the drain jobs take them in batches), and
watches the outcomes the jobs write (once the line is empty: until then only its length) until every
ticket's checkout is final or the run's time limit passes. Then the workers get SIGTERM (each finishes
its job), the jobs and the line left are dropped, `yakku reconcile` settles any charge the sandbox left
unanswered, and `yakku audit` must be green.

Figures per run: checkouts decided per second (final outcome written) from the first enqueue to the
last outcome, the same over the paid ones only, the time from first enqueue to last outcome, and the
CPU time the api (gunicorn and its workers) and the rq workers spent per decided checkout, and how the
api's CPU split over its processes (a run at about half speed is one where both rq workers' keep-alive
connections landed on one process, whose GIL then serves both: docs/performance.md).

Run:  python bench/sale.py [--buyers 10000] [--units 1000 10000] [--workers 1 2 4] [--runs 1]
                           [--limit 120] [--api-workers 2]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import YAKKU, children_cpu_seconds, cpu_seconds, open_sale, platform  # noqa: E402

GOOD_CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
# What the drain decided: a final state, or fewer_left (units held by another job's batch when this
# one's were refused), after which the drain waits for the shopper, whom this bench does not play.
FINAL = {"paid", "sold_out", "expired", "failed", "fewer_left"}
# Issue 14's target for the all-paid sale on a 2-core box: about 0.5 ms of CPU per paid checkout in all.
TARGET_PAID_PER_S = 3_000


def admit(app, sale_id: int, buyers: int, window: int) -> list[tuple[str, int]]:
    """Write `buyers` admitted tickets for shoppers 1..buyers, as admit.lua writes each one."""
    from admission.keys import sale_keys

    with app.app_context():
        redis, keys = app.extensions["yakku.sales_redis"], sale_keys(sale_id)
        deadline = time.time() + window
        admitted = [(f"{sale_id}-{n}", n) for n in range(1, buyers + 1)]
        pipe = redis.pipeline(transaction=False)
        for ticket, shopper in admitted:
            pipe.hset(keys.tickets, ticket, "admitted")
            pipe.hset(keys.ticket_owner, ticket, shopper)
            pipe.hset(keys.ticket_expiry, ticket, str(deadline))
            pipe.zadd(keys.admitted, {ticket: deadline})
            pipe.hset(keys.waiters, shopper, "admitted")
            pipe.hset(keys.shopper_ticket, shopper, ticket)
        pipe.set(keys.ticket_sequence, buyers)
        pipe.execute()
        return admitted


def enqueue(app, sale_id: int, admitted: list[tuple[str, int]]) -> float:
    """Put every ticket's checkout in the sale's line (what submit does) in one call; when it went in.

    One drain job is queued for the sale; it takes the line in batches and queues the next job while
    more wait, so with W workers up to W jobs drain side by side.
    """
    from admission.checkout.jobs import queue_checkouts
    from admission.checkout.records import CheckoutRequest
    from api.payments.cards import as_card
    from api.payments.providers import Card
    from api.payments.services import tokenise

    with app.app_context():
        card = Card(**as_card(GOOD_CARD))  # tokenised per shopper, as each submit does, before the clock
        requests = [
            CheckoutRequest(ticket, shopper, 1, 1, tokenise(card, shopper).token)
            for ticket, shopper in admitted
        ]
        started = time.time()
        queue_checkouts(sale_id, requests)
        return started


def outcomes(app, sale_id: int) -> tuple[dict, float]:
    """Checkouts per state, and when the last final one was written."""
    from admission.keys import sale_keys

    counts: dict[str, int] = {}
    last = 0.0
    for raw in app.extensions["yakku.sales_redis"].hvals(sale_keys(sale_id).checkouts):
        record = json.loads(raw)
        counts[record["state"]] = counts.get(record["state"], 0) + 1
        if record["state"] in FINAL:
            last = max(last, record["updated_at"])
    return counts, last


def waiting(app, sale_id: int) -> int:
    """How many checkouts still wait in the sale's line (one HLEN; the outcomes are a read of them all:
    ~80 ms of this process's CPU and a 10 ms stall of Redis at 10,000, so they are read once it is empty)."""
    from admission.checkout.line import backlog

    with app.app_context():
        return backlog(sale_id)


def wait_for_workers(app, count: int, timeout: float = 60) -> None:
    from rq import Worker

    deadline = time.monotonic() + timeout
    while Worker.count(connection=app.extensions["yakku.redis"]) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} workers did not register within {timeout} s")
        time.sleep(0.2)


def run_once(shop, app, buyers: int, units: int, workers: int, limit: float) -> dict:
    """One sale drained by `workers` workers; its figures and audit verdict."""
    sale_id = open_sale(app, units, rate=1000, cap=100_000, window=int(limit) + 600)
    admitted = admit(app, sale_id, buyers, window=int(limit) + 600)
    procs = shop.workers(workers)
    wait_for_workers(app, workers)
    api = [p for p in shop.processes if p not in procs]  # gunicorn (and Redis is not ours to count)
    cpu_before = cpu_seconds(api), cpu_seconds(procs)
    each_before = children_cpu_seconds(api)
    started = enqueue(app, sale_id, admitted)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if waiting(app, sale_id):
            continue  # reading every outcome while the line waits would only take CPU from the drain
        counts, last = outcomes(app, sale_id)
        if sum(counts.get(state, 0) for state in FINAL) >= buyers:
            break
    cpu_api, cpu_workers = cpu_seconds(api) - cpu_before[0], cpu_seconds(procs) - cpu_before[1]
    # How the api's work split over its processes: a run whose two rq workers' connections both landed
    # on one of them (the kernel hashes each connection to a process) shows it here, e.g. 80/20.
    each = {pid: t - each_before.get(pid, 0.0) for pid, t in children_cpu_seconds(api).items()}
    shares = sorted((round(100 * t / max(sum(each.values()), 1e-9)) for t in each.values()), reverse=True)
    shop.stop(procs)  # SIGTERM: each worker finishes the job in hand
    shop.processes = [p for p in shop.processes if p not in procs]
    counts, last = outcomes(app, sale_id)
    with app.app_context():
        from yakku.queues import QueueName, get_queue

        get_queue(QueueName.CHECKOUT).empty()  # a time-limited run leaves jobs behind: drop them
        # and the paid mails, which the next run's workers would send while it is measured
        get_queue(QueueName.MAIL).empty()
        from admission.keys import sale_keys

        keys = sale_keys(sale_id)
        app.extensions["yakku.sales_redis"].delete(
            keys.checkout_line, keys.checkout_requests, keys.drain_queued
        )
    decided = sum(counts.get(state, 0) for state in FINAL)
    elapsed = max(last - started, 1e-9)
    subprocess.run([*YAKKU, "reconcile", str(sale_id), "--lease", "0"], env=shop.env, capture_output=True)
    verdict = subprocess.run([*YAKKU, "audit", str(sale_id), "--json"], env=shop.env, capture_output=True)
    report = json.loads(verdict.stdout or "{}")
    figures = report.get("figures", {})
    return {
        "sale": sale_id,
        "decided": decided,
        "counts": counts,
        "seconds": elapsed,
        "decided_per_s": decided / elapsed,
        "paid_per_s": counts.get("paid", 0) / elapsed,
        "complete": decided >= buyers,
        "api_cpu_ms": 1000 * cpu_api / max(decided, 1),
        "worker_cpu_ms": 1000 * cpu_workers / max(decided, 1),
        "api_shares": shares,
        "audit_ok": verdict.returncode == 0,
        "oversold": max(0, figures.get("sold", 0) + figures.get("held", 0) - units),
        "broken": [c["name"] for c in report.get("checks", []) if not c["ok"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--units", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=1, help="Repeats of each case (medians reported).")
    parser.add_argument("--limit", type=float, default=120, help="Seconds a run may take at most.")
    parser.add_argument("--api-workers", type=int, default=2, help="gunicorn workers of the api.")
    args = parser.parse_args()
    failed = False
    with platform(api_workers=args.api_workers, web=False) as shop:
        app = shop.app()
        print(
            f"{args.buyers} admitted tickets, limit 1 each, good card; "
            f"api: gunicorn {args.api_workers} workers x 8 threads"
        )
        for units in args.units:
            for workers in args.workers:
                runs = [
                    run_once(shop, app, args.buyers, units, workers, args.limit) for _ in range(args.runs)
                ]
                for run in runs:
                    failed |= not run["audit_ok"] or run["oversold"] > 0
                    print(
                        f"  U={units:>6} W={workers}  sale {run['sale']:>3}: {run['decided']:>6} decided "
                        f"in {run['seconds']:7.1f} s = {run['decided_per_s']:7.1f}/s "
                        f"(paid {run['paid_per_s']:6.1f}/s){'' if run['complete'] else ' [time limit]'}  "
                        f"{run['counts']}  audit {'green' if run['audit_ok'] else 'RED'} {run['broken']}"
                        f" oversold {run['oversold']}; CPU per decided: api {run['api_cpu_ms']:.2f} ms, "
                        f"workers {run['worker_cpu_ms']:.2f} ms; api processes' shares "
                        + "/".join(str(share) for share in run["api_shares"])
                        + " %"
                    )
                median = statistics.median(run["decided_per_s"] for run in runs)
                paid = statistics.median(run["paid_per_s"] for run in runs)
                print(f"  U={units:>6} W={workers}  median {median:7.1f} decided/s, {paid:6.1f} paid/s")
        print(f"  target: >= {TARGET_PAID_PER_S:,} paid/s with --units 10000 --workers 2, 0 oversold")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
