"""A Redis restart under a running `yakku worker` and `yakku admitter`: both carry on once it is back.

Real processes on a real redis-server that the test stops and starts again on the same port, with its
append-only file, as `yakku up` runs its private Redis.
"""

import time
from pathlib import Path

import pytest
from admission_helpers import SalesOps
from process_helpers import YAKKU, Processes
from rq import Worker
from rq.job import JobStatus
from test_sale_recovery import process_env

from admission.keys import ADMITTER_LEASE
from admission.states import WaiterState
from workers.mail import send_email
from yakku.factory import create_api_app
from yakku.private_redis import PrivateRedis
from yakku.queues import QueueName, get_queue

pytestmark = pytest.mark.slow

# Longer than redis-py's own quick retries (ten, a second apart at most), so the processes see it.
OUTAGE_S = 8.0
JOB_S = 2.0  # ends during the outage
TIMEOUT_S = 60.0


class Platform:
    """A worker and an admitter process on a Redis of their own, and the shop's view of that Redis."""

    def __init__(self, config: dict, folder: Path):
        self.redis = PrivateRedis(folder / "redis", persist=True).start()
        self.outbox = folder / "outbox"
        self.outbox.mkdir()
        url = self.redis.url  # every role on it: the restart loses the one Redis, sales and queues
        settings = {**config, "REDIS_URL": url, "SALES_REDIS_URL": url, "QUEUE_REDIS_URL": url}
        settings["MAIL_URL"] = f"file://{self.outbox}"
        settings.setdefault("API_URL", "http://127.0.0.1:1")  # neither process calls the services here
        self.app = create_api_app(settings)
        env = process_env(settings, ADMITTER_INTERVAL_S="0.1")
        env.update(MAIL_URL=settings["MAIL_URL"], YAKKU_INSTANCE_PATH=str(folder))
        self.processes = Processes(env, folder / "processes.log", timeout=TIMEOUT_S)
        for name in ("worker", "admitter"):
            self.processes.start(name, [*YAKKU, name])

    def restart_redis(self) -> None:
        self.redis.stop()
        time.sleep(OUTAGE_S)
        self.redis.start()

    def wait_for(self, what: str, ready) -> None:
        with self.app.app_context():
            self.processes.wait_for(what, ready)

    def stop(self) -> None:
        self.processes.stop()
        self.redis.stop()


@pytest.fixture
def platform(app, config, tmp_path):
    platform = Platform(config, tmp_path)
    yield platform
    platform.stop()


def test_a_worker_and_the_admitter_carry_on_through_a_redis_restart(platform):
    connection = platform.app.extensions["yakku.rq"][QueueName.MAIL].connection
    with platform.app.app_context():
        ops = SalesOps(platform.app)
        sale = ops.opened(units=5, rate=50, cap=50, now=time.time())
        # A job still running when Redis goes: RQ's bookkeeping after it is what used to end the worker.
        busy = get_queue(QueueName.MAIL).enqueue(time.sleep, JOB_S)
    platform.wait_for("lease", lambda: ops.redis.exists(ADMITTER_LEASE))
    platform.wait_for("busy worker", lambda: busy.get_status(refresh=True) == JobStatus.STARTED)

    platform.restart_redis()

    with platform.app.app_context():
        ops.join(sale, 7, now=time.time())  # a shopper arriving after the restart is let in
        get_queue(QueueName.MAIL).enqueue(send_email, "buyer@example.com", "After the restart", "Still here.")
    platform.wait_for("admission", lambda: ops.status(sale, 7, now=time.time()).state == WaiterState.ADMITTED)
    platform.wait_for("e-mail", lambda: list(platform.outbox.glob("*.eml")))
    assert Worker.count(connection=connection) == 1  # the dashboard still counts it
