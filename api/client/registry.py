"""Discovery: services announce themselves in Redis with a heartbeat; clients pick a live instance.

It plays the part Eureka had in the seed. An instance is live while its heartbeat is fresh; when no
instance is registered, the client falls back to the URL in config.

A service has two entries: its own, for the calls made for shoppers (the public `api` pool, when it
advertises), and its internal one, for the calls services and workers make to each other (batch order
and pay, stock reservations, tokenising a card: `api/client/__init__.py` says which calls those are),
which only the `internal` pool advertises. An internal call
resolves to the internal entry while an instance of it is live, else to the service's own address,
so a deployment without the internal pool still works, on one pool.
"""

import contextlib
import random
import threading
import time

import redis

REGISTRY_KEY = "registry:{service}"
INTERNAL_ENTRY = "{service}/internal"  # the registry name of a service's internal pool
HEARTBEAT_SECONDS = 5.0
LEASE_SECONDS = 15.0


def entry(service: str, internal: bool = False) -> str:
    """The registry name an instance serving `service` (its internal calls, with `internal`) announces."""
    return INTERNAL_ENTRY.format(service=service) if internal else service


def register(connection: redis.Redis, service: str, url: str, now: float | None = None) -> None:
    """Announce (or renew) one instance of a service, and forget the instances whose lease ran out."""
    now = time.time() if now is None else now
    key = REGISTRY_KEY.format(service=service)
    pipe = connection.pipeline()
    pipe.zadd(key, {url: now + LEASE_SECONDS})
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.execute()


def deregister(connection: redis.Redis, service: str, url: str) -> None:
    """Withdraw an instance at once, as a clean shutdown does."""
    connection.zrem(REGISTRY_KEY.format(service=service), url)


def live_instances(connection: redis.Redis, service: str, now: float | None = None) -> list[str]:
    """The URLs of the instances whose lease has not run out."""
    now = time.time() if now is None else now
    return connection.zrangebyscore(REGISTRY_KEY.format(service=service), now, "+inf")


class Heartbeat:
    """A daemon thread that keeps this process's services registered until stopped."""

    def __init__(self, connection: redis.Redis, services: tuple[str, ...], url: str):
        self.connection, self.services, self.url = connection, services, url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="yakku-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS)
        for service in self.services:
            with contextlib.suppress(redis.RedisError):  # else the lease runs out by itself
                deregister(self.connection, service, self.url)

    def _beat(self) -> None:
        while not self._stop.is_set():
            try:
                for service in self.services:
                    register(self.connection, service, self.url)
            except redis.RedisError:
                pass  # Redis is away; keep trying, the lease covers short gaps
            self._stop.wait(HEARTBEAT_SECONDS)


class Resolver:
    """Picks a live instance for a service, remembering the registry's answer for a moment."""

    def __init__(self, connection: redis.Redis, fallback: dict[str, str], cache_seconds: float = 2.0):
        self.connection, self.fallback, self.cache_seconds = connection, fallback, cache_seconds
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def resolve(self, service: str, internal: bool = False) -> str:
        """A base URL for the service: a random live instance (of its internal pool first, for an internal
        call), else the configured URL."""
        instances = self._live(entry(service, internal=True)) if internal else []
        instances = instances or self._live(service)
        if instances:
            return random.choice(instances)
        return self.fallback[service]

    def _live(self, name: str) -> list[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
        if cached is None or cached[0] < now:
            try:
                found = live_instances(self.connection, name)
            except redis.RedisError:
                found = []
            cached = (now + self.cache_seconds, found)
            with self._lock:
                self._cache[name] = cached
        return cached[1]

    def forget(self, service: str) -> None:
        """Drop the cached answers of both entries, after an instance stopped answering."""
        with self._lock:
            for name in (service, entry(service, internal=True)):
                self._cache.pop(name, None)
