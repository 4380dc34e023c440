"""Sales on a real Redis Cluster: three masters on loopback, the queues on the plain Redis beside them.

Two sales whose hash tags land on different masters are each run whole (arm, open, join, admit, checkout,
drained by a real worker process, close, settle) and audited green; the plain Redis holds none of their
keys, and every script and command a sale sends names one slot.
"""

import pytest
import redis
from catalog_helpers import add_product, stock_of
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis_cluster import RedisTestCluster
from sale_helpers import Sale
from test_sale_checkout import admitted_ticket
from test_sale_recovery import run_worker

from admission import sale_index
from admission.checkout import jobs
from admission.keys import ACTIVE_SALES, SETTLING_SALES, sale_keys
from admission.scripts import scripts
from yakku.extensions import sales_client

pytestmark = pytest.mark.slow

CATALOG_STOCK = 8


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 3-master cluster of this module's own, whatever the run's sales Redis is."""
    started = RedisTestCluster(tmp_path_factory.mktemp("cluster")).start()
    yield started
    started.stop()


@pytest.fixture
def config(base_config, cluster):
    """The sales on the cluster; the queues, caches and revocations on the run's plain Redis."""
    return {**base_config, "SALES_REDIS_URL": cluster.url}


def sale_on(app, client, operator, units: int) -> Sale:
    product_id = add_product(app, name=f"Onggi Jar {units}", price=25_000, stock=CATALOG_STOCK)
    sale = Sale(app, client, operator, product_id, units=units)
    sale.product_id = product_id
    return sale


def sales_on_two_shards(app, client, operator, cluster) -> tuple[Sale, Sale]:
    """Two sales whose keys two different masters hold (sale ids are the database's: drafts are made
    until one's hash tag falls on another master than the first's)."""
    first = sale_on(app, client, operator, units=3)
    for _ in range(20):
        second = sale_on(app, client, operator, units=4)
        if shard_of(cluster, second) != shard_of(cluster, first):
            return first, second
    raise AssertionError("20 sales in a row on one master")


def shard_of(cluster: RedisTestCluster, sale: Sale) -> int:
    return cluster.port_of_key(sale_keys(sale.id).settings)


def buy(sale: Sale, buyers, quantity: int) -> list[tuple[object, str]]:
    bought = []
    for buyer in buyers:
        ticket = admitted_ticket(sale, buyer)
        assert sale.checkout(buyer, ticket, quantity=quantity).status_code == 202
        bought.append((buyer, ticket))
    return bought


def test_the_sales_client_is_the_cluster_and_the_queues_stay_plain(app, cluster):
    assert isinstance(app.extensions["yakku.sales_redis"], RedisCluster)
    assert type(app.extensions["yakku.redis"]) is redis.Redis
    assert not isinstance(app.extensions["yakku.rq"]["checkout"].connection, RedisCluster)


def test_two_sales_on_two_shards_both_sell_every_unit_and_audit_green(
    live_api, app, client, operator, shoppers, config, cluster, redis_client
):
    first, second = sales_on_two_shards(app, client, operator, cluster)
    for sale in (first, second):
        sale.act("arm")
        sale.act("open")
    # Each sale's keys sit in its hash tag's one slot, on the master that owns it, and on no other.
    for sale in (first, second):
        (slot,) = {key_slot(key.encode()) for key in sale_keys(sale.id).all()}
        holders = [port for port in cluster.ports if redis.Redis(port=port).cluster("COUNTKEYSINSLOT", slot)]
        assert holders == [shard_of(cluster, sale)]
    assert shard_of(cluster, first) != shard_of(cluster, second)

    paid_first = buy(first, [shoppers.verified() for _ in range(3)], quantity=1)
    paid_second = buy(second, [shoppers.verified() for _ in range(2)], quantity=2)
    assert run_worker(config) == 0  # a real worker: RQ on the plain Redis, the sale on the cluster

    for sale, bought, units in ((first, paid_first, 3), (second, paid_second, 4)):
        assert [sale.outcome(buyer, ticket)["state"] for buyer, ticket in bought] == ["paid"] * len(bought)
        audit = sale.audit()
        assert audit["ok"], audit["checks"]
        assert (audit["figures"]["sold"], audit["figures"]["left"]) == (units, 0)
        assert audit["figures"]["orders_paid"] == audit["figures"]["payments_captured"] == len(bought)
    assert redis_client.keys("sale:*") == []  # nothing of a sale on the plain Redis

    with app.app_context():
        assert sale_index.sales_to_reconcile() == sorted((first.id, second.id))
        jobs.sweep()  # the reconciler's round over both shards: nothing to mend
    for sale in (first, second):
        assert sale.act("close")["state"] == "closed"
        assert sale.audit()["ok"]
        assert stock_of(app, sale.product_id) == CATALOG_STOCK - sale.audit()["figures"]["sold"]
    with app.app_context():
        assert sale_index.sales_to_reconcile() == []  # settled: neither set holds them
    sets = cluster.client()
    assert sets.smembers(ACTIVE_SALES) == set() and sets.smembers(SETTLING_SALES) == set()


def test_a_close_cut_short_between_its_index_writes_is_put_right_by_the_sweep(
    live_api, app, client, operator, shoppers, config, cluster
):
    sale = sale_on(app, client, operator, units=2)
    sale.act("arm")
    sale.act("open")
    buy(sale, [shoppers.verified()], quantity=1)
    assert run_worker(config) == 0
    with app.app_context():
        scripts().close(sale.id)  # the close's script ran, then its process died: still in the active set
        assert sale_index.active_sales() == [sale.id] and sale_index.settling_sales() == []
        done = jobs.sweep()
        assert done["indexed_settling"] == 1 and done["indexed_removed"] == 1
        assert sale_index.active_sales() == []
    # The sweep that moved it to the settling set settled it too (or the next one does).
    with app.app_context():
        jobs.sweep()
        assert sale_index.settling_sales() == []
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert stock_of(app, sale.product_id) == CATALOG_STOCK - 1  # the unsold unit went back once


@pytest.mark.parametrize("form", ["{first}", "{all}", "{all}/?socket_timeout=2", "{all}?socket_timeout=2"])
def test_a_sales_url_names_one_node_or_several_with_options(cluster, form):
    nodes = [f"127.0.0.1:{port}" for port in cluster.ports]
    url = "redis+cluster://" + form.format(first=nodes[0], all=",".join(nodes))
    client = sales_client(url)
    assert client.set("probe:url", "1") and client.get("probe:url") == "1"
    assert len(client.get_nodes()) == len(cluster.ports)
    client.delete("probe:url")
