"""The `yakku` command: start the platform, seed it, migrate its database, run its worker."""

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import flask_migrate
from apiflask import APIFlask

from yakku import launcher, metrics
from yakku.factory import create_api_app
from yakku.request_id import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Yakku, an open flash-sale platform."""


@main.command()
# The same variables the Procfile's web and api lines read, so `WEB_PORT=9000 yakku up` moves the shop.
@click.option(
    "--web-port",
    default=8000,
    show_default=True,
    envvar="WEB_PORT",
    show_envvar=True,
    help="Port of the storefront.",
)
@click.option(
    "--api-port",
    default=8001,
    show_default=True,
    envvar="API_PORT",
    show_envvar=True,
    help="Port of the API, for shoppers' requests.",
)
@click.option(
    "--internal-port",
    default=8002,
    show_default=True,
    envvar="INTERNAL_PORT",
    show_envvar=True,
    help="Port of the API's pool for the calls between services.",
)
@click.option(
    "--events-port",
    default=8003,
    show_default=True,
    envvar="EVENTS_PORT",
    show_envvar=True,
    help="Port of the events process (the pages in line hear the end of a sale there).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="RQ worker processes.")
def up(web_port: int, api_port: int, internal_port: int, events_port: int, workers: int) -> None:
    """Migrate, seed and run every Procfile process; Ctrl-C stops them all."""
    ports = launcher.Ports(web=web_port, api=api_port, internal=internal_port, events=events_port)
    sys.exit(launcher.up(ports, workers))


@contextlib.contextmanager
def api_app(start_redis: bool = True) -> Iterator[APIFlask]:
    """An API app on this deployment's database and Redis (the embedded ones unless the env names others).

    The Redis is the environment's, or the private one of a running `yakku up`, or (with `start_redis`)
    one started for as long as the block runs.
    """
    instance = launcher.instance_dir()
    with launcher.redis_url(instance, start=start_redis) as url:
        settings = launcher.app_config(instance, url)
        del settings["YAKKU_INSTANCE_PATH"]
        yield create_api_app(settings)


@main.command()
def seed() -> None:
    """Add the operator account and the demo catalog if missing (the password is printed this once)."""
    from yakku import seed as seeding

    with api_app() as app, app.app_context():
        report = seeding.run()
    launcher.tell_seed(report)
    if not (report.operator or report.products):
        click.echo("Nothing to seed: the operator and the catalog exist.")


@main.command("seed-buyers")
@click.option("--count", required=True, type=click.IntRange(1), help="Shoppers 1..COUNT to have.")
@click.option("--password", default="load-test-password", show_default=True, help="Everyone's password.")
@click.option(
    "--prefix", default="buyer", show_default=True, help="E-mails are PREFIX<n>@load.yakku.example."
)
def seed_buyers(count: int, password: str, prefix: str) -> None:
    """Create verified shoppers in bulk for a load test (existing ones are kept)."""
    from api.accounts.bulk import create_verified_shoppers, shopper_email

    with api_app() as app, app.app_context():
        created = create_verified_shoppers(count, password, prefix)
    click.echo(
        f"{created} created, {count - created} existed: "
        f"{shopper_email(prefix, 1)} .. {shopper_email(prefix, count)}"
    )


@main.group()
def db() -> None:
    """Schema migrations (Alembic through Flask-Migrate)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def db_upgrade(revision: str, sql: bool) -> None:
    """Apply the revisions up to REVISION (default: all)."""
    with api_app() as app, app.app_context():
        flask_migrate.upgrade(revision=revision, sql=sql)


