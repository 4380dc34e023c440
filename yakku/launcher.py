"""`yakku up`: the whole platform on one machine from one command, every Procfile process included."""

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import redis
from flask_migrate import upgrade
from honcho.environ import expand_processes, parse_procfile

from yakku import config as yakku_config
from yakku import seed
from yakku.extensions import db
from yakku.factory import ROOT, create_api_app
from yakku.private_redis import PrivateRedis
from yakku.supervisor import Child, Supervisor

PROCFILE = ROOT / "Procfile"
# Where `yakku up` writes the URL of the private Redis it runs, so `yakku seed` etc. can share it.
REDIS_URL_FILE = "redis.url"
READY_TIMEOUT = 120.0


@dataclass(frozen=True)
class Ports:
    web: int
    api: int
    internal: int = 8002  # the pool of the calls between services (the Procfile's `internal`)
    events: int = 8003  # the events process: the pages in line hear the end of their sale there


def instance_dir() -> Path:
    """The instance folder (YAKKU_INSTANCE_PATH, else ./instance), created if missing."""
    path = Path(yakku_config.instance_path())
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(instance: Path) -> str:
    """DATABASE_URL, else the embedded SQLite file in the instance folder."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'yakku.db'}"


def mail_url(instance: Path) -> str:
    """MAIL_URL, else the outbox folder of the instance, where each message lands as an .eml file."""
    return os.environ.get("MAIL_URL") or f"file://{instance / 'outbox'}"


@contextlib.contextmanager
def redis_url(instance: Path, start: bool = True) -> Iterator[str]:
    """REDIS_URL; else the instance's private Redis: the running one of `yakku up`, or one started here."""
    with redis_server(instance, start) as (url, _):
        yield url


@contextlib.contextmanager
def redis_server(instance: Path, start: bool = True) -> Iterator[tuple[str, PrivateRedis | None]]:
    """The URL `redis_url` gives, and the private Redis behind it when this process started it."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"], None
        return
    marker = instance / REDIS_URL_FILE
    running = _answering(marker.read_text().strip()) if marker.exists() else None
    if running:
        yield running, None
        return
    if not start:
        raise click.ClickException("REDIS_URL is not set and no `yakku up` runs in this instance folder")
    # persist: the append-only file in instance/redis keeps queues and sale state across restarts. The
    # password is the instance's (secrets.json), so a restarted Redis asks what its clients send.
    password = yakku_config.load_or_create_secrets(instance)[yakku_config.REDIS_PASSWORD]
    with PrivateRedis(instance / "redis", persist=True, password=password) as server:
        _write_owner_only(marker, server.url)  # the URL holds the password: as private as secrets.json
        try:
            yield server.url, server
        finally:
            marker.unlink(missing_ok=True)


def _write_owner_only(path: Path, text: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(text)
    path.chmod(0o600)  # a file left by an older version kept its mode


def _answering(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
        return url
    except redis.RedisError:
        return None
    finally:
        client.close()


def app_config(instance: Path, redis: str, ports: Ports | None = None) -> dict:
    """The settings every process of one `yakku up` shares (environment names, string values)."""
    settings = {
        "DATABASE_URL": database_url(instance),
        "REDIS_URL": redis,
        "MAIL_URL": mail_url(instance),
        "YAKKU_INSTANCE_PATH": str(instance),
    }
    if ports:
        settings.update(
            WEB_PORT=str(ports.web),
            API_PORT=str(ports.api),
            INTERNAL_PORT=str(ports.internal),
            PUBLIC_URL=os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{ports.web}",
            API_URL=os.environ.get("API_URL") or f"http://127.0.0.1:{ports.api}",
            INTERNAL_URL=os.environ.get("INTERNAL_URL") or f"http://127.0.0.1:{ports.internal}",
            EVENTS_PORT=str(ports.events),
            # The pages in line listen there for the end of their sale (the events process, Procfile).
            EVENTS_URL=os.environ.get("EVENTS_URL") or f"http://127.0.0.1:{ports.events}",
        )
    return settings


def prepare(settings: dict, echo: Callable[[str], None] = click.echo) -> None:
    """Apply the migrations and seed the database, saying what the seed added."""
    app = create_api_app({name: value for name, value in settings.items() if name != "YAKKU_INSTANCE_PATH"})
    with app.app_context():
        upgrade()
        report = seed.run()
        db.engine.dispose()  # the processes about to start open their own connections
    tell_seed(report, echo)


def tell_seed(report: seed.SeedReport, echo: Callable[[str], None] = click.echo) -> None:
    """Print what a seed run added; the operator's password appears here and nowhere else, once."""
    if report.operator:
        echo("Operator account created. Its password is shown this once only; note it down:")
        echo(f"    e-mail:   {report.operator.email}")
        echo(f"    password: {report.operator.password}")
    if report.products:
        echo(f"Demo catalog: {report.products} products added.")


