"""Prometheus metrics, in one place: the metric objects, the request hooks that count each route, and
/metrics (with the scrape-time collectors each app adds: admission/metrics.py reads the sales' figures,
yakku/queues.py the queues').

Under granian and gunicorn (yakku/metrics_samples.py) each worker writes its samples to
PROMETHEUS_MULTIPROC_DIR and /metrics adds them all up; elsewhere (the worker, the admitter, the tests)
samples live in the process.
The hot path only counts: a request costs one counter and one histogram step. Everything Redis knows
(waiting, admitted, sold, queue depth...) is read when Prometheus asks, never kept up to date per request.
"""

import functools
import hmac
import ipaddress
import logging
import os
import time

import pybreaker
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# Seconds: a waiting-room poll is ~1 ms, a drain batch of 250 checkouts up to a few seconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DRAIN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "yakku_http_requests_total",
    "Requests answered, by route rule (never the raw path), method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "yakku_http_request_duration_seconds",
    "Time from the first request hook to the response, by route rule and method.",
    ["route", "method"],
    buckets=REQUEST_BUCKETS,
)
DRAIN_BATCHES = Counter("yakku_drain_batches_total", "Checkout batches a drain decided.", ["sale"])
DRAIN_BATCH_SECONDS = Histogram(
    "yakku_drain_batch_seconds", "Time one drain batch took, reserve to tell.", buckets=DRAIN_BUCKETS
)
DRAIN_CHECKOUTS = Counter(
    "yakku_drain_checkouts_total", "Checkouts a drain batch left, by the state they reached.", ["state"]
)
ADMISSIONS = Counter("yakku_admissions_total", "Shoppers the admitter admitted.", ["sale"])
JOBS = Counter("yakku_jobs_total", "RQ jobs this worker ran, by queue and outcome.", ["queue", "outcome"])
# Each process knows only its own breakers: the highest state among live processes is the one to watch.
BREAKER_STATE = Gauge(
    "yakku_breaker_state",
    "A circuit breaker's state: 0 closed, 1 half-open (a trial call), 2 open (calls refused).",
    ["breaker"],
    multiprocess_mode="livemax",
)
BREAKER_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}

UNMATCHED = "<unmatched>"  # the route label of a path no rule matched: 404s never add a label value
LOOPBACKS = ("127.0.0.0/8", "::1/128")
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


class BreakerWatch(pybreaker.CircuitBreakerListener):
    """Keeps yakku_breaker_state in step with a breaker: a listener, so nothing is read per call."""

    def state_change(self, breaker, old, new) -> None:
        BREAKER_STATE.labels(breaker.name).set(BREAKER_VALUES[new.name])


def watch_breaker(breaker: pybreaker.CircuitBreaker) -> None:
    """Report `breaker`'s state from now on (closed until it changes)."""
    breaker.add_listener(BreakerWatch())
    BREAKER_STATE.labels(breaker.name).set(BREAKER_VALUES[breaker.current_state])


class _Joined:
    """One registry's collectors exposed through another (the process's own beside a scrape-time one)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()


def registry(*collectors) -> CollectorRegistry:
    """What one scrape answers: this process's samples (all gunicorn workers' in multiprocess mode) and
    the given scrape-time collectors."""
    answer = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(answer)
    else:
        answer.register(_Joined(REGISTRY))
    for collector in collectors:
        answer.register(collector)
    return answer


# Where `yakku worker`, `yakku admitter` and `yakku events` serve their metrics unless told
# (deploy/prometheus.yml).
WORKER_PORT, ADMITTER_PORT, EVENTS_PORT = 9101, 9102, 9103


def serve(port: int, host: str, *collectors, tries: int = 16) -> int | None:
    """Serve this process's metrics on `port`, or the next free one (copies of a process on one host);
    the port, or None when all are taken (a process without metrics still does its work)."""
    scrape = registry(*collectors)
    for candidate in range(port, port + tries):
        try:
            start_http_server(candidate, addr=host, registry=scrape)
        except OSError:
            continue
        log.info("metrics on http://%s:%s/metrics", host, candidate)
        return candidate
    log.warning("no free metrics port in %s..%s: serving no metrics", port, port + tries - 1)
    return None


# Every setting metrics read, with its default (README.md's table; METRICS_TOKEN is read without YAKKU_ too).
DEFAULTS = {
    "METRICS_TOKEN": None,  # a bearer token /metrics asks for; without one it answers loopback only
}


def init_app(app: Flask, *collectors_of) -> None:
    """Count the app's requests per route and serve /metrics; `collectors_of(app)` are read at scrape."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    collectors = [make(app) for make in collectors_of]
    app.extensions["yakku.metrics"] = collectors
    app.before_request(_start_clock)
    app.after_request(_count)
    app.register_blueprint(bp)


def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    rule = request.url_rule
    counter, histogram = _series(
        rule.rule if rule is not None else UNMATCHED, request.method, response.status_code
    )
    counter.inc()
    started = g.get("metrics_started")
    if started is not None:
        histogram.observe(time.perf_counter() - started)
    return response


@functools.lru_cache(maxsize=4096)  # far more than rules x methods x statuses: never evicts in practice
def _series(route: str, method: str, status: int) -> tuple:
    # labels() validates and builds its key each call (~1.5 us each); a request on the hot path pays once.
    return REQUESTS.labels(route, method, str(status)), REQUEST_SECONDS.labels(route, method)


# A plain blueprint: the API's OpenAPI document leaves it out, as it is no service's.
bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    """This process's metrics in Prometheus's text format, to loopback or the METRICS_TOKEN bearer."""
    if not may_scrape():
        abort(403)
    scrape = registry(*current_app.extensions["yakku.metrics"])
    return Response(generate_latest(scrape), mimetype=CONTENT_TYPE_LATEST)


def may_scrape() -> bool:
    """The bearer METRICS_TOKEN when one is set; else only a loopback caller that no proxy forwarded
    (behind a proxy on the same host every shopper would look like loopback)."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if any(header in request.headers for header in FORWARDED):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in LOOPBACKS)
