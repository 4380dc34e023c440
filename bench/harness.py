"""A whole platform on loopback for the benchmarks and the load test: Redis, database, api, web, workers.

Each process is the real one the Procfile runs (granian for the web, gunicorn for the api, `yakku worker`,
`yakku admitter`), started in a temp instance folder, and all of them are stopped when the block ends.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from yakku.private_redis import PrivateRedis, free_port  # noqa: E402


@dataclass
class Platform:
    env: dict
    api_url: str
    web_url: str
    processes: list = field(default_factory=list)
    named: dict = field(default_factory=dict)  # the last process started under each name

    def app(self):
        """An API app on the platform's database and Redis, for setting things up in-process."""
        from yakku.factory import create_api_app

        return create_api_app({key: value for key, value in self.env.items() if key.isupper()})

    def start(
        self, name: str, *command: str, cwd: Path | None = None, env: dict | None = None
    ) -> subprocess.Popen:
        log = open(Path(self.env["YAKKU_INSTANCE_PATH"]) / f"{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            command, env=env or self.env, stdout=log, stderr=log, start_new_session=True, cwd=cwd
        )
        self.processes.append(process)
        self.named[name] = process
        return process

    def workers(self, count: int) -> list[subprocess.Popen]:
        return [
            self.start(f"worker{n}", *YAKKU, "worker", "--name", f"bench-{n}-{os.getpid()}")
            for n in range(count)
        ]

    def admitter(self) -> subprocess.Popen:
        return self.start("admitter", *YAKKU, "admitter")

    def stop(self, processes: list | None = None) -> None:
        for process in processes if processes is not None else self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes if processes is not None else self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


YAKKU = (sys.executable, "-c", "from yakku.cli import main; main()")


def gunicorn(app: str, port: int, workers: int, threads: int = 8) -> tuple[str, ...]:
    """gunicorn's gthread workers as the Procfile's api line runs them; `app` as in "yakku.wsgi:api()"."""
    return (
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--reuse-port",  # as the Procfile: a listening socket per worker, the kernel spreads connections
        "--log-level",
        "warning",
        "--config",  # as the Procfile: metrics in multiprocess mode, so their cost is in the figures
        "python:yakku.gunicorn_conf",
        app,
    )


def granian(app: str, port: int, workers: int, threads: int = 8) -> tuple[str, ...]:
    """granian's WSGI server (Rust's HTTP/1 in front of `threads` Python threads per worker), same app."""
    target, factory = (app[:-2], ("--factory",)) if app.endswith("()") else (app, ())
    return (
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        *factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--log-level",
        "warning",
        target,
    )


# The web servers the benches can put in front of an app: name -> (command maker, threads per worker).
SERVERS = {
    "gunicorn": (gunicorn, 8),
    "gunicorn-4t": (gunicorn, 4),
    "gunicorn-16t": (gunicorn, 16),
    "granian": (granian, 8),
    "granian-4t": (granian, 4),
    "granian-2t": (granian, 2),
}


def serve(server: str, app: str, port: int, workers: int) -> tuple[str, ...]:
    """The command that runs `app` on `port` under one of SERVERS."""
    make, threads = SERVERS[server]
    return make(app, port, workers, threads)


def cpu_seconds(processes: list) -> float:
    """User + system CPU time of these processes and their children (a server's workers) so far."""
    return sum(_cpu_by_pid(processes, parents=True).values())


def children_cpu_seconds(processes: list) -> dict[int, float]:
    """User + system CPU time so far of each child of these processes (a server's workers), by pid."""
    return _cpu_by_pid(processes, parents=False)


