"""The RQ worker the `worker` process runs: jobs run in this process, each inside a fresh app context.

It outlives a Redis restart. RQ itself retries only the blocking pop of its queues; a lost connection
anywhere else in its work loop (the heartbeat, the suspension check, the registry cleaning, a job's
bookkeeping) ends `work()` with "found an unhandled exception, quitting". Each of those steps here waits
for Redis to answer again, then the loop goes on.
"""

import logging
from collections.abc import Callable

from flask import Flask, g
from rq import SimpleWorker, worker_registration
from rq.job import Job
from rq.queue import Queue

from admission.checkout.jobs import SWEEP_JOB_ID
from yakku import metrics, request_id
from yakku.queues import QueueName
from yakku.reconnect import MOST_WAIT_S, REDIS_AWAY, wait_for_redis


class QuietRoutineJobs(logging.Filter):
    """Drops the INFO lines RQ's worker writes about each run of a routine job (the sweep, every 15 s: four
    lines each time, which buried the lines an operator reads). Their warnings and errors stay, as do the
    job's own lines and every line of any other job."""

    def __init__(self, job_ids: frozenset[str]):
        super().__init__()
        self.job_ids = job_ids

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        if any(isinstance(arg, str) and arg in self.job_ids for arg in args):
            return False  # a line naming the job: taken, done, its result kept
        return request_id.current() not in self.job_ids  # a line written while it runs


QUIET_JOBS = QuietRoutineJobs(frozenset({SWEEP_JOB_ID}))

# How long the thread that listens for RQ's commands (stop the job, shut down) waits between looks.
# RQ 3 has it wait 60 s, and redis-py 8.2's PubSubWorkerThread.stop() waits for the thread to end: a
# worker stopping just after that thread had read the reply to its unsubscribe waited a whole minute
# (every burst run and every shutdown; the tests saw sign-ups stall 60 and 120 s). 1 s bounds the stop.
PUBSUB_POLL_S = 1.0


class AppWorker(SimpleWorker):
    """A SimpleWorker bound to one Flask app; every job gets its own app context (and so its own session)."""

    app: Flask
    # RQ doubles its wait between tries to pop a job up to 60 s: after a long outage that would leave the
    # worker idle for up to a minute once Redis is back.
    max_connection_wait_time = MOST_WAIT_S

    def subscribe(self) -> None:
        # RQ's own subscribe, but for how long the listening thread waits between looks.
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_S, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def execute_job(self, job: Job, queue: Queue) -> None:
        # A fresh context per job: a session or `g` left by one job never leaks into the next.
        with self.app.app_context():
            g.request_id = job.id  # the job's log lines and service calls carry its id, as a request's
            try:
                super().execute_job(job, queue)
            except REDIS_AWAY as away:
                # Not run again here: the job may have done its work before RQ failed to record it. It
                # stays in RQ's started registry like a killed worker's job (and a checkout is finished
                # by the sale's reconciler), so nothing is lost.
                self.ride_out(away)

    def handle_job_success(self, job: Job, queue: Queue, *args, **kwargs) -> None:
        super().handle_job_success(job, queue, *args, **kwargs)
        metrics.JOBS.labels(queue.name, "finished").inc()

    def handle_job_failure(self, job: Job, queue: Queue, *args, **kwargs) -> None:
        super().handle_job_failure(job, queue, *args, **kwargs)
        metrics.JOBS.labels(queue.name, "failed").inc()

    def check_for_suspension(self, burst: bool) -> None:
        self._through_outages(super().check_for_suspension, burst)

    def run_maintenance_tasks(self) -> None:
        self._through_outages(super().run_maintenance_tasks)

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None):
        # RQ retries the pop itself, but not the state it sets before nor the heartbeat after it.
        return self._through_outages(super().dequeue_job_and_maintain_ttl, timeout, max_idle_time)

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        self._through_outages(super().heartbeat, timeout, pipeline)

    def teardown(self) -> None:
        try:
            super().teardown()
        except REDIS_AWAY as away:
            # Stopping while Redis is away: the registry entry expires by itself within its TTL.
            self.log.warning("Worker %s: could not register its death (%s)", self.name, away)

    def ride_out(self, away: Exception) -> None:
        """Wait until Redis answers, then put this worker back in RQ's registry (a fresh Redis forgot it)."""
        self.log.error("Worker %s: lost Redis (%s); waiting for it", self.name, away)
        while True:
            wait_for_redis(self.connection, f"Worker {self.name}")
            try:
                return self._register_again()
            except REDIS_AWAY:
                continue  # gone again at once (a restart that flaps): wait once more

    def _register_again(self) -> None:
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, self.worker_ttl + 60)
            pipe.execute()

    def _through_outages(self, step: Callable, *args):
        """`step(*args)`, tried again once Redis answers each time it finds Redis away."""
        while True:
            try:
                return step(*args)
            except REDIS_AWAY as away:
                self.ride_out(away)


def make_worker(app: Flask, name: str | None = None, only: list[QueueName] | None = None) -> AppWorker:
    """A worker on the app's queues, in QueueName order (checkout drains before mail), or on `only`.

    Started while Redis is away (the launcher restarting it, a Redis being restarted), it waits for it.
    """
    queues = [app.extensions["yakku.rq"][queue_name] for queue_name in only or QueueName]
    wait_for_redis(queues[0].connection, "worker")
    worker = AppWorker(queues, connection=queues[0].connection, name=name)
    worker.app = app
    worker.log.addFilter(QUIET_JOBS)  # RQ's module logger; the same filter is added once
    return worker
