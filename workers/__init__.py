"""RQ queues and the jobs the workers drain. Jobs are module-level functions enqueued by reference."""

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
    """Bind the queues to the app's Redis (RQ needs raw bytes, so it has its own client)."""
    connection = Redis.from_url(app.config["REDIS_URL"])
    app.extensions["rq"] = {name: Queue(name.value, connection=connection) for name in QueueName}


def get_queue(name: QueueName) -> Queue:
    """The current app's queue of that name."""
    return current_app.extensions["rq"][name]
