"""Entry points for gunicorn: `gunicorn "yakku.wsgi:api()"` and `gunicorn "yakku.wsgi:web()"`."""

import os

from yakku.factory import create_api_app, create_web_app


def api():
    """The internal services; YAKKU_SERVICES (comma-separated) serves only some of them."""
    names = os.environ.get("YAKKU_SERVICES")
    return create_api_app(services=tuple(names.split(",")) if names else None)


def web():
    """The storefront and the operator dashboard."""
    return create_web_app()
