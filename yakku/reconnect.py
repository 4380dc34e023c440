"""Riding out a Redis restart: which errors mean Redis is away, and waiting until it answers again."""

import logging
import threading

import redis

# What redis-py raises, once its own few quick retries are spent, while the server is down or restarting.
REDIS_AWAY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# The first wait after a failed PING, doubled after each further one up to the most: a process is back
# within about MOST_WAIT_S of Redis answering again, and a long outage costs one PING every few seconds.
FIRST_WAIT_S = 0.5
MOST_WAIT_S = 5.0

log = logging.getLogger(__name__)


def wait_for_redis(client: redis.Redis, who: str, stop: threading.Event | None = None) -> int:
    """Block until `client` answers PING (or `stop` is set), waiting longer after each failure; the failed
    tries (0 if it answered at once)."""
    failures, wait, stop = 0, FIRST_WAIT_S, stop or threading.Event()
    while not stop.is_set():
        try:
            client.ping()
            if failures:
                log.warning("%s: Redis answers again after %d failed tries", who, failures)
            return failures
        except REDIS_AWAY as away:
            failures += 1
            log.error("%s: Redis unreachable (%s); next try in %.1f s", who, away, wait)
            stop.wait(wait)
            wait = min(wait * 2, MOST_WAIT_S)
    return failures
