"""How fast can units be reserved? Four ways against one Redis server, reserves per second (medians).

  (a) lock:    the seed's way: a lock (SET NX PX, Lua compare-and-delete unlock) around GET-check-DECR
  (b) single:  one reserve.lua call per attempt (the real rule: ticket, limit, stock, record)
  (c) batched: reserve_batch.lua, BATCH tickets per call
  (d) ceiling: redis-benchmark running EVALSHA of reserve.lua on the same server

Run:  python bench/stock_strategies.py [--runs 3] [--seconds 1.5] [--workers 4]
A private redis-server is started unless REDIS_URL is set (the bench flushes the db it is given).
Bounded: every run lasts --seconds, so the whole bench takes well under a minute.
"""

import argparse
import multiprocessing
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from admission import stock  # noqa: E402
from admission.keys import sale_keys  # noqa: E402
from admission.scripts import load_scripts  # noqa: E402
from yakku.private_redis import PrivateRedis, redis_server_binary  # noqa: E402

SALE = 1
BATCH = 100
UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
PER_WORKER = 30_000  # tickets each client process may use in one run
PLENTY = 10**9  # units: every attempt can succeed, so we time the full path, not the sold-out one


def prepare(client: redis.Redis, tickets: int) -> None:
    """A sale with plenty of units and `tickets` admitted tickets, each for its own shopper."""
    client.flushdb()
    keys = sale_keys(SALE)
    client.hset(keys.settings, mapping={"state": "open", "limit": 1, "units": PLENTY})
    client.set(keys.stock, PLENTY)
    deadline = time.time() + 3600
    for start in range(0, tickets, 10_000):
        chunk = [ticket_id(n) for n in range(start, min(start + 10_000, tickets))]
        pipe = client.pipeline(transaction=False)
        pipe.hset(keys.tickets, mapping=dict.fromkeys(chunk, "admitted"))
        pipe.hset(keys.ticket_owner, mapping={t: start + i for i, t in enumerate(chunk)})
        pipe.hset(keys.ticket_expiry, mapping=dict.fromkeys(chunk, deadline))
        pipe.zadd(keys.admitted, dict.fromkeys(chunk, deadline))
        pipe.execute()


def ticket_id(n: int) -> str:
    return f"t{n:012d}"  # redis-benchmark's __rand_int__ is 12 zero-padded digits


def worker(strategy: str, url: str, first: int, seconds: float, results) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    loaded = load_scripts(client)
    unlock = client.register_script(UNLOCK)
    keys = sale_keys(SALE)
    done, n, last = 0, first, first + PER_WORKER
    started = time.perf_counter()
    until = started + seconds
    while time.perf_counter() < until and n + BATCH <= last:
        if strategy == "lock":
            token = secrets.token_hex(8)
            if not client.set("lock:stock", token, nx=True, px=5000):
                time.sleep(0.001)  # the seed waited for the lock; we retry after a millisecond
                continue
            try:
                if int(client.get(keys.stock)) >= 1:
                    client.decr(keys.stock)
                    done += 1
            finally:
                unlock(["lock:stock"], [token], client)
        elif strategy == "single":
            stock.reserve(SALE, ticket_id(n), 1, client=client, loaded=loaded)
            n, done = n + 1, done + 1
        else:
            batch = [(ticket_id(n + i), 1) for i in range(BATCH)]
            outcomes = stock.reserve_batch(SALE, batch, client=client, loaded=loaded)
            done += sum(outcome.code == "reserved" for outcome in outcomes)
            n += BATCH
    results.put((done, time.perf_counter() - started))


def python_run(strategy: str, url: str, workers: int, seconds: float) -> float:
    """Reserves per second of `workers` processes using `strategy` for `seconds`."""
    client = redis.Redis.from_url(url, decode_responses=True)
    prepare(client, 0 if strategy == "lock" else workers * PER_WORKER)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=worker, args=(strategy, url, i * PER_WORKER, seconds, results))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(seconds + 30)
    answers = [results.get(timeout=5) for _ in processes]
    return sum(done for done, _ in answers) / max(elapsed for _, elapsed in answers)


def ceiling_run(url: str, requests: int) -> float:
    """redis-benchmark's EVALSHA of reserve.lua on fresh tickets: requests per second."""
    client = redis.Redis.from_url(url, decode_responses=True)
    prepare(client, requests)
    script = load_scripts(client).reserve
    sha = client.script_load(script.script.script)
    host, port, db = _address(url)
    keys = script.bind(SALE)
    command = [
        _benchmark_binary(), "-h", host, "-p", str(port), "--dbnum", str(db), "-n", str(requests),
        "-r", str(requests), "-c", "50", "-q",
        "EVALSHA", sha, str(len(keys)), *keys, "t__rand_int__", "1", str(time.time()),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
    found = re.findall(r"([\d.]+) requests per second", output)
    if not found:
        raise RuntimeError(f"redis-benchmark said: {output[-500:]}")
    return float(found[-1])


def _address(url: str) -> tuple[str, int, int]:
    parsed = redis.connection.parse_url(url)
    return parsed.get("host", "127.0.0.1"), int(parsed.get("port", 6379)), int(parsed.get("db", 0))


def _benchmark_binary() -> str:
    found = shutil.which("redis-benchmark")
    if found:
        return found
    beside = Path(redis_server_binary()).with_name("redis-benchmark")
    if beside.exists():
        return str(beside)
    raise SystemExit(
        "redis-benchmark is not installed (apt-get install redis-tools): no ceiling to compare with"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=30_000, help="redis-benchmark requests per run")
    args = parser.parse_args()
    started = time.monotonic()
    if os.environ.get("REDIS_URL"):
        report(os.environ["REDIS_URL"], args)
    else:
        with PrivateRedis(Path(tempfile.mkdtemp(prefix="yakku-bench-redis-"))) as server:
            report(server.url, args)
    print(f"(bench took {time.monotonic() - started:.0f} s)")


def report(url: str, args) -> None:
    figures = {}
    for name in ("lock", "single", "batched"):
        figures[name] = statistics.median(
            python_run(name, url, args.workers, args.seconds) for _ in range(args.runs)
        )
    figures["ceiling"] = statistics.median(ceiling_run(url, args.requests) for _ in range(args.runs))
    print(f"stock strategies: {args.workers} client processes, median of {args.runs} runs, batch {BATCH}")
    labels = {
        "lock": "(a) lock + GET/DECR (seed)",
        "single": "(b) reserve.lua per attempt",
        "batched": f"(c) reserve_batch.lua x{BATCH}",
        "ceiling": "(d) redis-benchmark EVALSHA",
    }
    for name, label in labels.items():
        print(f"  {label:32} {figures[name]:>12,.0f} reserves/s")
    print(f"  batched / ceiling  {figures['batched'] / figures['ceiling']:.2f}")
    print(f"  single / lock      {figures['single'] / figures['lock']:.1f}x")


if __name__ == "__main__":
    main()
