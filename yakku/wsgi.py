"""Entry points for the Procfile's servers: `gunicorn "yakku.wsgi:api()"`, `gunicorn "yakku.wsgi:internal()"`
and granian's `--interface wsgi --factory yakku.wsgi:web` (yakku/web_server.py)."""

import atexit
import os

from apiflask import APIFlask

from admission import front_door
from api.client.registry import Heartbeat, entry
from yakku.factory import create_api_app, create_web_app
from yakku.request_id import configure_logging


def api() -> APIFlask:
    """The services, for shoppers' requests; YAKKU_SERVICES (comma-separated) serves only some of them.

    With ADVERTISE_URL set, the process announces its services in the Redis registry until it exits.
    """
    app = _services_app("api")
    if os.environ.get("ADVERTISE_URL"):
        _advertise(app, os.environ["ADVERTISE_URL"], internal=False)
    return app


def internal() -> APIFlask:
    """The same services in their own pool, for the calls services make to each other (batch order and
    pay, stock reservations, tokenising a card), so a drain never queues behind shoppers' logins.

    It announces itself at INTERNAL_URL (ADVERTISE_URL wins) as its services' internal entries, which
    every service client resolves its internal calls to.
    """
    app = _services_app("internal")
    _advertise(app, os.environ.get("ADVERTISE_URL") or app.config["INTERNAL_URL"], internal=True)
    return app


def web():
    """The storefront and the operator dashboard; it beats the front door's clock while it runs."""
    configure_logging()
    app = create_web_app({"SERVICE_NAME": "web"})
    front_door.Beat(app).start()  # in each server worker (each makes its own app)
    return app


def _services_app(name: str) -> APIFlask:
    configure_logging()
    names = os.environ.get("YAKKU_SERVICES")
    return create_api_app({"SERVICE_NAME": name}, services=tuple(names.split(",")) if names else None)


def _advertise(app: APIFlask, url: str, internal: bool) -> None:
    services = tuple(entry(service, internal) for service in app.extensions["yakku.services"])
    heartbeat = Heartbeat(app.extensions["yakku.redis"], services, url).start()
    atexit.register(heartbeat.stop)
