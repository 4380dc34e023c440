"""Entry points for the Procfile's servers: `gunicorn "yakku.wsgi:api()"` and
`granian --interface wsgi --factory yakku.wsgi:web`."""

import atexit
import os

from admission import front_door
from api.client.registry import Heartbeat
from yakku.factory import create_api_app, create_web_app


def api():
    """The internal services; YAKKU_SERVICES (comma-separated) serves only some of them.

    With ADVERTISE_URL set, the process announces its services in the Redis registry until it exits.
    """
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
    app = create_web_app({"SERVICE_NAME": "web"})
    front_door.Beat(app).start()  # in each server worker (each makes its own app)
    return app
