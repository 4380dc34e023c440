"""Isolation for pytest-xdist: each worker process gets its own database, Redis db and instance folder.

Worker gwK (xdist names it in PYTEST_XDIST_WORKER) rewrites, for itself and every process it starts:

- DATABASE_URL: database `<name>_gwK` on the same server, created at session start and dropped at the
  end (a SQLite file `<stem>_gwK<suffix>` beside the one named);
- REDIS_URL: db `<n> + K`, where n is the URL's db (0 when it names none), so `-n 4` on db 9 uses 9-12;
- YAKKU_INSTANCE_PATH: a temp folder of its own (`<folder>/gwK` when the developer set one).

Without xdist (`-p no:xdist`, `-n 0`) the URLs are used as given, as they always were.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

# The instance folder a test process made for itself: its xdist workers inherit the environment, and
# must not mistake their controller's folder for one the developer chose.
MADE_BY_TESTS = "YAKKU_TESTS_INSTANCE_PATH"


def worker() -> str | None:
    """This xdist worker's name ("gw0", "gw1", ...), or None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def worker_index(name: str) -> int:
    return int(name.removeprefix("gw"))


def worker_database_url(url: str, name: str) -> str:
    """The database of worker `name` on the server (or beside the SQLite file) that `url` names."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _render(parsed.set(database=f"{parsed.database}_{name}"))
    if not parsed.database or parsed.database == ":memory:":
        return url  # an in-memory database is one process's already
    path = Path(parsed.database)
    return _render(parsed.set(database=str(path.with_stem(f"{path.stem}_{name}"))))


def worker_redis_url(url: str, name: str) -> str:
    """The Redis db of worker `name`: the URL's db number plus the worker's index."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + worker_index(name)}"))


def isolate_this_process() -> None:
    """Point this process's environment at its own instance folder and, in a worker, its own backends."""
    _own_instance_path()
    name = worker()
    if name is None:
        return
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = worker_database_url(os.environ["DATABASE_URL"], name)
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], name)


def _own_instance_path() -> None:
    # Nothing a test does may touch the developer's own instance/ folder, nor another worker's.
    current = os.environ.get("YAKKU_INSTANCE_PATH")
    if current is None or current == os.environ.get(MADE_BY_TESTS):  # unset, or our controller's
        path = tempfile.mkdtemp(prefix="yakku-test-instance-")
        os.environ["YAKKU_INSTANCE_PATH"] = os.environ[MADE_BY_TESTS] = path
    elif worker() is not None:
        own = Path(current) / worker()
        own.mkdir(parents=True, exist_ok=True)
        os.environ["YAKKU_INSTANCE_PATH"] = str(own)


@contextlib.contextmanager
def worker_database(url: str) -> Iterator[None]:
    """In an xdist worker on a database server, the worker's database exists (empty) while the block runs."""
    parsed = sa.make_url(url)
    if worker() is None or parsed.get_backend_name() == "sqlite":
        yield
        return
    name = parsed.database
    server = sa.create_engine(parsed._replace(database=None))  # URL.set(database=None) changes nothing
    # A run killed before its end leaves its database behind: start from an empty one.
    _execute(server, f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield
    finally:
        _execute(server, f"DROP DATABASE IF EXISTS `{name}`")
        server.dispose()


def _execute(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def _render(url: sa.URL) -> str:
    return url.render_as_string(hide_password=False)
