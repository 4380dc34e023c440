"""The flash sale: sales and their lifecycle, waiting room, admitter, tickets and stock counter."""

from apiflask import APIFlask
from flask import Flask

from admission import views
from admission.checkout import views as checkout_views
from admission.checkout.reconcile import LEASE_SECONDS
from admission.scripts import load_plain_scripts, load_scripts

# Every setting the sale reads, with its default (README.md's table lists them as YAKKU_<NAME>).
DEFAULTS = {
    "ADMISSION_GRACE_S": 30,  # least time a waiter may go unseen before losing their place
    "ADMISSION_RATE_WINDOW_S": 60,  # the measured admission rate looks back this far
    "ADMITTER_INTERVAL_S": 0.2,
    # Checkouts a drain job decides per batch: measured best on 2 cores (bench/sale.py), where 100 a
    # batch drained ~30 % slower and 500 no faster.
    "CHECKOUT_BATCH": 250,
    "CHECKOUT_CRASH_AT": None,  # a failpoint for the recovery tests (admission/checkout/steps.py)
    "CHECKOUT_PAUSE_AT": None,  # the same, where the worker stops (SIGSTOP) until sent SIGCONT
    # The oldest waiting checkout older than this: the sweep queues a drain job whatever the mark says
    # (the one queued was lost, or taken by a worker that never started it).
    "DRAIN_STALL_S": 20,
    # While orders or payments does not answer, a drain takes no checkout: it asks them this often, and
    # after this long without an answer ends, leaving the line to the next job the sweep queues.
    "DRAIN_PROBE_EVERY_S": 1.0,
    "DRAIN_HOLD_OFF_S": 10.0,
    # A checkout handed back to its shopper ("submit again") has at least this long left on its ticket
    # (and at least what it had at submit): enough to press the button again, not a refusal in 2 s.
    "HAND_BACK_MIN_S": 20.0,
    "RECONCILE_EVERY_S": 15,  # how often the admitter queues a reconciler sweep
    "RECONCILE_LEASE_S": LEASE_SECONDS,  # a checkout touched this recently is left to its worker
    # Each web process beats the front door's clock this often (admission/front_door.py); a gap in the
    # beats longer than FRONT_DOOR_STALE_S is downtime, which stops every sale's clock.
    "FRONT_DOOR_BEAT_S": 1.0,
    "FRONT_DOOR_STALE_S": 3.0,
}


def init_app(app: Flask) -> None:
    """Load the sale's scripts on the sales Redis and those of no sale's keys (the lease's, the front door's
    clock's) on the plain one (extensions["yakku.admission"]); an API app serves /api/sales."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.extensions["yakku.admission"] = {
        "scripts": load_scripts(app.extensions["yakku.sales_redis"]),
        "plain": load_plain_scripts(app.extensions["yakku.redis"]),
    }
    if isinstance(app, APIFlask) and "sales" not in app.blueprints:
        app.register_blueprint(views.bp)
        app.register_blueprint(checkout_views.bp)
