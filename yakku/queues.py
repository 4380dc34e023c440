"""The RQ queues, bound to an app. Jobs are module-level functions enqueued by reference, each by the
area that owns it (the sale's checkout jobs: admission/checkout/jobs.py; the mail job: workers/mail.py)."""

import logging
from collections.abc import Iterable
from enum import StrEnum

from flask import Flask, current_app
from prometheus_client.core import GaugeMetricFamily
from redis import Redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from yakku.reconnect import REDIS_AWAY

log = logging.getLogger(__name__)


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


class QueueCollector:
    """Each queue's depth, running and failed jobs, and the workers online, read when Prometheus scrapes."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily("yakku_queue_depth", "Jobs waiting in the queue.", labels=["queue"])
        running = GaugeMetricFamily("yakku_queue_running", "Jobs started, not finished.", labels=["queue"])
        failed = GaugeMetricFamily("yakku_queue_failed", "Jobs in the failed registry.", labels=["queue"])
        workers = GaugeMetricFamily("yakku_workers", "RQ workers online.")
        queues = self.app.extensions["yakku.rq"]
        try:
            counts = {
                name: (
                    queue.count,
                    StartedJobRegistry(queue=queue).count,
                    FailedJobRegistry(queue=queue).count,
                )
                for name, queue in queues.items()
            }
            online = len(Worker.all(connection=queues[QueueName.CHECKOUT].connection))
        except REDIS_AWAY as away:
            # The scrape still answers the process's own metrics (its drains, its jobs), without these.
            log.warning("metrics: no queue figures, Redis is unreachable (%s)", away)
            counts, online = {}, None
        for name, (waiting, started, in_failed) in counts.items():
            depth.add_metric([name], waiting)
            running.add_metric([name], started)
            failed.add_metric([name], in_failed)
        if online is not None:
            workers.add_metric([], online)
        yield from (depth, running, failed, workers)
