"""The end check every waiter makes: requests/s and latency of GET /sales/ID/end, web and api, closed loop.

Every page in line asks the web's `GET /sales/ID/end` every END_CHECK_EVERY_S (admission/lookup.py), and
API clients ask the api's `GET /api/sales/ID/end`: while the sale goes on the web answers 204 and the
api `{"ended": false, ...}`. The platform (bench/harness.py) runs both as the Procfile does (the web under
--web-server, the api under gunicorn) on a private Redis with one open sale; each process asks Redis
at most every END_CHECK_FRESH_S, so this measures the server and the app around one cached look-up.

The load: wrk, --connections keep-alive connections with one request in flight each, for --duration
seconds per run; each round runs the web's check, the api's, and the same two routes answered by a
constant app (bench/ceiling_app.py), each under its own process's server, in turn. Client and server
share the machine's cores. A waiter costs 1 / END_CHECK_EVERY_S requests/s, so a server's req/s times
END_CHECK_EVERY_S is how many waiters' end checks it carries, with nothing else to do.

Run:  python bench/end_check.py [--web-server granian] [--connections 32] [--duration 10] [--runs 3]
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BENCH,
    SERVERS,
    add_wrk_arguments,
    free_port,
    platform,
    serve,
    wait_for,
    with_cpu,
    wrk,
)
from waiting_room import open_sale  # noqa: E402

from admission.lookup import END_CHECK_EVERY_S  # noqa: E402

API_SERVER = "gunicorn"  # the Procfile's api line


def start_ceiling(shop, server: str) -> tuple[str, subprocess.Popen]:
    """The constant app under `server`: its base URL and process, once it answers."""
    port = free_port()
    process = shop.start(f"ceiling-{server}", *serve(server, "ceiling_app:app", port, 2), cwd=BENCH)
    wait_for(f"http://127.0.0.1:{port}/api/sales/1/end")
    return f"http://127.0.0.1:{port}", process


def check_still_on(targets: dict[str, str]) -> None:
    """Every target answers as a sale that goes on: the web 204, the api not ended (else wrk measures
    the wrong answer and counts it as a success)."""
    for what, url in targets.items():
        answer = requests.get(url, timeout=5)
        still_on = answer.status_code == 204 if "/api/" not in url else answer.json()["ended"] is False
        if not still_on:
            sys.exit(f"{what} answered {answer.status_code} {answer.text[:200]!r}: the sale is not going on")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web-server", choices=SERVERS, default="granian", help="The web's server.")
    add_wrk_arguments(parser, duration=10)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {}
    with platform(web_server=args.web_server) as shop:
        sale_id = open_sale(shop.app(), 100)
        wait_for(f"{shop.web_url}/")
        targets = {  # what -> (URL, the server process answering it)
            f"web /end ({args.web_server})": (f"{shop.web_url}/sales/{sale_id}/end", shop.named["web"]),
            f"api /end ({API_SERVER})": (f"{shop.api_url}/api/sales/{sale_id}/end", shop.named["api"]),
        }
        web_ceiling, web_ceiling_process = start_ceiling(shop, args.web_server)
        api_ceiling, api_ceiling_process = start_ceiling(shop, API_SERVER)
        targets[f"ceiling web ({args.web_server})"] = (
            f"{web_ceiling}/sales/{sale_id}/end",
            web_ceiling_process,
        )
        targets[f"ceiling api ({API_SERVER})"] = (
            f"{api_ceiling}/api/sales/{sale_id}/end",
            api_ceiling_process,
        )
        check_still_on({what: url for what, (url, _) in targets.items()})
        for run in range(args.runs):
            for what, (url, process) in targets.items():
                runs.setdefault(what, []).append(with_cpu(process, wrk, url, args, "figures.lua"))
                rounded = {
                    key: round(value, 2 if key == "cpu_ms" else 1) for key, value in runs[what][-1].items()
                }
                print(json.dumps({"run": run + 1, "of": what, **rounded}), flush=True)
    print(
        f"end check, wrk {args.threads} thread(s) x {args.connections} connections, web and api 2 workers "
        f"each, medians of {args.runs} runs taken in turns; a waiter asks every {END_CHECK_EVERY_S} s"
    )
    medians = {what: statistics.median(r["rps"] for r in figures) for what, figures in runs.items()}
    for what, figures in runs.items():
        p99, cpu = (statistics.median(r[key] for r in figures) for key in ("p99_ms", "cpu_ms"))
        errors = sum(r["errors"] for r in figures)
        print(
            f"  {what:>24}: {medians[what]:,.0f} req/s, p99 {p99:.1f} ms, {errors:.0f} errors, server CPU "
            f"{cpu:.2f} ms/req = the end checks of {medians[what] * END_CHECK_EVERY_S:,.0f} waiters"
        )
    web, api = list(medians)[:2]
    print(
        f"  {web} / its ceiling: {medians[web] / medians[f'ceiling web ({args.web_server})']:.2f}; "
        f"{api} / its ceiling: {medians[api] / medians[f'ceiling api ({API_SERVER})']:.2f}"
    )


if __name__ == "__main__":
    main()
