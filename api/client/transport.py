"""Transport concerns, written once: pooling, timeouts, retries, circuit breaker, service auth, discovery."""

import threading
import time
from collections.abc import Callable

import pybreaker
import requests
from flask import has_request_context
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from api.auth import CLIENT_ADDRESS_HEADER, SERVICE_TOKEN_HEADER, client_address
from api.client.errors import BreakerOpen, ServiceError, ServiceUnavailable, from_response
from api.client.registry import Resolver
from api.client.registry import entry as registry_entry

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
RETRY_WAIT_MAX_S = 1.0  # the longest backoff between two attempts (tenacity caps the jitter in it too)


class Transport:
    """Sends one service's requests; shared by every client of that service in a process."""

    def __init__(
        self,
        service: str,
        resolver: Resolver,
        sign: Callable[[], str],
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        attempts: int = 3,
        pool_size: int = 32,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 10.0,
        internal: bool = False,
    ):
        self.service, self.resolver, self.sign, self.internal = service, resolver, sign, internal
        # (connect, read): a pool that is gone refuses or stays silent within the connect timeout, so a
        # retry can find a live instance well before the read timeout would have run out.
        self.timeout, self.attempts = (connect_timeout, timeout), attempts
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # A refusal (4xx) is the caller's business, not a sign the service is sick.
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=breaker_fail_max,
            reset_timeout=breaker_reset_seconds,
            exclude=[lambda error: isinstance(error, ServiceError) and error.status < 500],
            throw_new_error_on_trip=False,
            name=registry_entry(service, internal),
        )
        self._token: tuple[float, str] | None = None
        self._token_lock = threading.Lock()

    def send(self, verb: str, path: str, *, json=None, params=None, headers=None, idempotent: bool = False):
        """Send a request; retry with backoff only when the call is idempotent."""
        if not idempotent:
            return self._send_once(verb, path, json, params, headers)
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(initial=0.05, max=RETRY_WAIT_MAX_S),
            retry=retry_if_exception(_worth_retrying),
            reraise=True,
        )
        return retrying(self._send_once, verb, path, json, params, headers)

    def worst_case_seconds(self) -> float:
        """The longest an idempotent call can take, every attempt timing out: each attempt's connect and
        read timeouts, and the longest backoff between attempts."""
        connect, read = self.timeout
        return self.attempts * (connect + read) + (self.attempts - 1) * RETRY_WAIT_MAX_S

    def _send_once(self, verb, path, json, params, headers):
        try:
            return self.breaker.call(self._exchange, verb, path, json, params, headers)
        except pybreaker.CircuitBreakerError:
            raise BreakerOpen(self.service, "circuit open") from None

    def _exchange(self, verb, path, json, params, headers):
        base = self.resolver.resolve(self.service, internal=self.internal)
        all_headers = {SERVICE_TOKEN_HEADER: self._service_token(), **(headers or {})}
        if has_request_context():  # the services limit per client: tell them whose request this serves
            all_headers[CLIENT_ADDRESS_HEADER] = client_address()
        try:
            response = self.session.request(
                verb, base + path, json=json, params=params, headers=all_headers, timeout=self.timeout
            )
        except requests.Timeout:
            raise ServiceUnavailable(self.service, "timed out") from None
        except requests.ConnectionError:
            self.resolver.forget(self.service)
            raise ServiceUnavailable(self.service, "connection failed") from None
        if response.status_code in UNAVAILABLE_STATUSES:
            raise ServiceUnavailable(self.service, f"answered {response.status_code}")
        body = _json_or_none(response)
        if response.status_code >= 400:
            raise from_response(self.service, response.status_code, body)
        return body

    def _service_token(self) -> str:
        # Tokens live 60 s; reuse one for 30 s rather than signing every call.
        now = time.monotonic()
        with self._token_lock:
            if self._token is None or self._token[0] < now:
                self._token = (now + 30.0, self.sign())
            return self._token[1]

    def close(self) -> None:
        self.session.close()


def _worth_retrying(error: BaseException) -> bool:
    # An open breaker means "do not call now": retrying it would only burn the backoff.
    return isinstance(error, ServiceUnavailable) and not isinstance(error, BreakerOpen)


def _json_or_none(response: requests.Response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return {"error": {"code": "bad_response", "message": response.text[:200]}}