@db.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Undo revisions down to REVISION (default: one step back; `base` undoes all)."""
    with api_app() as app, app.app_context():
        flask_migrate.downgrade(revision=revision)


@db.command("migrate")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def db_migrate(message: str) -> None:
    """Write a new revision from the difference between the models and the migrated database."""
    with api_app() as app, app.app_context():
        flask_migrate.migrate(message=message)


@db.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    with api_app() as app, app.app_context():
        flask_migrate.current()


def metrics_port_option(envvar: str, default: int):
    """--metrics-port: where the process serves its Prometheus metrics (the next free port if taken)."""
    return click.option(
        "--metrics-port",
        type=click.IntRange(0, 65535),
        default=default,
        show_default=True,
        envvar=envvar,
        show_envvar=True,
        help="Serve Prometheus metrics on this port (0: none); copies on one host take the next free one.",
    )


def serve_metrics(port: int, *collectors) -> None:
    if port:
        # The Procfile's servers' host: loopback unless a container opens it to its network.
        metrics.serve(port, os.environ.get("BIND_HOST") or "127.0.0.1", *collectors)


@main.command()
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option("--name", default=None, help="Worker name (unique per Redis).")
@metrics_port_option("WORKER_METRICS_PORT", metrics.WORKER_PORT)
def worker(burst: bool, name: str | None, metrics_port: int) -> None:
    """Drain the RQ queues (checkout first, then mail), each job in a fresh app context."""
    from workers.worker import make_worker
    from yakku.queues import QueueCollector

    configure_logging()
    with api_app(start_redis=False) as app:
        serve_metrics(metrics_port, QueueCollector(app))
        make_worker(app, name=name).work(burst=burst)


@main.command()
@metrics_port_option("ADMITTER_METRICS_PORT", metrics.ADMITTER_PORT)
def admitter(metrics_port: int) -> None:
    """Admit waiting shoppers at each sale's rate until SIGTERM or Ctrl-C (one admitter acts at a time)."""
    from admission.admitter import run

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Finish the current tick and give up the lease, so another admitter takes over at once.
        signal.signal(signum, lambda *_: stop.set())
    configure_logging()
    with api_app(start_redis=False) as app, app.app_context():
        serve_metrics(metrics_port)
        run(stop=stop)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="BIND_HOST", show_envvar=True)
@click.option("--port", default=8003, show_default=True, envvar="EVENTS_PORT", show_envvar=True)
@metrics_port_option("EVENTS_METRICS_PORT", metrics.EVENTS_PORT)
def events(host: str, port: int, metrics_port: int) -> None:
    """Hold a Server-Sent Events stream per page in line; tell each the end of its sale at once."""
    from events.serve import serve

    serve(host, port, metrics_port)


@main.command()
@click.argument("sale_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
def audit(sale_id: int, as_json: bool) -> None:
    """Check a sale's invariants (Redis, orders and payments agree); exit 1 if any is broken."""
    import json

    from admission.audit import audit_sale

    with api_app(start_redis=False) as app, app.app_context():
        report = audit_sale(sale_id)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for name, value in report.figures.items():
            click.echo(f"{name:>18}: {value}")
        for check in report.checks:
            click.echo(f"  [{'ok' if check.ok else 'BROKEN'}] {check.name}: {check.detail}")
        click.echo("audit: green" if report.ok else "audit: RED")
    sys.exit(0 if report.ok else 1)


@main.command("verify-draw")
@click.argument("sale_id", type=int)
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    help="Check a draw saved from GET /api/sales/SALE_ID/draw instead of this deployment's record.",
)
def verify_draw(sale_id: int, path: str | None) -> None:
    """Recompute a sale's draw from what was published and say whether it matches; exit 1 if not."""
    import json

    from admission import draw, sales

    if path:
        checks = draw.verify(json.loads(Path(path).read_text()))
    else:
        with api_app(start_redis=False) as app, app.app_context():
            sales.get_sale(sale_id)  # an opening the admitter made is published when the sale is read
            checks = draw.verify_sale(sale_id)
    for check in checks:
        click.echo(f"  [{'ok' if check.ok else 'BROKEN'}] {check.name}: {check.detail}")
    ok = all(check.ok for check in checks)
    click.echo(f"draw of sale {sale_id}: " + ("matches" if ok else "DOES NOT MATCH"))
    sys.exit(0 if ok else 1)


@main.command()
@click.argument("sale_id", type=int, required=False)
@click.option("--lease", default=30.0, show_default=True, help="Leave checkouts touched this recently alone.")
def reconcile(sale_id: int | None, lease: float) -> None:
    """Finish the checkouts killed workers left half done (one sale, or every live sale)."""
    from admission.checkout.jobs import reconcile_all, reconcile_one

    with api_app(start_redis=False) as app, app.app_context():
        done = reconcile_one(sale_id, lease=lease) if sale_id else reconcile_all(lease=lease)
    click.echo(", ".join(f"{what}: {count}" for what, count in sorted(done.items())) or "nothing to do")


@main.command()
@click.argument("sale_id", type=int, required=False)
def recover(sale_id: int | None) -> None:
    """Put back what Redis lost of a sale (or of every sale it must hold) from the database."""
    from admission import recovery

    with api_app(start_redis=False) as app, app.app_context():
        found = [recovery.check_sale(sale_id)] if sale_id else recovery.check_sales()
    changed = [r for r in found if r.kind is not None]
    for r in changed:
        click.echo(f"sale {r.sale_id}: {r.kind}")
        for name, value in r.detail().items():
            click.echo(f"  {name}: {value}")
    if not changed:
        click.echo("Redis agrees with the database" + (f" on sale {sale_id}" if sale_id else ""))
