"""The RQ queues, bound to an app. Jobs are module-level functions enqueued by reference, each by the
area that owns it (the sale's checkout jobs: admission/checkout/jobs.py; the mail job: workers/mail.py)."""

from enum import StrEnum

from flask import Flask, current_app
from redis import Redis
from rq import Queue


class QueueName(StrEnum):
    """The queues, in the order a worker drains them."""

    CHECKOUT = "checkout"
    MAINTENANCE = "maintenance"  # the reconciler's sweeps: apart, so checkout depth counts checkouts
    MAIL = "mail"


def init_app(app: Flask) -> None:
    """Bind the queues to the app's plain Redis, QUEUE_REDIS_URL (RQ needs raw bytes, so it has its own
    client; RQ cannot run on a Redis Cluster, which only the sales may use)."""
    connection = Redis.from_url(app.config["QUEUE_REDIS_URL"])
    app.extensions["yakku.rq"] = {name: Queue(name.value, connection=connection) for name in QueueName}


def get_queue(name: QueueName) -> Queue:
    """The current app's queue of that name."""
    return current_app.extensions["yakku.rq"][name]
