"""Fixtures: a real database and a real Redis for every test, cleaned after each one.

With DATABASE_URL / REDIS_URL set (as .ci/run's second leg does) the tests use those; otherwise
they run on the embedded default: a SQLite file and a private redis-server in a temp folder.
The run is spread over pytest-xdist workers, each with backends of its own (see xdist_helpers).

The sales may be put on a Redis Cluster apart from the plain Redis (the queues, caches, revocations):
YAKKU_TEST_SALES_CLUSTER=1 starts a real 3-master cluster on loopback for each test process (so xdist
workers never flush each other's sales: a cluster has one db), or SALES_REDIS_URL names one to use
(with one test process, `-n 0`: the tests flush it).
"""

import os

import pytest
import redis
from accounts_helpers import operator, shoppers, smtp_server  # noqa: F401  (shared fixtures)
from admission_helpers import sales_ops  # noqa: F401  (shared fixture)
from orders_helpers import shop  # noqa: F401  (shared fixtures)
from redis_cluster import RedisTestCluster
from serving_helpers import Served
from sqlalchemy import text
from storefront_helpers import shop_web  # noqa: F401  (shared fixture)
from xdist_helpers import isolate_this_process, worker_database

from api import client as service_client
from yakku.extensions import db
from yakku.factory import create_api_app, create_web_app
from yakku.private_redis import PrivateRedis

isolate_this_process()  # before any app reads the environment

# xdist workers by default (`-n 0` or `-p no:xdist` runs in one process). Most of a test's time is
# spent waiting (on HTTP, subprocesses, the database), so more workers than a 2-core box's cores pay.
DEFAULT_WORKERS = 4

TEST_SECRETS = {
    "SECRET_KEY": "test-secret-key-padded-to-32-bytes-or-more",
    "JWT_ACCESS_SECRET": "test-access-secret-padded-to-32-bytes-or-more",
    "JWT_REFRESH_SECRET": "test-refresh-secret-padded-to-32-bytes-or-more",
    "SERVICE_SECRET": "test-service-secret-padded-to-32-bytes-or-more",
    "TICKET_SECRET": "test-ticket-secret-padded-to-32-bytes-or-more",
}


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Run on DEFAULT_WORKERS xdist workers unless told otherwise (`-n N`); a group stays on one worker."""
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return  # no xdist, or this is a worker: a worker spawning workers would never end
    if config.option.numprocesses is None and not config.option.usepdb:  # a debugger needs one process
        config.option.numprocesses = DEFAULT_WORKERS
    if config.option.numprocesses and config.option.dist == "no":
        config.option.dist = "loadgroup"


def pytest_collection_modifyitems(config, items):
    """The slow tests (real processes, browsers) first: spread over the workers from the start, they run
    beside the quick ones rather than alone at the end of the run."""
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("browser")))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = _private_redis(tmp_path_factory)
    try:
        yield server.url
    finally:
        server.stop()


def _private_redis(tmp_path_factory) -> PrivateRedis:
    """A private Redis that is truly ours: workers picking free ports side by side may pick the same one,
    and the loser's readiness check would then be answered by the winner's server."""
    for _ in range(3):
        server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
        if server.process.poll() is None and _server_pid(server.url) == server.process.pid:
            return server
        server.stop()
    raise RuntimeError("no private Redis of this worker's own after 3 tries")


def _server_pid(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return client.info("server")["process_id"]
    finally:
        client.close()


@pytest.fixture(scope="session")
def sales_redis_url(tmp_path_factory):
    """The sales Redis of the run when it is not REDIS_URL's (a cluster), else None."""
    if os.environ.get("YAKKU_TEST_SALES_CLUSTER"):
        cluster = RedisTestCluster(tmp_path_factory.mktemp("sales-cluster")).start()
        try:
            yield cluster.url
        finally:
            cluster.stop()
        return
    named = os.environ.get("SALES_REDIS_URL")
    if named and os.environ.get("PYTEST_XDIST_WORKER"):
        # Workers would flush each other's sales (a cluster has no db numbers to keep them apart).
        raise RuntimeError("SALES_REDIS_URL is for one test process (-n 0); else YAKKU_TEST_SALES_CLUSTER=1")
    yield named or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not os.environ.get("DATABASE_URL"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'yakku.db'}"
        return
    with worker_database(os.environ["DATABASE_URL"]):
        yield os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def base_config(redis_url, sales_redis_url, database_url, tmp_path_factory):
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,  # the queues' Redis, and the sales' too unless a cluster holds them
        **({"SALES_REDIS_URL": sales_redis_url} if sales_redis_url else {}),
        "MAIL_URL": f"file://{tmp_path_factory.mktemp('outbox')}",
        "PUBLIC_URL": "http://shop.test",
        "AUTH_RATE_LIMIT": "1000 per minute",
        "WEB_AUTH_RATE_LIMIT": "1000 per minute",
        "WTF_CSRF_ENABLED": False,
        # argon2 at its default cost is ~0.1-0.9 s of CPU per sign-up and login on a 2-core box, and
        # the suite signs up thousands of shoppers: it hashes at the load-test cost, and the tests of
        # the default cost ask for it (`default_deployment`).
        "PASSWORD_HASH_PROFILE": "load-test",
        **TEST_SECRETS,
    }


@pytest.fixture(scope="session")
def _schema(base_config):
    """Create every table once per run, drop them at the end."""
    app = create_api_app(base_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def config(base_config):
    """The mapping the apps of one test are built from; a test may change it before building."""
    return dict(base_config)


@pytest.fixture
def app(_schema, config, request):
    if "live_api" in request.fixturenames:
        request.getfixturevalue("live_api")  # its URL must be in config before the app is built
    app = create_api_app(config)
    yield app
    _clean(app)


@pytest.fixture
def live_api(_schema, config):
    """The internal services over real HTTP on a loopback port; config["API_URL"] points at them."""
    server_app = create_api_app(dict(config))
    served = Served(server_app).start()
    config["API_URL"] = served.url
    # The served services call each other too (orders -> catalog, payments -> orders): point the
    # served app's own clients at this server, not at the default API_URL.
    server_app.config["API_URL"] = config["API_URL"]
    service_client.init_app(server_app)
    yield server_app
    served.stop()


@pytest.fixture
def web_app(_schema, config, app):
    return create_web_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def web(web_app):
    return web_app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_client(app):
    """The plain Redis: queues, caches, revocations, leases."""
    return app.extensions["yakku.redis"]


@pytest.fixture
def sales_redis(app):
    """The sales Redis (the plain one unless the run puts the sales on a cluster): a sale's keys."""
    return app.extensions["yakku.sales_redis"]


def _clean(app) -> None:
    """Leave the database and the test Redis db as the next test expects: empty."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        app.extensions["yakku.redis"].flushdb()
        if app.extensions["yakku.sales_redis"] is not app.extensions["yakku.redis"]:
            app.extensions["yakku.sales_redis"].flushdb()  # on a cluster: every master's
