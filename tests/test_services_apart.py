"""The services apart: with the public api pool held busy by a shopper's login, a checkout is still
submitted and drained promptly, because every call between services goes to the internal pool.

Real processes: the Procfile's `api` line (one worker, one thread) and `internal` line, run as honcho
runs them, and a real `yakku worker`. The public pool serves internal routes too, behind their service
token; what keeps a drain off it is the registry, where only the internal pool advertises the internal
entries (api/client/registry.py).
"""

import os
import socket
import sys
import time

import pytest
import requests
from catalog_helpers import add_product
from honcho.environ import parse_procfile
from process_helpers import Processes
from sale_helpers import Sale
from test_sale_checkout import admitted_ticket
from test_sale_recovery import process_env, run_worker

from api.client import registry
from yakku.factory import ROOT
from yakku.private_redis import free_port
from yakku.supervisor import exec_line

pytestmark = pytest.mark.slow

PROCFILE = parse_procfile((ROOT / "Procfile").read_text()).processes
PROMPT_S = 15.0  # a worker's start (imports, app) and one drain; a call stuck behind the login takes 5 s × 3


class Pools:
    """The Procfile's `api` and `internal` lines on the test's database and Redis."""

    def __init__(self, config: dict, folder):
        self.public_port, self.internal_port = free_port(), free_port()
        self.public = f"http://127.0.0.1:{self.public_port}"
        self.internal = f"http://127.0.0.1:{self.internal_port}"
        config["API_URL"] = self.public  # the address of every service, where the registry has none
        env = process_env(config)
        env.update(
            API_PORT=str(self.public_port),
            API_CONCURRENCY="1",
            API_THREADS="1",  # one thread: one slow login holds the whole public pool
            INTERNAL_PORT=str(self.internal_port),
            INTERNAL_URL=self.internal,
            INTERNAL_CONCURRENCY="1",
            INTERNAL_THREADS="4",
            YAKKU_INSTANCE_PATH=str(folder),
            PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)]),
        )
        self.processes = Processes(env, folder / "pools.log")

    def start(self, redis_client) -> None:
        for name in ("api", "internal"):
            self.processes.start(name, ["sh", "-c", exec_line(PROCFILE[name])])
        for url in (self.public, self.internal):
            self.processes.wait_for(f"{url} to answer", lambda url=url: answers(f"{url}/api/health"))
        internal_orders = registry.entry("orders", internal=True)
        self.processes.wait_for(
            "the internal pool in the registry",
            lambda: registry.live_instances(redis_client, internal_orders),
        )


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


class HeldLogin:
    """A shopper's login whose body is slow to come: it holds a thread of the pool until it is let go."""

    def __init__(self, port: int):
        self.connection = socket.create_connection(("127.0.0.1", port))
        head = (
            "POST /api/accounts/login HTTP/1.1\r\nHost: shop.test\r\nContent-Type: application/json\r\n"
            "Content-Length: 64\r\n\r\n"
        )
        self.connection.sendall(head.encode() + b'{"email": ')

    def let_go(self) -> None:
        self.connection.close()


@pytest.fixture
def pools(config, tmp_path, redis_client):
    pools = Pools(config, tmp_path)  # before the app: its API_URL is the public pool's
    pools.start(redis_client)
    yield pools
    pools.processes.stop()


@pytest.fixture
def sale(pools, app, client, operator):
    product_id = add_product(app, name="Celadon Cup", price=30_000, stock=4)
    sale = Sale(app, client, operator, product_id, units=4)
    sale.act("arm")
    sale.act("open")
    return sale


def test_the_registry_points_calls_between_services_at_the_internal_pool_only(pools, redis_client):
    for service in ("orders", "payments", "catalog", "accounts"):
        assert registry.live_instances(redis_client, registry.entry(service, internal=True)) == [
            pools.internal
        ]
        assert registry.live_instances(redis_client, service) == []  # the public api advertises nothing


def test_a_drain_goes_through_while_a_login_holds_the_public_pool(pools, sale, shoppers, config):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    login = HeldLogin(pools.public_port)
    try:
        assert not answers(f"{pools.public}/api/health", timeout=1.0)  # the public pool is full
        started = time.monotonic()
        # The submit tokenises the card through payments: a call between services, as the storefront's.
        assert sale.checkout(buyer, ticket, quantity=2).status_code == 202
        assert run_worker(config) == 0  # its batch order and pay go to the internal pool
        took = time.monotonic() - started
        outcome = sale.outcome(buyer, ticket)
        assert not answers(f"{pools.public}/api/health", timeout=1.0)  # held all along
    finally:
        login.let_go()
    assert outcome["state"] == "paid", outcome  # not handed back "interrupted" after timing out
    assert took < PROMPT_S
    assert answers(f"{pools.public}/api/health")  # let go, the public pool serves again
    audit = sale.audit()
    assert audit["ok"], audit["checks"]


def test_the_public_pool_still_refuses_internal_routes_without_a_service_token(pools):
    answer = requests.post(f"{pools.public}/api/orders/internal/batch", json={}, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "service_token_required"


def test_stopping_the_internal_pool_withdraws_it_from_the_registry(pools, redis_client):
    pools.processes.stop()  # SIGTERM: gunicorn's workers exit, each heartbeat deregisters
    assert registry.live_instances(redis_client, registry.entry("orders", internal=True)) == []
