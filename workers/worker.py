"""The RQ worker the `worker` process runs: jobs run in this process, each inside a fresh app context."""

from flask import Flask
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from yakku.queues import QueueName


class AppWorker(SimpleWorker):
    """A SimpleWorker bound to one Flask app; every job gets its own app context (and so its own session)."""

    app: Flask

    def execute_job(self, job: Job, queue: Queue) -> None:
        # A fresh context per job: a session or `g` left by one job never leaks into the next.
        with self.app.app_context():
            super().execute_job(job, queue)


def make_worker(app: Flask, name: str | None = None) -> AppWorker:
    """A worker on the app's queues, in QueueName order (checkout drains before mail)."""
    queues = [app.extensions["yakku.rq"][queue_name] for queue_name in QueueName]
    worker = AppWorker(queues, connection=queues[0].connection, name=name)
    worker.app = app
    return worker
