"""The flash sale: sales and their lifecycle, waiting room, admitter, tickets and stock counter."""

from apiflask import APIFlask
from flask import Flask

from admission.scripts import load_scripts

DEFAULTS = {
    "ADMISSION_GRACE_S": 30,  # least time a waiter may go unseen before losing their place
    "ADMISSION_RATE_WINDOW_S": 60,  # the measured admission rate looks back this far
    "ADMITTER_INTERVAL_S": 0.2,
}


def init_app(app: Flask) -> None:
    """Load the scripts on the app's Redis (extensions["admission"]); an API app also serves /api/sales."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.extensions["admission"] = {"scripts": load_scripts(app.extensions["redis"])}
    if isinstance(app, APIFlask) and "sales" not in app.blueprints:
        from admission import checkout_views  # noqa: F401  (adds the checkout routes to bp)
        from admission.views import bp

        app.register_blueprint(bp)
