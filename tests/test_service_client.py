"""The declarative service client over real HTTP: auth, retries, breaker, discovery, typed errors."""

import time
from datetime import UTC, datetime, timedelta

import pybreaker
import pytest
from flask import Flask, jsonify, request
from serving_helpers import Served

from api.auth import SERVICE_TOKEN_HEADER, service_required
from api.client import ServiceClient, registry
from api.client.declare import get, post
from api.client.errors import BreakerOpen, ServiceAuthError, ServiceConflict, ServiceUnavailable
from yakku.errors import YakkuError, error_body


class EchoClient(ServiceClient):
    service = "catalog"  # any registered name: the fallback URL is what routes it to the echo server

    @get("/echo/{item_id}")
    def read(self, item_id: int, *, params: dict | None = None) -> dict: ...

    @post("/echo")
    def create(self, *, json: dict) -> dict: ...

    @post("/echo/keyed", idempotent=True)
    def create_keyed(self, *, json: dict) -> dict: ...

    @get("/flaky")
    def flaky(self) -> dict: ...

    @post("/flaky")
    def flaky_post(self) -> dict: ...

    @get("/conflict")
    def conflict(self) -> dict: ...

    @get("/echo/{item_id}", internal=True)
    def read_between_services(self, item_id: int) -> dict: ...


class EchoServer:
    """A real HTTP service on loopback that checks service tokens and can fail on demand."""

    def __init__(self, secret: str):
        self.calls: list[str] = []
        self.failures_left = 0
        self.app = Flask("echo")
        self.app.config["SERVICE_SECRET"] = secret
        self._routes()
        self.served = None

    def _routes(self):
        app = self.app

        @app.get("/echo/<int:item_id>")
        @service_required
        def read(item_id):
            self.calls.append("read")
            return {"id": item_id, "q": request.args.get("q")}

        @app.post("/echo")
        @app.post("/echo/keyed")
        @service_required
        def create():
            self.calls.append(request.path)
            return request.get_json(), 201

        @app.route("/flaky", methods=["GET", "POST"])
        @service_required
        def flaky():
            self.calls.append(f"flaky {request.method}")
            if self.failures_left > 0:
                self.failures_left -= 1
                return jsonify(error_body("unavailable", "down for a moment")), 503
            return {"ok": True}

        @app.get("/conflict")
        @service_required
        def conflict():
            return jsonify(error_body("stock_gone", "No units left.", {"product_id": ["sold out"]})), 409

        @app.errorhandler(YakkuError)
        def refused(error):
            return jsonify(error.to_dict()), error.status

    def start(self, port: int = 0) -> "EchoServer":
        self.served = Served(self.app, port).start()
        return self

    def stop(self):
        self.served.stop()

    @property
    def url(self) -> str:
        return self.served.url


class BreakerWatch(pybreaker.CircuitBreakerListener):
    """Notes when a breaker opens, so a test waits out its reset timeout exactly, never a guessed sleep."""

    def __init__(self, breaker: pybreaker.CircuitBreaker):
        self.breaker, self.opened_at = breaker, None
        breaker.add_listener(self)

    def state_change(self, cb, old_state, new_state) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self.opened_at = datetime.now(UTC)  # the breaker's own clock; it stamped its opening just before

    def wait_until_half_open(self) -> None:
        """Return once the breaker's next call is its trial call (pybreaker moves to half-open on it)."""
        assert self.opened_at is not None, "the breaker never opened"
        trial_at = self.opened_at + timedelta(seconds=self.breaker.reset_timeout)
        time.sleep(max((trial_at - datetime.now(UTC)).total_seconds(), 0))
        self.breaker.remove_listener(self)


@pytest.fixture
def echo(config):
    server = EchoServer(config["SERVICE_SECRET"]).start()
    config["API_URL"] = server.url
    config["SERVICE_BREAKER_FAIL_MAX"] = 3
    config["SERVICE_BREAKER_RESET_SECONDS"] = 0.5
    yield server
    server.stop()


@pytest.fixture
def echo_client(echo, app):
    with app.app_context():
        yield EchoClient.for_current_app()


def test_a_declared_method_fills_path_and_query(echo_client):
    assert echo_client.read(42, params={"q": "tea"}) == {"id": 42, "q": "tea"}


