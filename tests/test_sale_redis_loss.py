"""Redis loses a sale: the database, the record of what was sold, puts it back, and nothing sells twice.

A real redis-server of the test's own, with its append-only file, is flushed (a restart without
persistence) or killed and started from a file cut back to a moment before the last payments (a power
loss under `appendfsync everysec`). Real worker processes drain the checkouts and run the sweep.
"""

import shutil
import signal
import time
from pathlib import Path

import pytest
from catalog_helpers import add_product, stock_of
from sale_helpers import Sale
from test_sale_checkout import admitted_ticket
from test_sale_recovery import run_worker

from admission.checkout import jobs
from yakku.private_redis import PrivateRedis

pytestmark = pytest.mark.slow

CATALOG_STOCK = 10


@pytest.fixture
def own_redis(config, tmp_path):
    """A redis-server for this test alone, with an append-only file: the test loses its data."""
    server = PrivateRedis(tmp_path / "redis", persist=True).start()
    # Every role on it: what these tests lose is the one Redis of the embedded default, sales and queues.
    config["REDIS_URL"] = config["SALES_REDIS_URL"] = config["QUEUE_REDIS_URL"] = server.url
    yield server
    server.stop()


def open_sale(app, client, operator, units: int, **settings) -> Sale:
    product_id = add_product(app, name="Celadon Vase", price=30_000, stock=CATALOG_STOCK)
    sale = Sale(app, client, operator, product_id, units=units, per_shopper_limit=1, **settings)
    sale.product_id = product_id
    sale.act("arm")
    sale.act("open")
    return sale


def sweep(sale, config) -> None:
    """The reconciler's sweep, as the admitter queues it, run by a real worker."""
    with sale.app.app_context():
        jobs.schedule_sweep()
    assert run_worker(config, RECONCILE_LEASE_S="0") == 0


def buy(sale, config, shopper) -> str:
    ticket = admitted_ticket(sale, shopper)
    assert sale.checkout(shopper, ticket).status_code == 202
    assert run_worker(config) == 0
    return ticket


def check(audit: dict, name: str) -> dict:
    return next(c for c in audit["checks"] if c["name"] == name)


def sellable_twice(sale, app) -> int:
    """Units both in the catalog's stock again and paid for in the sale: sold twice if the shop sells them."""
    audit = sale.audit()
    return max(stock_of(app, sale.product_id) + audit["figures"]["units_paid"] - CATALOG_STOCK, 0)


def test_a_sale_redis_lost_whole_is_rebuilt_from_the_database(
    own_redis, live_api, app, client, operator, shoppers, config
):
    sale = open_sale(app, client, operator, units=4)
    ada, bo, cy, wen = (shoppers.verified() for _ in range(4))
    paid = [(ada, buy(sale, config, ada)), (bo, buy(sale, config, bo))]
    # Cy is charged, and the worker dies before the counter hears of it.
    paid.append((cy, admitted_ticket(sale, cy)))
    assert sale.checkout(cy, paid[-1][1]).status_code == 202
    assert run_worker(config, crash_at="after_charge") == -signal.SIGKILL
    assert sale.join(wen)["state"] in ("waiting", "standby")

    own_redis.stop()  # a restart without persistence: every key gone, the queues too
    shutil.rmtree(own_redis.directory / "appendonlydir")
    own_redis.start()
    with app.app_context():
        app.extensions["yakku.redis"].connection_pool.reset()

    sweep(sale, config)
    for shopper, ticket in paid:
        assert sale.outcome(shopper, ticket)["state"] == "paid"  # told the truth: the database says so
        assert sale.status(shopper)["state"] == "done"
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert (audit["figures"]["sold"], audit["figures"]["left"]) == (3, 1)
    (rebuilt,) = audit["figures"]["recoveries"]
    assert rebuilt["kind"] == "rebuilt" and rebuilt["restored_paid"] == 3
    assert "waiting line" in rebuilt["lost"][0]
    # Wen's place in line was Redis's alone: she joins again, and buys the last unit.
    assert sale.status(wen)["error"]["code"] == "place_lost"
    assert sale.outcome(wen, buy(sale, config, wen))["state"] == "paid"
    sale.act("close")
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["sold"] == audit["figures"]["units_paid"] == 4
    assert stock_of(app, sale.product_id) == CATALOG_STOCK - 4  # nothing unsold kept, nothing sold given back
    assert sellable_twice(sale, app) == 0


def test_a_counter_rolled_back_by_a_power_loss_never_sells_a_unit_twice(
    own_redis, live_api, app, client, operator, shoppers, config
):
    sale = open_sale(app, client, operator, units=3)
    ada, bo, cy, dee, eve = (shoppers.verified() for _ in range(5))
    tickets = [(ada, admitted_ticket(sale, ada)), (bo, admitted_ticket(sale, bo))]
    # The moment the power loss goes back to: Ada and Bo admitted, nothing paid. everysec has written it.
    time.sleep(1.5)
    (incremental,) = Path(own_redis.directory).rglob("*.incr.aof")
    written = incremental.stat().st_size
    for shopper, ticket in tickets:
        assert sale.checkout(shopper, ticket).status_code == 202
    assert run_worker(config) == 0
    assert all(sale.outcome(s, t)["state"] == "paid" for s, t in tickets)

    own_redis.process.send_signal(signal.SIGKILL)  # the power goes: the last second never reached the disk
    own_redis.process.wait()
    with incremental.open("r+b") as aof:
        aof.truncate(written)
    own_redis.start()
    with app.app_context():
        app.extensions["yakku.redis"].connection_pool.reset()
        assert int(app.extensions["yakku.redis"].get(f"sale:{{{sale.id}}}:sold") or 0) == 0  # rolled back

    # The rolled-back counter still offers the unit that is left: Cy is admitted to it; Dee and Eve wait.
    cy_ticket = admitted_ticket(sale, cy)
    for shopper in (dee, eve):
        sale.join(shopper)
    sweep(sale, config)
    for shopper, ticket in tickets:
        assert sale.outcome(shopper, ticket)["state"] == "paid"  # not "your turn, pay": they have paid
        assert sale.status(shopper)["state"] == "done"
    assert sale.checkout(cy, cy_ticket).status_code == 202
    assert run_worker(config) == 0
    sale.admit()
    assert sale.outcome(cy, cy_ticket)["state"] == "paid"
    assert [sale.status(s)["state"] for s in (dee, eve)] == ["sold_out", "sold_out"]  # true: all 3 are paid
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["units_paid"] == audit["figures"]["sold"] == 3
    repaired = [r for r in audit["figures"]["recoveries"] if r["kind"] == "repaired"]
    assert repaired and repaired[0]["restored_paid"] == 2
    sale.act("close")
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert check(audit, "never oversold")["ok"]
    assert sellable_twice(sale, app) == 0
