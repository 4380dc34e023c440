"""Extensions, made unbound here and bound to an app in the factories."""

import re

import flask_limiter
import redis
from flask import Flask, current_app
from flask_jwt_extended import JWTManager
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.cluster import ClusterNode, RedisCluster
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic can alter them on every backend (SQLite included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()


class FilterFirstLimiter(flask_limiter.Limiter):
    """Flask-Limiter, whose before-request check asks the request filters first.

    Flask-Limiter's own check finds a filtered request exempt only after resolving the request's
    limits and running its meta limits' bookkeeping: a seventh of a waiting-room poll's CPU
    (docs/performance.md, "Front door"), for routes that no limit applies to. The decorated limits
    (`limiter.limit`) are checked by their own wrappers, not by this hook, and keep their filters.
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and any(exempt() for exempt in self._request_filters):
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = FilterFirstLimiter(key_func=get_remote_address)
csrf = CSRFProtect()


# A sales URL naming a Redis Cluster: one node's address or several, comma-separated; the client finds
# the others. Several let a process start while one of them is down (a master that failed over).
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    """Whether `url` names a Redis Cluster (redis+cluster://host:port, rediss+cluster://... for TLS)."""
    return url.split("://", 1)[0] in CLUSTER_SCHEMES


def sales_client(url: str, decode_responses: bool = True) -> redis.Redis | RedisCluster:
    """A client of the sales Redis `url`: a RedisCluster for a cluster URL
    (redis+cluster://[user:password@]host:port[,host:port...][/?options]), else a plain Redis."""
    if not is_cluster_url(url):
        return redis.Redis.from_url(url, decode_responses=decode_responses)
    scheme, rest = url.split("://", 1)
    credentials, _, hosts = rest.rpartition("@")
    nodes, options = re.match(r"([^/?]*)(.*)", hosts).groups()  # options: a path and a query, if any
    first, *others = nodes.split(",")
    login = f"{credentials}@" if credentials else ""
    startup_nodes = [ClusterNode(*_host_and_port(node)) for node in others]
    # Unlike the plain client, RedisCluster asks a node for the slot map here, when the app is built: the
    # first that answers of those named.
    return RedisCluster.from_url(
        f"{CLUSTER_SCHEMES[scheme]}://{login}{first}{options}",
        startup_nodes=startup_nodes,
        decode_responses=decode_responses,
    )


def _host_and_port(node: str) -> tuple[str, int]:
    host, _, port = node.rpartition(":")
    return host.strip("[]"), int(port)


class RedisStore:
    """The app's two Redis clients (strings decoded), kept in app.extensions:

    - "yakku.redis" (get_redis), on QUEUE_REDIS_URL: always one plain Redis. The queues (RQ, which cannot
      run on a cluster), caches, rate limits, token revocations, the service registry, the admitter's
      lease and every other key that is not a sale's; some of their commands name keys of several slots.
    - "yakku.sales_redis" (get_sales_redis), on SALES_REDIS_URL: every sale:{id}:... key, their Lua
      scripts and the cross-sale indexes (admission/sale_index.py). It may be a Redis Cluster: every
      command and script sent to it names keys of one slot only.

    Both default to REDIS_URL; on one URL they are one client (one pool).
    """

    def init_app(self, app: Flask) -> None:
        plain_url, sales_url = app.config["QUEUE_REDIS_URL"], app.config["SALES_REDIS_URL"]
        if not plain_url or not sales_url:
            raise RuntimeError("REDIS_URL is not set: run `yakku up`, or point it at a Redis server")
        if is_cluster_url(plain_url):
            raise RuntimeError(
                "QUEUE_REDIS_URL (or REDIS_URL) names a Redis Cluster: the queues need a plain Redis;"
                " put only the sales on the cluster, with SALES_REDIS_URL"
            )
        # from_url builds a pool; no connection is opened until the first command.
        plain = redis.Redis.from_url(plain_url, decode_responses=True)
        app.extensions["yakku.redis"] = plain
        app.extensions["yakku.sales_redis"] = plain if sales_url == plain_url else sales_client(sales_url)


redis_store = RedisStore()


def get_redis() -> redis.Redis:
    """The current app's plain Redis: queues, caches, revocations, leases; never a sale's keys."""
    return current_app.extensions["yakku.redis"]


def get_sales_redis() -> redis.Redis | RedisCluster:
    """The current app's sales Redis (perhaps a cluster): a sale's keys, its scripts, the sale indexes."""
    return current_app.extensions["yakku.sales_redis"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite is shared by several processes in the embedded default: WAL lets readers run beside a writer."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
