"""How many status polls a second a sale's waiters make when each follows the server's hint: a simulation
of N waiters on a real Redis with the real scripts (join.lua, status.lua, the admitter's tick), on a
virtual clock.

N shoppers join a sale of N units (so nobody is on standby: the hint alone sets the rate) at the virtual
moment it opens; the admitter ticks once a virtual second, admitting at R a second; every waiter asks
for its status when its last answer's `poll_after_seconds` says, and an admitted one leaves the line (its
checkout panel is bounded by the admitted cap, not by N). The figures per N: status polls per virtual
second (median and peak over the window, after the first hints have spread), beside the bound that
status.lua's header derives (22 R + N / 30), and the sale's Redis CPU per status call, measured by the
server (INFO commandstats), which gives the one shard's ceiling: a sale's keys share one hash slot, so
one Redis core serves all of its polls.

Run:  python bench/poll_rate.py [--waiters 10000 100000 1000000] [--rate 50] [--seconds 60]
"""

import argparse
import heapq
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import open_sale  # noqa: E402

from yakku.private_redis import PrivateRedis  # noqa: E402

CHUNK = 5_000  # steps per round trip
# Polls of the first seconds are the joins' first hints arriving together; the steady rate starts after
# the longest hint (30 s).
SETTLED_AFTER_S = 30


def in_chunks(client, steps: list) -> list:
    from admission.scripts import in_one_trip

    answers = []
    for start in range(0, len(steps), CHUNK):
        answers += in_one_trip(client, steps[start : start + CHUNK])
    return answers


def evalsha_stats(client) -> tuple[int, float]:
    stats = client.info("commandstats").get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    return int(stats["calls"]), float(stats["usec"])


def simulate(app, waiters: int, rate: float, seconds: int) -> dict:
    from admission import admitter, waiting_room
    from admission.scripts import scripts
    from yakku.extensions import get_sales_redis

    sale_id = open_sale(app, waiters, rate=rate, cap=waiters, window=120, name="Poll Lamp")
    with app.app_context():
        client, grace = get_sales_redis(), waiting_room.grace_seconds()
        now = time.time()
        shoppers = range(1, waiters + 1)
        joined = time.perf_counter()
        in_chunks(client, [scripts().join.step(sale_id, [shopper, now + grace]) for shopper in shoppers])
        answers = in_chunks(client, [waiting_room.status_step(sale_id, shopper, now) for shopper in shoppers])
        joined = time.perf_counter() - joined
        due = [(now + answer.poll_hint, shopper) for shopper, answer in zip(shoppers, answers, strict=True)]
        heapq.heapify(due)
        calls_before, usec_before = evalsha_stats(client)
        polls_per_second, status_calls, started = [], 0, time.perf_counter()
        for second in range(1, seconds + 1):
            now += 1
            admitter.tick_sale(sale_id, now)
            asking = []
            while due and due[0][0] <= now:
                asking.append(heapq.heappop(due)[1])
            steps = [waiting_room.status_step(sale_id, shopper, now) for shopper in asking]
            answers = in_chunks(client, steps)
            for shopper, answer in zip(asking, answers, strict=True):
                if answer.poll_hint > 0:  # -1: final or admitted, out of the line
                    heapq.heappush(due, (now + answer.poll_hint, shopper))
            status_calls += len(asking)
            if second > SETTLED_AFTER_S:
                polls_per_second.append(len(asking))
        calls_after, usec_after = evalsha_stats(client)
        wall = time.perf_counter() - started
        client.flushdb()
    usec_per_call = (usec_after - usec_before) / max(calls_after - calls_before, 1)
    return {
        "waiters": waiters,
        "median": statistics.median(polls_per_second),
        "peak": max(polls_per_second),
        "bound": 22 * rate + waiters / 30,
        "usec_per_call": usec_per_call,
        "status_calls": status_calls,
        "joined_s": joined,
        "wall_s": wall,
    }


def services(config: dict):
    """The api app on `config`, its schema made, and serving itself on a loopback port (arming a sale
    asks the catalog service for its units)."""
    from werkzeug.serving import make_server

    from api.client import init_app as init_service_client
    from yakku.extensions import db
    from yakku.factory import create_api_app

    app = create_api_app(config)
    with app.app_context():
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["API_URL"] = f"http://127.0.0.1:{server.server_port}"
    init_service_client(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--waiters", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rate", type=float, default=50.0, help="admissions a second")
    parser.add_argument("--seconds", type=int, default=60, help="virtual seconds simulated after opening")
    args = parser.parse_args()
    if args.seconds <= SETTLED_AFTER_S:
        parser.error(f"--seconds must be over {SETTLED_AFTER_S}: the steady rate starts after the last hint")

    with tempfile.TemporaryDirectory() as folder:
        redis = PrivateRedis(Path(folder) / "redis").start()
        try:
            app = services(
                {"DATABASE_URL": f"sqlite:///{folder}/poll.db", "REDIS_URL": redis.url, "SECRET_KEY": "bench"}
            )
            print(f"admission {args.rate:g}/s, {args.seconds} virtual s, steady from s {SETTLED_AFTER_S + 1}")
            print(
                f"{'waiters':>9} {'polls/s med':>12} {'peak':>8} {'bound':>8} {'med/bound':>9}"
                f" {'per waiter':>10} {'µs/status':>9} {'shard max polls/s':>17} {'wall s':>7}"
            )
            for waiters in args.waiters:
                row = simulate(app, waiters, args.rate, args.seconds)
                print(
                    f"{row['waiters']:>9,} {row['median']:>12,.0f} {row['peak']:>8,} {row['bound']:>8,.0f}"
                    f" {row['median'] / row['bound']:>9.2f} {row['median'] / waiters:>10.4f}"
                    f" {row['usec_per_call']:>9.1f} {1e6 / row['usec_per_call']:>17,.0f}"
                    f" {row['joined_s'] + row['wall_s']:>7.0f}",
                    flush=True,
                )
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
