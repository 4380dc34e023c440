"""The waiting room under each web server: requests/s and latency of join + status polls, closed loop.

The platform (bench/harness.py) runs on a private Redis and, for each --servers entry, the api under that
server (--api-workers workers; bench/harness.py SERVERS: gunicorn gthread as the Procfile runs it, with
fewer or more threads, and granian's WSGI server). One sale is open with an admission rate of 1
shopper/s and no admitter running, so every shopper stays waiting and each status computes a place, an
ETA and a poll hint. The shoppers' access tokens are minted in-process (api.auth.issue_token_pair), so
no login is paid.

The load: wrk (Debian's package; C, so the load costs the shared cores little), --connections
keep-alive connections with one request in flight each, for --duration seconds; per --polls status
polls (GET /queue/me, to shoppers who joined earlier) one new shopper joins (POST /queue)
(bench/waiting_room_load.lua). After each run the same load goes to a ceiling: the same server
serving a canned status (bench/ceiling_app.py). Client and server share the machine's cores, so the
servers take turns (A B A B ...) round after round and the medians are compared.

Run:  python bench/waiting_room.py [--servers gunicorn granian] [--shoppers 10000] [--polls 5]
                                   [--threads 1] [--connections 32] [--duration 15] [--runs 3]
                                   [--api-workers 2]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BENCH,
    SERVERS,
    add_wrk_arguments,
    free_port,
    open_sale,
    platform,
    serve,
    wait_for,
    with_cpu,
    wrk,
)


def waiting_room_sale(app, units: int) -> int:
    """An open sale of `units` units admitting 1 shopper/s, and no admitter: nobody gets in here.

    The units must cover every shopper of the run, or those past them are told "sold out" at once
    and their polls take the short final-state path instead of the place, ETA and poll hint.
    """
    return open_sale(app, units, rate=1, cap=100, window=300, name="Queue Bench Vase")


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
        script_args = (token_file.name, sale_id, args.polls, lag, args.threads, ready_shoppers(args))
        return wrk(api_url, args, "waiting_room_load.lua", *map(str, script_args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=["gunicorn", "granian"])
    parser.add_argument("--shoppers", type=int, default=10_000, help="Shoppers per run (each joins once).")
    parser.add_argument("--polls", type=int, default=5, help="Status polls per join, to earlier joiners.")
    parser.add_argument("--api-workers", type=int, default=2, help="Worker processes of each server.")
    add_wrk_arguments(parser, duration=15)
    args = parser.parse_args()
    runs = {server: {"waiting room": [], "ceiling": []} for server in args.servers}
    with platform(api_workers=1, web=False) as shop:
        app = shop.app()
        pairs = {server: start_pair(shop, server, args.api_workers) for server in args.servers}
        turn = 0
        for run in range(args.runs):
            for server in args.servers:
                # A fresh sale per run: every join is a first join.
                sale_id = waiting_room_sale(app, args.shoppers)
                first = 1 + turn * args.shoppers
                tokens = mint_tokens(app, first, args.shoppers)
                join_first(app, sale_id, first, ready_shoppers(args))
                turn += 1
                for what, (url, process) in zip(("waiting room", "ceiling"), pairs[server], strict=True):
                    # The ceiling right after, so both see the same moment of a shared, noisy machine.
                    figures = with_cpu(process, one_run, url, sale_id, tokens, args)
                    runs[server][what].append(figures)
                    report(server, what, run, runs[server][what][-1])
    print(
        f"waiting room, 1 join + {args.polls} status per shopper, wrk {args.threads} thread(s) x "
        f"{args.connections} connections, {args.api_workers} workers per server, medians of {args.runs} "
        "runs taken in turns"
    )
    for server in args.servers:
        summarise(server, runs[server]["waiting room"], runs[server]["ceiling"], runs[args.servers[0]])
    print("  targets: >= 3,000 req/s, p99 < 50 ms, >= 0.75 of the ceiling under the same server")


def start_pair(shop, server: str, workers: int) -> tuple[tuple[str, subprocess.Popen], ...]:
    """The api and the ceiling under `server`, each on a port of its own: (base URL, process) of each,
    once they answer."""
    api_port, ceiling_port = free_port(), free_port()
    api = shop.start(f"api-{server}", *serve(server, "yakku.wsgi:api()", api_port, workers))
    ceiling_command = serve(server, "ceiling_app:app", ceiling_port, workers)
    ceiling = shop.start(f"ceiling-{server}", *ceiling_command, cwd=BENCH)
    wait_for(f"http://127.0.0.1:{api_port}/api/health")
    wait_for(f"http://127.0.0.1:{ceiling_port}/api/sales/1/queue/me")
    return (f"http://127.0.0.1:{api_port}", api), (f"http://127.0.0.1:{ceiling_port}", ceiling)


def summarise(server: str, rooms: list[dict], ceilings: list[dict], first: dict) -> None:
    """One line per server: medians, the share of its own ceiling, and the ratio to the first server."""
    rps, p50, p99, cpu = (median(rooms, key) for key in ("rps", "p50_ms", "p99_ms", "cpu_ms"))
    top, top_p99, top_cpu = (median(ceilings, key) for key in ("rps", "p99_ms", "cpu_ms"))
    baseline = median(first["waiting room"], "rps")
    errors = sum(r["errors"] for r in rooms)
    print(
        f"  {server:>12}: {rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors:.0f} errors, "
        f"server CPU {cpu:.2f} ms/req | ceiling {top:,.0f} req/s, p99 {top_p99:.1f} ms, {top_cpu:.2f} ms/req "
        f"| room / ceiling {rps / top:.2f} | x{rps / baseline:.2f} of the first"
    )


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report(server: str, what: str, run: int, figures: dict) -> None:
    rounded = {key: round(value, 2 if key == "cpu_ms" else 1) for key, value in figures.items()}
    print(json.dumps({"run": run + 1, "server": server, "of": what, **rounded}), flush=True)


if __name__ == "__main__":
    main()