def _cpu_by_pid(processes: list, parents: bool) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            tree = psutil.Process(process.pid)
            for one in [tree, *tree.children(recursive=True)] if parents else tree.children(recursive=True):
                times = one.cpu_times()
                seconds[one.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return seconds


def add_wrk_arguments(parser, duration: int) -> None:
    """The load's options, the same for every wrk bench: closed loop, one request in flight a connection."""
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--connections", type=int, default=32, help="Connections, a request in flight each.")
    parser.add_argument("--duration", type=int, default=duration, help="Seconds of load per run.")
    parser.add_argument("--runs", type=int, default=3, help="Rounds; each target takes one turn a round.")


def wrk(url: str, args, script: str, *script_args: str) -> dict:
    """wrk against `url` for --duration seconds with bench/`script`, which ends by printing its figures as
    one JSON line (bench/figures.lua); those figures, with requests/s."""
    if shutil.which("wrk") is None:
        sys.exit("the benches drive their load with wrk: apt install wrk")
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=10s",
        f"--script={BENCH / script}",
        url,
        *(("--", *script_args) if script_args else ()),
    ]
    answer = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(answer.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures.pop("seconds")
    return figures


def with_cpu(server: subprocess.Popen, run: Callable[..., dict], *args) -> dict:
    """`run(*args)`'s figures (wrk's, with "requests"), and the CPU the server spent per request meanwhile."""
    before = cpu_seconds([server])
    figures = run(*args)
    figures["cpu_ms"] = (cpu_seconds([server]) - before) * 1000 / max(1, figures["requests"])
    return figures


@contextlib.contextmanager
def platform(
    api_workers: int = 2,
    web_workers: int = 2,
    web: bool = True,
    internal_workers: int = 0,
    web_server: str = "granian",
    events: bool = False,
) -> Iterator[Platform]:
    """Redis (REDIS_URL or a private one), the database (DATABASE_URL or a SQLite file), api and web.

    With `events`, the events process runs too, and the web's pages in line listen to it for the end.

    The web runs under `web_server` (one of SERVERS), the api and internal under gunicorn, as the Procfile.

    With `internal_workers`, the Procfile's `internal` line runs beside them, with that many gunicorn
    workers: it serves the calls the services make to each other (it advertises itself in the registry),
    and the api serves only the shoppers' requests, so a drain's or a submit's call never queues behind
    them.
    """
    with tempfile.TemporaryDirectory(prefix="yakku-bench-") as folder, contextlib.ExitStack() as stack:
        instance = Path(folder)
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(PrivateRedis(instance / "redis")).url
        api_port, web_port = free_port(), free_port()
        env = {
            **os.environ,
            "YAKKU_INSTANCE_PATH": str(instance),
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'yakku.db'}",
            "REDIS_URL": redis_url,
            "MAIL_URL": f"file://{instance / 'outbox'}",
            "API_URL": f"http://127.0.0.1:{api_port}",
            "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "YAKKU_SANDBOX_TIMEOUT": "0.2",
        }
        if events:
            env["EVENTS_URL"] = f"http://127.0.0.1:{free_port()}"
        shop = Platform(env, env["API_URL"], env["PUBLIC_URL"])
        _prepare_database(shop)
        shop.start("api", *gunicorn("yakku.wsgi:api()", api_port, api_workers))
        if events:
            events_port = env["EVENTS_URL"].rsplit(":", 1)[1]
            shop.start("events", *YAKKU, "events", "--port", events_port, "--metrics-port", "0")
        if internal_workers:
            start_internal_pool(shop, free_port(), internal_workers)
        if web:
            shop.start("web", *serve(web_server, "yakku.wsgi:web()", web_port, web_workers))
        try:
            wait_for(f"{shop.api_url}/api/health")
            yield shop
        finally:
            shop.stop()


def start_internal_pool(shop: Platform, port: int, workers: int) -> subprocess.Popen:
    """The Procfile's `internal` line itself, run by the shell as honcho runs it, on `port`."""
    from honcho.environ import parse_procfile

    from yakku.supervisor import exec_line

    line = parse_procfile((ROOT / "Procfile").read_text()).processes["internal"]
    env = {
        **shop.env,
        "INTERNAL_PORT": str(port),
        "INTERNAL_URL": f"http://127.0.0.1:{port}",
        "INTERNAL_CONCURRENCY": str(workers),
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), shop.env.get("PATH", os.defpath)]),
    }
    process = shop.start("internal", "sh", "-c", exec_line(line), env=env)
    wait_for(f"http://127.0.0.1:{port}/api/health")
    return process


def _prepare_database(shop: Platform) -> None:
    from flask_migrate import upgrade

    from yakku.extensions import db

    os.environ["YAKKU_INSTANCE_PATH"] = shop.env["YAKKU_INSTANCE_PATH"]  # secrets.json lives there
    app = shop.app()
    with app.app_context():
        upgrade()
        db.engine.dispose()
    app.extensions["yakku.redis"].flushdb()
    app.extensions["yakku.sales_redis"].flushdb()  # the same client unless the sales are apart


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def open_sale(app, units: int, rate: float, cap: int, window: int, name: str = "Bench Lamp") -> int:
    """A product with exactly `units` in stock, and an open sale of all of them (limit 1 each) admitting
    `rate` shoppers a second, at most `cap` at once, each with `window` s to pay; its id."""
    from admission import sales
    from api.catalog.models import Product
    from yakku.extensions import db

    with app.app_context():
        product = Product(name=f"{name} {time.time_ns()}", description="", price=12_000, stock=units)
        db.session.add(product)
        db.session.commit()
        data = {
            "product_id": product.id,
            "units": units,
            "opens_at": datetime.now(UTC) + timedelta(hours=1),
            "admission_rate": rate,
            "admitted_cap": cap,
            "checkout_window_s": window,
            "per_shopper_limit": 1,
        }
        sale_id = sales.create_sale(data, operator_id=1).id
        sales.arm_sale(sale_id)
        sales.open_sale(sale_id)
        return sale_id
