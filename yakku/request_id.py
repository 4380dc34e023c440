"""The request id: one per request, taken from X-Request-ID when the caller sent a well-formed one (the
storefront's call to the api, a load balancer's), else made here. It lives on flask.g, the service client
sends it on (api/client/transport.py), every response echoes it (gunicorn's access log prints it from
there), and the filter puts it on every log record. A worker's job carries its job id the same way.
"""

import logging
import os
import re
import sys

from flask import Flask, g, has_app_context, request

HEADER = "X-Request-ID"
# Letters, digits and a few separators, at most 128: enough for any uuid or trace id, nothing a log
# line or a header could be forged with.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
NONE = "-"  # the id of a log line no request or job is behind
LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s [%(request_id)s] %(message)s"


def init_app(app: Flask) -> None:
    """Give each request its id first thing, and echo it in each response."""
    app.before_request(take_or_make)
    app.after_request(_echo)


def take_or_make() -> None:
    """The caller's X-Request-ID if well-formed, else a fresh one, on g.request_id."""
    given = request.headers.get(HEADER, "")
    g.request_id = given if WELL_FORMED.fullmatch(given) else os.urandom(16).hex()  # uuid4's cost, a third


def current() -> str | None:
    """The id of the request (or job) being served, if any."""
    return g.get("request_id") if has_app_context() else None


def _echo(response):
    request_id = g.get("request_id")  # in a request: its app context is there
    if request_id:
        response.headers[HEADER] = request_id
    return response


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record it sees, as record.request_id ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current() or NONE
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """A process's log lines on stderr, each naming its request id; once, unless logging is set up."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