def process_environment(settings: dict) -> dict:
    """The environment of the Procfile processes: ours, the shared settings, and this venv's bin first."""
    env = dict(os.environ)
    env.update(settings)
    # `yakku`, `gunicorn`, `granian` must resolve to this installation even when the venv is not activated.
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def check_ports_free(ports: Ports) -> None:
    """Fail early, with the option to change, when a port is taken."""
    options = (
        ("--web-port", ports.web),
        ("--api-port", ports.api),
        ("--internal-port", ports.internal),
        ("--events-port", ports.events),
    )
    for option, port in options:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise click.ClickException(f"port {port} is in use: choose another with {option}") from None


def up(ports: Ports, workers: int, procfile: Path = PROCFILE) -> int:
    """Run the platform until Ctrl-C, SIGTERM or SIGHUP; 128 + that signal (130 on Ctrl-C)."""
    if not procfile.exists():
        raise click.ClickException(f"no Procfile at {procfile}: run yakku up from a source checkout")
    check_ports_free(ports)
    instance = instance_dir()
    # So a stop during setup still cleans up (Ctrl-C raises KeyboardInterrupt by itself).
    previous = {signum: signal.signal(signum, _exit_on_signal) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with redis_server(instance) as (url, private_redis):
            settings = app_config(instance, url, ports)
            if not os.environ.get("MAIL_URL"):
                (instance / "outbox").mkdir(exist_ok=True)  # so the folder we point at is there to open
            prepare(settings)
            supervisor = platform_supervisor(procfile, process_environment(settings), workers, private_redis)
            threading.Thread(target=_announce, args=(ports, instance, settings), daemon=True).start()
            return supervisor.run()  # until a stop signal, restarting any process that dies
    except KeyboardInterrupt:
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def platform_supervisor(
    procfile: Path, env: dict, workers: int, private_redis: PrivateRedis | None = None
) -> Supervisor:
    """Every Procfile process (`workers` copies of `worker`), and the private Redis when we run one."""
    supervisor = Supervisor()
    if private_redis:
        # Started again on its port if it dies, so the processes reconnect; stopped after them, so a
        # worker stopping can still tell RQ it is gone.
        supervisor.add(Child("redis", private_redis.ensure_running, last=True))
    processes = parse_procfile(procfile.read_text()).processes
    for process in expand_processes(processes, concurrency={"worker": workers}, env=env):
        supervisor.add_command(process.name, process.cmd, process.env)
    return supervisor


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _announce(ports: Ports, instance: Path, settings: dict) -> None:
    if not _wait_for_ports((ports.web, ports.api, ports.internal), READY_TIMEOUT):
        return
    click.echo(
        "\n"
        f"Yakku is up.\n"
        f"  shop:       http://127.0.0.1:{ports.web}\n"
        f"  API docs:   http://127.0.0.1:{ports.api}/api/docs\n"
        f"  events:     {settings['EVENTS_URL']}\n"
        f"  outbox:     {settings['MAIL_URL']}\n"
        f"  instance:   {instance}\n"
        "Press Ctrl-C to stop every process.\n"
    )


def _wait_for_ports(ports: tuple[int, ...], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", waiting[0]), timeout=1).close()
            waiting.pop(0)
        except OSError:
            time.sleep(0.2)
    return not waiting
