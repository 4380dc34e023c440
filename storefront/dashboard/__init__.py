"""The operator dashboard under /ops: sales, their lifecycle and live figures, the audit, the queues.

Actions go through the sales API with the operator's own token; live figures are read from Redis.
"""

from flask import Flask

from storefront.dashboard import views  # noqa: F401  (registers the routes on bp)
from storefront.dashboard.blueprint import bp


def init_app(app: Flask) -> None:
    """Register the dashboard's pages."""
    app.register_blueprint(bp)