def test_a_body_is_sent_as_json(echo_client):
    assert echo_client.create(json={"name": "kettle"}) == {"name": "kettle"}


def test_errors_come_back_typed_from_the_error_shape(echo_client):
    with pytest.raises(ServiceConflict) as caught:
        echo_client.conflict()
    assert caught.value.code == "stock_gone"
    assert caught.value.fields == {"product_id": ["sold out"]}


def test_idempotent_calls_are_retried_through_a_passing_failure(echo, echo_client):
    echo.failures_left = 2
    assert echo_client.flaky() == {"ok": True}
    assert echo.calls.count("flaky GET") == 3


def test_non_idempotent_calls_are_never_repeated(echo, echo_client):
    echo.failures_left = 1
    with pytest.raises(ServiceUnavailable):
        echo_client.flaky_post()
    assert echo.calls.count("flaky POST") == 1


def test_a_keyed_post_may_be_retried(echo, echo_client):
    assert EchoClient.create_keyed.idempotent and not EchoClient.create.idempotent


def test_breaker_opens_when_the_service_is_down_and_closes_when_it_is_back(echo, echo_client):
    port = echo.served.port
    breaker = BreakerWatch(echo_client.transport.breaker)
    echo.stop()
    for _ in range(3):  # each call is one failure: GETs retry, so 3 calls x 3 attempts trip it early
        with pytest.raises(ServiceUnavailable):
            echo_client.read(1)
    with pytest.raises(BreakerOpen):
        echo_client.read(1)
    echo.start(port)
    breaker.wait_until_half_open()  # the breaker's reset timeout: it lets one trial call through
    assert echo_client.read(1)["id"] == 1
    assert echo_client.read(2)["id"] == 2


def test_refusals_do_not_open_the_breaker(echo_client):
    for _ in range(6):
        with pytest.raises(ServiceConflict):
            echo_client.conflict()
    assert echo_client.read(3)["id"] == 3


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SERVICE_TOKEN_HEADER: "not-a-token"},
        {SERVICE_TOKEN_HEADER: "forged"},
        {"Authorization": "Bearer shopper"},
    ],
    ids=["none", "garbage", "forged", "shopper-token-only"],
)
def test_internal_endpoints_refuse_calls_without_a_valid_service_token(echo, app, headers):
    import requests

    from api.auth import issue_token_pair, sign_service_token

    with app.test_request_context():
        if headers.get(SERVICE_TOKEN_HEADER) == "forged":
            headers = {
                SERVICE_TOKEN_HEADER: sign_service_token("another-deployment-secret-32-bytes-long", "orders")
            }
        if "Authorization" in headers:
            shopper = issue_token_pair("1", {"role": "shopper"}, generation=0)["access_token"]
            headers = {"Authorization": f"Bearer {shopper}", SERVICE_TOKEN_HEADER: shopper}
    answer = requests.get(f"{echo.url}/echo/1", headers=headers, timeout=5)
    assert answer.status_code == 401


def test_a_service_token_is_refused_by_an_auth_error(echo, app, config):
    config["SERVICE_SECRET"] = "not-the-deployment-secret-of-this-shop-at-all"
    from yakku.factory import create_api_app

    other = create_api_app(config)
    with other.app_context(), pytest.raises(ServiceAuthError):
        EchoClient.for_current_app().read(1)


def test_discovery_prefers_a_registered_live_instance(echo, app, redis_client):
    unreachable = "http://127.0.0.1:1"
    with app.app_context():
        app.config["API_URL"] = unreachable
        resolver = app.extensions["yakku.client"].resolver
        resolver.fallback["catalog"] = unreachable
        registry.register(redis_client, "catalog", echo.url)
        resolver.forget("catalog")
        assert EchoClient.for_current_app().read(5)["id"] == 5


@pytest.fixture
def two_pools(config):
    """A public and an internal instance of one service, each a real HTTP server."""
    public, internal = (
        EchoServer(config["SERVICE_SECRET"]).start(),
        EchoServer(config["SERVICE_SECRET"]).start(),
    )
    yield public, internal
    public.stop()
    internal.stop()


