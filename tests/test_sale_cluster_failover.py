"""A sale's master dies on a Redis Cluster with a replica each: the replica takes over, and the sale goes
on; where the replica had not yet heard of some writes (Redis replicates asynchronously), the database,
the record of what was sold, puts them back, and the audit says so.

A real 3-master, 3-replica cluster of the module's own on loopback (a 1 s node timeout, so a failover
takes a few seconds); the queues on the run's plain Redis; real worker processes drain the checkouts.
"""

import pytest
from catalog_helpers import add_product, stock_of
from redis_cluster import RedisTestCluster
from sale_helpers import Sale
from test_sale_checkout import admitted_ticket
from test_sale_recovery import paused_worker, reconcile, resume
from test_sale_redis_loss import buy, sellable_twice, sweep

from admission.keys import sale_keys

pytestmark = pytest.mark.slow

CATALOG_STOCK = 10


@pytest.fixture
def cluster(tmp_path):
    """A cluster of the test's own: each test kills one of its masters."""
    started = RedisTestCluster(tmp_path / "cluster", replicas=1, node_timeout_ms=1_000).start()
    yield started
    started.stop()


@pytest.fixture
def config(base_config, cluster):
    return {**base_config, "SALES_REDIS_URL": cluster.url}


def open_sale(app, client, operator, units: int) -> Sale:
    product_id = add_product(app, name="Buncheong Bowl", price=28_000, stock=CATALOG_STOCK)
    sale = Sale(app, client, operator, product_id, units=units, per_shopper_limit=1)
    sale.product_id = product_id
    sale.act("arm")
    sale.act("open")
    return sale


def master_of(cluster: RedisTestCluster, sale: Sale) -> int:
    return cluster.port_of_key(sale_keys(sale.id).settings)


def fail_over(cluster: RedisTestCluster, sale: Sale) -> int:
    """Kill the master that holds the sale; the port of the replica once it has taken over."""
    master = master_of(cluster, sale)
    replica = cluster.replica_of(master)
    cluster.kill(master)
    cluster.wait_for_master(sale_keys(sale.id).settings, replica)
    return replica


def test_the_master_killed_mid_drain_the_replica_takes_over_and_the_sale_goes_on(
    live_api, app, client, operator, shoppers, config, cluster
):
    sale = open_sale(app, client, operator, units=3)
    ada, bo, cy = (shoppers.verified() for _ in range(3))
    ada_ticket = buy(sale, config, ada)
    bo_ticket = admitted_ticket(sale, bo)
    assert sale.checkout(bo, bo_ticket).status_code == 202
    # Mid-drain: Bo's card is charged, the worker has not yet told the sale.
    worker = paused_worker(config, "after_charge")
    cluster.in_step(master_of(cluster, sale))
    fail_over(cluster, sale)
    assert resume(worker) == 0
    # The worker tells the sale on the new master; had its tell met the failover still going on (a busy
    # box), the reconciler finishes the charged checkout, as for a worker that died there.
    if sale.outcome(bo, bo_ticket)["state"] == "processing":
        reconcile(sale)
    assert sale.outcome(bo, bo_ticket)["state"] == "paid"
    # The sale goes on: Cy joins, is admitted and buys the last unit.
    cy_ticket = buy(sale, config, cy)
    assert [sale.outcome(s, t)["state"] for s, t in ((ada, ada_ticket), (cy, cy_ticket))] == ["paid", "paid"]
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert (audit["figures"]["sold"], audit["figures"]["left"]) == (3, 0)
    assert audit["figures"]["recoveries"] == []  # the replica had every write: nothing to repair
    sale.act("close")
    assert sale.audit()["ok"]
    assert stock_of(app, sale.product_id) == CATALOG_STOCK - 3


def test_a_replica_behind_its_master_takes_over_and_the_database_puts_back_what_it_missed(
    live_api, app, client, operator, shoppers, config, cluster
):
    sale = open_sale(app, client, operator, units=4)
    ada, bo, cy, dee, eve = (shoppers.verified() for _ in range(5))
    paid = [(ada, buy(sale, config, ada))]
    master = master_of(cluster, sale)
    cluster.in_step(master)
    # The replica falls behind: Bo and Cy pay, and only the master hears of it (acknowledged all the same).
    replica = cluster.replica_of(master)
    cluster.cut_off(replica, master)
    paid += [(bo, buy(sale, config, bo)), (cy, buy(sale, config, cy))]
    assert all(sale.outcome(s, t)["state"] == "paid" for s, t in paid)
    cluster.kill(master)
    cluster.thaw(replica)
    cluster.wait_for_master(sale_keys(sale.id).settings, replica)
    with app.app_context():
        sold = app.extensions["yakku.sales_redis"].get(sale_keys(sale.id).sold)
    assert int(sold or 0) == 1  # the new master lost Bo's and Cy's payments

    sweep(sale, config)
    for shopper, ticket in paid:
        assert sale.outcome(shopper, ticket)["state"] == "paid"  # the truth, from the database
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    repaired = [r for r in audit["figures"]["recoveries"] if r["kind"] == "repaired"]
    assert repaired and repaired[0]["restored_paid"] == 2
    # One unit is left, and only one: Dee buys it, Eve is told sold out.
    assert sale.outcome(dee, buy(sale, config, dee))["state"] == "paid"
    sale.join(eve)
    sale.admit()
    assert sale.status(eve)["state"] == "sold_out"
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["units_paid"] == audit["figures"]["sold"] == 4
    sale.act("close")
    assert sale.audit()["ok"]
    assert sellable_twice(sale, app) == 0


def test_a_process_starts_while_the_first_node_its_url_names_is_down(
    live_api, app, client, operator, shoppers, config, cluster
):
    first = cluster.ports[0]  # a master: redis-cli makes the first nodes named the masters
    replica, its_key = cluster.replica_of(first), key_on(cluster, first)
    cluster.kill(first)
    cluster.wait_for_master(its_key, replica)
    sale = open_sale(app, client, operator, units=1)
    buyer = shoppers.verified()
    # A worker started now asks the next node named for the slot map, and drains the checkout.
    assert sale.outcome(buyer, buy(sale, config, buyer))["state"] == "paid"
    assert sale.audit()["ok"]


def key_on(cluster: RedisTestCluster, port: int) -> str:
    """A key whose slot the master on `port` holds now."""
    return next(key for key in (f"probe:{n}" for n in range(10_000)) if cluster.port_of_key(key) == port)
