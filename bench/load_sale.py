"""A whole flash sale under locust on loopback, then its audit: exits 1 if the audit is red or it oversold.

Starts the platform (bench/harness.py: gunicorn api with 2 workers, --rq-workers `yakku worker`
processes, `yakku admitter`, a private Redis, SQLite or DATABASE_URL), seeds --buyers shoppers with
`yakku seed-buyers` and a product with --units in stock, and, as an operator logged in over HTTP,
creates and arms a sale (--rate shoppers/s, --cap, --window s, limit 1) that the admitter opens
--opens-in seconds later (default: when the last buyer should have logged in, plus 10 s), so the
buyers log in and join the pre-queue first, as on a real sale day. Then it runs
`locust -f locustfile.py --headless` against the api (each buyer logs in, joins, polls as told, checks
out, waits for the outcome) bounded by --run-time, and finally `yakku audit SALE`.

Logins: the platform runs with PASSWORD_HASH_PROFILE=load-test (api/accounts/passwords.py), so the
bulk buyers' hashes, and each login's verification, are a ~1 ms argon2id instead of the default's
~250 ms of CPU on this box, where the default let the api verify ~5 logins/s: 10,000 buyers would
have spent ~35 minutes only logging in. The cheap profile is for load tests only; the rest of a
login (lookup, tokens) and everything after it are the production code paths.

At the end it prints the CPU seconds each process used (locust shares the box's cores with the
platform it measures, so its share is part of the figures).

Run:  python bench/load_sale.py [--buyers 500] [--units 100] [--rate 20] [--cap 50] [--window 120]
                                [--rq-workers 2] [--spawn-rate 50] [--run-time 300] [--decline 0.05]
                                [--no-show 0.2] [--decline-grace 30] [--opens-in SECONDS]
                                [--keep-logs FOLDER]
      python bench/load_sale.py --buyers 10000 --units 1000 --rate 40 --cap 200 --spawn-rate 30 \
                                --opens-in 60 --run-time 600
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, YAKKU, platform  # noqa: E402

OPERATOR = ("Load Operator", "load-operator@example.com", "load-operator-password")
BUYER_PASSWORD = "load-test-password"


def operator_headers(shop) -> dict:
    """An operator made in-process, logged in over HTTP as any operator would be."""
    from api.accounts import create_operator

    name, email, password = OPERATOR
    with shop.app().app_context():
        create_operator(name, email, password)
    answer = requests.post(f"{shop.api_url}/api/accounts/login", json={"email": email, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def add_product(shop, units: int) -> int:
    from api.catalog.models import Product
    from yakku.extensions import db

    with shop.app().app_context():
        product = Product(name="Load Test Teapot", description="", price=8_800, stock=units)
        db.session.add(product)
        db.session.commit()
        return product.id


def open_sale(shop, headers: dict, product_id: int, args) -> int:
    """Create, arm and open the sale through the operator API."""
    body = {
        "product_id": product_id,
        "units": args.units,
        "opens_at": (datetime.now(UTC) + timedelta(seconds=args.opens_in)).isoformat(),
        "admission_rate": args.rate,
        "admitted_cap": args.cap,
        "checkout_window_s": args.window,
        "per_shopper_limit": 1,
        "decline_grace_s": args.decline_grace,
    }
    answer = requests.post(f"{shop.api_url}/api/sales", json=body, headers=headers)
    answer.raise_for_status()
    sale_id = answer.json()["id"]
    # Armed, not opened: the admitter opens it on time, after most buyers logged in and joined its pre-queue.
    requests.post(f"{shop.api_url}/api/sales/{sale_id}/arm", headers=headers).raise_for_status()
    return sale_id


def cpu_use(processes: dict[str, list[subprocess.Popen]]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each group of platform processes, their children
    (gunicorn's workers) included, and by this script's finished children (locust, once it is done)."""
    used = {}
    for name, group in processes.items():
        tree = [psutil.Process(p.pid) for p in group]
        tree += [child for parent in list(tree) for child in parent.children(recursive=True)]
        used[name] = sum(sum(p.cpu_times()[:2]) for p in tree)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["locust"] = children.ru_utime + children.ru_stime
    return used


def log_tail(shop, name: str, lines: int = 5) -> str:
    """What a platform process logged (gunicorn logs warnings and errors only): line count and tail."""
    logged = (Path(shop.env["YAKKU_INSTANCE_PATH"]) / f"{name}.log").read_text(errors="replace").splitlines()
    return f"{name}.log: {len(logged)} lines" + "".join(f"\n  {line}" for line in logged[-lines:])


