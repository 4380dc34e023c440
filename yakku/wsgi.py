"""Entry points for gunicorn: `gunicorn "yakku.wsgi:api()"` and `gunicorn "yakku.wsgi:web()"`."""

import atexit
import os

from admission import front_door
from api.client.registry import Heartbeat
from yakku.factory import create_api_app, create_web_app
from yakku.request_id import configure_logging


def api():
    """The internal services; YAKKU_SERVICES (comma-separated) serves only some of them.

    With ADVERTISE_URL set, the process announces its services in the Redis registry until it exits.
    """
    configure_logging()
    names = os.environ.get("YAKKU_SERVICES")
    app = create_api_app({"SERVICE_NAME": "api"}, services=tuple(names.split(",")) if names else None)
    advertise = os.environ.get("ADVERTISE_URL")
    if advertise:
        heartbeat = Heartbeat(
            app.extensions["yakku.redis"], app.extensions["yakku.services"], advertise
        ).start()
        atexit.register(heartbeat.stop)
    return app


def web():
    """The storefront and the operator dashboard; it beats the front door's clock while it runs."""
    configure_logging()
    app = create_web_app({"SERVICE_NAME": "web"})
    front_door.Beat(app).start()  # in each gunicorn worker (the app is made after the fork)
    return app