@pytest.mark.parametrize(
    ("internal_calls", "served"),
    [
        ("marked", {"public": ["read", "read"], "internal": ["read"]}),  # the storefront: its shoppers' calls
        ("all", {"public": ["read"], "internal": ["read", "read"]}),  # a service or a worker: all its own
    ],
)
def test_calls_between_services_go_to_the_internal_pool_once_it_is_registered(
    config, redis_client, two_pools, internal_calls, served
):
    from yakku.factory import create_api_app

    public, internal = two_pools
    settings = {"SERVICE_URLS": {"catalog": public.url}, "SERVICE_INTERNAL_CALLS": internal_calls}
    app = create_api_app({**config, **settings})
    with app.app_context():
        client = EchoClient.for_current_app()
        client.read_between_services(1)  # no internal pool registered: the service's own address
        registry.register(redis_client, registry.entry("catalog", internal=True), internal.url)
        app.extensions["yakku.client"].resolver.forget("catalog")
        client.read_between_services(2)
        client.read(3)
    assert {"public": public.calls, "internal": internal.calls} == served
    assert client.internal_transport.internal  # its own connections and breaker: one pool's fall, not both


def test_the_storefront_sends_only_the_calls_declared_internal_to_the_internal_pool(config):
    from yakku.factory import create_web_app

    with create_web_app(config).app_context():
        assert not EchoClient.for_current_app().transport.internal
    with create_web_app({**config, "SERVICE_INTERNAL_CALLS": "all"}).app_context():
        assert EchoClient.for_current_app().transport.internal


def test_every_declared_call_to_a_service_only_route_goes_to_the_internal_pool(app):
    from api.client import services
    from api.client.declare import Endpoint

    routes = app.url_map.bind("api.test")
    for client in vars(services).values():
        if not (isinstance(client, type) and issubclass(client, ServiceClient)):
            continue
        for endpoint in (value for value in vars(client).values() if isinstance(value, Endpoint)):
            sample = endpoint.path.format(**{name: "1" for name in endpoint.path_names})
            view = app.view_functions[routes.match(sample, method=endpoint.verb)[0]]
            if getattr(view, "service_only", False):
                assert endpoint.internal, f"{client.__name__}.{endpoint.name} is a call between services"


def test_an_instance_whose_heartbeat_stopped_is_forgotten(redis_client):
    registry.register(redis_client, "orders", "http://a", now=time.time() - 60)
    registry.register(redis_client, "orders", "http://b")
    assert registry.live_instances(redis_client, "orders") == ["http://b"]


def test_heartbeat_registers_and_deregisters(redis_client):
    beat = registry.Heartbeat(redis_client, ("orders", "payments"), "http://10.0.0.9:8001").start()
    deadline = time.time() + 5
    while not registry.live_instances(redis_client, "payments") and time.time() < deadline:
        time.sleep(0.02)
    assert registry.live_instances(redis_client, "orders") == ["http://10.0.0.9:8001"]
    beat.stop()
    assert registry.live_instances(redis_client, "orders") == []


def test_the_breaker_opens_while_the_payments_service_is_down_and_closes_when_it_is_back(app, config):
    from api.client import payments
    from yakku.factory import create_api_app

    payments_alone = create_api_app(dict(config), services=("payments",))
    served = Served(payments_alone).start()
    port = served.port
    caller = create_api_app(
        {
            **config,
            "SERVICE_URLS": {"payments": f"http://127.0.0.1:{port}"},
            "SERVICE_BREAKER_FAIL_MAX": 2,
            "SERVICE_BREAKER_RESET_SECONDS": 0.5,
            "SERVICE_ATTEMPTS": 1,
        }
    )
    with caller.app_context():
        breaker = BreakerWatch(payments().internal_transport.breaker)  # every payments call is internal
        assert payments().by_order(1) == {"items": []}  # up: an order with no payments yet
        served.stop()
        for _ in range(2):
            with pytest.raises(ServiceUnavailable):
                payments().by_order(1)
        with pytest.raises(BreakerOpen):  # open: no call is even tried
            payments().by_order(1)
        served = Served(payments_alone, port).start()
        breaker.wait_until_half_open()
        assert payments().by_order(1) == {"items": []}  # the trial call went through: closed again
        assert payments().by_order(2) == {"items": []}
    served.stop()