def run_locust(shop, sale_id: int, args, figures_file: Path) -> int:
    env = {
        **shop.env,
        "SALE_ID": str(sale_id),
        "DECLINE_FRACTION": str(args.decline),
        "NO_SHOW_FRACTION": str(args.no_show),
        "BUYER_PASSWORD": BUYER_PASSWORD,
        "FIGURES_FILE": str(figures_file),
        # Each new connection resolved 127.0.0.1 through gevent's thread pool: ~20 % of locust's samples
        # at 10,000 buyers (py-spy). A numeric loopback address needs no lookup that could block.
        "GEVENT_RESOLVER": "block",
    }
    command = [
        *("locust", "-f", str(ROOT / "locustfile.py"), "--headless", "--only-summary"),
        *("-u", str(args.buyers), "-r", str(args.spawn_rate), "--run-time", f"{args.run_time}s"),
        *("--host", shop.api_url, "--stop-timeout", "5"),
    ]
    print("$", " ".join(command), flush=True)
    locust = Path(sys.executable).parent / "locust"
    command[0] = str(locust) if locust.exists() else "locust"
    return subprocess.run(command, env=env, cwd=ROOT, timeout=args.run_time + 120).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=500, help="Shoppers (at most 10,000).")
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20, help="Admissions per second.")
    parser.add_argument("--cap", type=int, default=50, help="Admitted shoppers not yet finished, at most.")
    parser.add_argument("--window", type=int, default=120, help="Checkout window of a ticket, seconds.")
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--spawn-rate", type=float, default=50, help="Buyers logging in per second.")
    parser.add_argument("--run-time", type=int, default=300, help="Seconds locust may run at most.")
    parser.add_argument("--opens-in", type=float, default=None, help="Seconds from arming to opening.")
    parser.add_argument("--decline", type=float, default=0.05, help="Share of buyers with a declined card.")
    parser.add_argument("--no-show", type=float, default=0.0, help="Share of admitted buyers who never pay.")
    parser.add_argument("--decline-grace", type=int, default=30, help="Seconds a declined card's units wait.")
    parser.add_argument(
        "--internal-workers", type=int, default=2,
        help="Gunicorn workers of the Procfile's internal pool, for the services' calls to each other "
        "(0: none, everything on the one api, as before issue 14).",
    )  # fmt: skip
    parser.add_argument("--keep-logs", type=Path, help="Copy every platform process's log into this folder.")
    args = parser.parse_args()
    if not 1 <= args.buyers <= 10_000:
        parser.error("--buyers must be 1..10000")
    if args.opens_in is None:
        args.opens_in = args.buyers / args.spawn_rate + 10
    # Every simulated buyer logs in from 127.0.0.1: the per-address login limit would refuse all but 20.
    os.environ["YAKKU_AUTH_RATE_LIMIT"] = "1000000 per minute"
    # Set before the platform starts, so seed-buyers, the api and the in-process apps hash alike.
    os.environ["YAKKU_PASSWORD_HASH_PROFILE"] = "load-test"
    with (
        platform(api_workers=2, web=False, internal_workers=args.internal_workers) as shop,
        tempfile.TemporaryDirectory() as scratch,
    ):
        started = time.monotonic()
        seeded = subprocess.run(
            [*YAKKU, "seed-buyers", "--count", str(args.buyers), "--password", BUYER_PASSWORD],
            env=shop.env,
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"seed-buyers: {seeded.stdout.strip()} ({time.monotonic() - started:.1f} s)")
        headers = operator_headers(shop)
        sale_id = open_sale(shop, headers, add_product(shop, args.units), args)
        processes = {
            "api": shop.processes[: 2 if args.internal_workers else 1],
            "rq workers": shop.workers(args.rq_workers),
            "admitter": [shop.admitter()],
        }
        print(
            f"sale {sale_id} opens in {args.opens_in:.0f} s: {args.units} units, rate {args.rate}/s, "
            f"cap {args.cap}, window {args.window} s, "
            f"{args.buyers} buyers ({args.decline:.0%} declined cards, {args.no_show:.0%} no-shows), "
            f"{args.rq_workers} rq workers"
        )
        figures_file = Path(scratch) / "figures.json"
        began, before = time.monotonic(), cpu_use(processes)
        code = run_locust(shop, sale_id, args, figures_file)
        wall = time.monotonic() - began
        used = {name: seconds - before[name] for name, seconds in cpu_use(processes).items()}
        print(f"locust exited {code} after {wall:.1f} s; CPU in that time (share of one core):")
        print("  " + ", ".join(f"{name} {sec:.0f} s ({sec / wall:.0%})" for name, sec in used.items()))
        print(log_tail(shop, "api"))
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in Path(shop.env["YAKKU_INSTANCE_PATH"]).glob("*.log"):
                shutil.copy(log, args.keep_logs / log.name)
            print(f"logs kept in {args.keep_logs}")
        if figures_file.exists():
            print("figures:", json.dumps(json.loads(figures_file.read_text())))
        audit = subprocess.run([*YAKKU, "audit", str(sale_id)], env=shop.env, capture_output=True, text=True)
        print(audit.stdout)
        report = json.loads(
            subprocess.run(
                [*YAKKU, "audit", str(sale_id), "--json"], env=shop.env, capture_output=True, text=True
            ).stdout
        )
    figures = report["figures"]
    oversold = figures["sold"] + figures["held"] - figures["units"]
    print(f"oversold: {max(0, oversold)}")
    print(
        f"units sold {figures['sold']} of {figures['units']}, unsold {figures['unsold']}, turned away "
        f"{figures['turned_away']} (while a unit was unsold: {figures['turned_away_while_unsold']}), "
        f"admitted out of order {figures['admitted_out_of_order']}, run {time.monotonic() - started:.0f} s"
    )
    sys.exit(0 if audit.returncode == 0 and oversold <= 0 else 1)


if __name__ == "__main__":
    main()
