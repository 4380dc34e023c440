"""A drain's batch call, every retry timing out, still ends before the reconciler's lease runs out.

The reconciler leaves a checkout to its worker while the worker touched it within RECONCILE_LEASE_S
(30 s). A batch call that outlived the lease would let the sweep settle checkouts the worker still holds:
so the settings are checked here, and a change to one of them that breaks the rule fails this test.
"""

import socket
import threading
import time

import pytest

from api.client import orders
from api.client.errors import ServiceUnavailable
from yakku.factory import create_api_app


def batch_transport(app):
    """The transport a worker's batch calls go through (orders' internal pool)."""
    with app.app_context():
        return orders().internal_transport


def test_a_batch_call_with_every_retry_timing_out_ends_before_the_reconcilers_lease(config):
    app = create_api_app(config)  # the shipped service and lease settings, as a worker has them
    transport = batch_transport(app)
    worst = transport.worst_case_seconds()
    # 3 attempts x (2 s to connect + 5 s to answer) + 2 backoffs of at most 1 s = 23 s.
    assert worst == pytest.approx(23.0)
    assert worst < app.config["RECONCILE_LEASE_S"] == 30.0


def test_the_batch_calls_go_through_the_settings_this_bound_is_made_of(config):
    app = create_api_app(config)
    transport = batch_transport(app)
    assert transport.internal and transport.timeout == (
        app.config["SERVICE_CONNECT_TIMEOUT"],
        app.config["SERVICE_TIMEOUT"],
    )
    assert transport.attempts == app.config["SERVICE_ATTEMPTS"]


@pytest.fixture
def silent_service():
    """A port that accepts connections and never answers, as a pool whose threads are all stuck."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_batch_call_to_a_pool_that_never_answers_takes_at_most_the_computed_worst_case(
    config, silent_service
):
    app = create_api_app({**config, "SERVICE_TIMEOUT": 0.3, "SERVICE_URLS": {"orders": silent_service}})
    with app.app_context():
        transport = orders().internal_transport
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            orders().create_sale_orders(json={"sale_id": 1, "orders": []})
        took = time.monotonic() - started
    assert transport.attempts * 0.3 <= took <= transport.worst_case_seconds()
