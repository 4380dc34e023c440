"""A worker killed at any step of the drain leaves state that the reconciler completes.

Real worker processes (`yakku worker --burst`) die by SIGKILL at a failpoint; the reconciler then
finishes their work, and the audit must be green: no double order, no lost unit.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalog_helpers import add_product
from sale_helpers import DECLINED_CARD, GOOD_CARD, Sale
from test_sale_checkout import admitted_ticket

from admission import admitter, stock
from admission.checkout import jobs
from admission.checkout.reconcile import reconcile_sale
from admission.states import TicketState

STEPS = ["before_reserve", "after_reserve", "after_order", "after_charge"]


@pytest.fixture
def sale(live_api, app, client, operator):
    product_id = add_product(app, name="Brass Bowl", price=20_000, stock=6)
    sale = Sale(app, client, operator, product_id, units=4)
    sale.product_id = product_id
    sale.act("arm")
    sale.act("open")
    return sale


def process_env(config: dict, **settings: str) -> dict:
    """The environment of a `yakku` process on the test's database, Redis, services and keys."""
    secrets = ("SECRET_KEY", "SERVICE_SECRET", "TICKET_SECRET", "JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET")
    env = {name: value for name, value in os.environ.items() if name != "YAKKU_CHECKOUT_CRASH_AT"}
    names = ("DATABASE_URL", "REDIS_URL", "SALES_REDIS_URL", "QUEUE_REDIS_URL", "API_URL")
    env.update({name: config[name] for name in names if config.get(name)})
    env.update({f"YAKKU_{name}": config[name] for name in secrets})
    env.update({f"YAKKU_{name}": value for name, value in settings.items()})
    return env


def start_worker(config: dict, crash_at: str | None = None, **settings: str) -> subprocess.Popen:
    """One real worker process draining the queues once (CHECKOUT_PAUSE_AT in `settings` stops it there)."""
    env = process_env(config, **({"CHECKOUT_CRASH_AT": crash_at} if crash_at else {}), **settings)
    cli = [sys.executable, "-c", "from yakku.cli import main; main()", "worker", "--burst"]
    return subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_worker(config: dict, crash_at: str | None = None, **settings: str) -> int:
    """One real worker process draining the queues once; its exit code (-9 when the failpoint killed it)."""
    return start_worker(config, crash_at, **settings).wait(timeout=120)


def paused_worker(config: dict, step: str) -> subprocess.Popen:
    """A real worker that takes work and stops (SIGSTOP) at `step`, as a hung or frozen one does."""
    worker = start_worker(config, CHECKOUT_PAUSE_AT=step)
    deadline = time.time() + 60
    while Path(f"/proc/{worker.pid}/stat").read_text().split(") ")[1][0] != "T":
        assert worker.poll() is None and time.time() < deadline, "the worker never reached its pause"
        time.sleep(0.1)
    return worker


def resume(worker: subprocess.Popen) -> int:
    worker.send_signal(signal.SIGCONT)
    return worker.wait(timeout=120)


def shoppers_all_told_the_truth(audit: dict) -> bool:
    told = "every ended ticket's shopper is told its end"
    return next(check for check in audit["checks"] if check["name"] == told)["ok"]


def reconcile(sale, now=None):
    with sale.app.app_context():
        return reconcile_sale(sale.id, now=now, lease=0)


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))  # each death point several times: the race must not matter
@pytest.mark.parametrize("step", STEPS)
def test_a_worker_killed_at_any_step_is_completed_by_the_reconciler(sale, shoppers, config, step, run):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, quantity=2)
    assert run_worker(config, crash_at=step) == -signal.SIGKILL
    reconcile(sale)
    outcome = sale.outcome(buyer, ticket)
    if step == "after_charge":  # the money was taken: the reconciler must finish the sale
        assert outcome["state"] == "paid"
    else:  # not paid: handed back to the shopper (units still held, if reserved), who submits again
        assert outcome["state"] == "interrupted" and "nothing was charged" in outcome["message"]
        assert sale.checkout(buyer, ticket, card=GOOD_CARD).status_code == 202
        assert run_worker(config) == 0
        assert sale.outcome(buyer, ticket)["state"] == "paid"
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["sold"] == 2 and audit["figures"]["orders_paid"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("step", ["after_reserve", "after_order"])
def test_an_abandoned_reservation_returns_its_units_once_the_ticket_expires(sale, shoppers, config, step):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, quantity=2)
    assert run_worker(config, crash_at=step) == -signal.SIGKILL
    done = reconcile(sale, now=time.time() + 3600)  # long after the checkout window
    assert done == {"released": 1}
    assert sale.outcome(buyer, ticket)["state"] == "expired"
    with sale.app.app_context():
        assert stock.tickets_by_state(sale.id)[TicketState.RELEASED] == 1
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert (audit["figures"]["left"], audit["figures"]["sold"]) == (4, 0)
    assert reconcile(sale, now=time.time() + 3600) == {}  # nothing left to do: it ran once


@pytest.mark.slow
def test_the_admitter_queues_a_sweep_that_finishes_a_killed_checkout(sale, shoppers, config):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket)
    assert run_worker(config, crash_at="after_charge") == -signal.SIGKILL
    with sale.app.app_context():
        assert admitter.step(admitter.Lease()) is not None  # holds the lease, ticks, queues the sweep
        assert not jobs.schedule_sweep()  # one sweep per period, however often it ticks
    assert run_worker(config, RECONCILE_LEASE_S="0") == 0
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    assert sale.audit()["ok"]


@pytest.mark.slow
def test_a_checkout_whose_worker_died_before_reserving_ends_when_its_ticket_does(sale, shoppers, config):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, quantity=2)
    assert run_worker(config, crash_at="before_reserve") == -signal.SIGKILL
    with sale.app.app_context():
        admitter.tick(time.time() + 3600)  # its window passes: the admitter expires the unused ticket
    assert sale.outcome(buyer, ticket)["state"] == "processing"
    assert not shoppers_all_told_the_truth(sale.audit())  # a shopper left on "processing" is red
    assert reconcile(sale) == {"ended_with_ticket": 1}
    sale.act("close")  # its unsold units go back to the catalog, each once
    outcome = sale.outcome(buyer, ticket)
    assert outcome["state"] == "expired" and outcome["final"]
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    figures = audit["figures"]
    assert (figures["left"] + figures["returned"], figures["sold"], figures["held"]) == (4, 0, 0)


@pytest.mark.slow
def test_a_worker_paused_past_its_lease_cannot_overwrite_what_the_reconciler_decided(sale, shoppers, config):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, quantity=2)
    worker = paused_worker(config, "after_reserve")  # holds the reservation, then stops
    assert reconcile(sale, now=time.time() + 3600) == {"released": 1}  # past its lease and its window
    assert sale.outcome(buyer, ticket)["state"] == "expired"
    resume(worker)  # it goes on with the batch it holds: its writes are refused, nothing is charged
    outcome = sale.outcome(buyer, ticket)
    assert outcome["state"] == "expired" and outcome["final"]
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert (audit["figures"]["left"], audit["figures"]["sold"], audit["figures"]["held"]) == (4, 0, 0)
    assert audit["figures"]["payments_captured"] == 0


@pytest.mark.slow
def test_a_drain_job_taken_by_a_hung_worker_is_taken_back(sale, shoppers, config):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket)
    hung = paused_worker(config, "job_start")  # took the drain job, never starts it
    assert run_worker(config) == 0  # a healthy worker finds no job: the hung one has it
    assert sale.outcome(buyer, ticket)["state"] == "queued"
    with sale.app.app_context():
        assert jobs.reconcile_one(sale.id, now=time.time() + 60, lease=0) == {"drain_requeued": 1}
    assert run_worker(config) == 0
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    assert resume(hung) == 0  # when it wakes, the line is drained: nothing to do twice
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert (audit["figures"]["sold"], audit["figures"]["orders_paid"], audit["figures"]["left"]) == (1, 1, 3)


def yakku(config: dict, *args: str) -> subprocess.CompletedProcess:
    env = process_env(config)
    cli = [sys.executable, "-c", "from yakku.cli import main; main()", *args]
    return subprocess.run(cli, env=env, timeout=60, capture_output=True, text=True)


@pytest.mark.slow
def test_the_cli_reconciles_and_audits_a_sale(sale, shoppers, config):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket)
    assert run_worker(config, crash_at="after_charge") == -signal.SIGKILL
    reconciled = yakku(config, "reconcile", str(sale.id), "--lease", "0")
    assert reconciled.returncode == 0 and "confirmed: 1" in reconciled.stdout
    audited = yakku(config, "audit", str(sale.id))
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "audit: green" in audited.stdout and "[ok] never oversold" in audited.stdout


@pytest.mark.slow
def test_the_audit_exits_non_zero_when_an_invariant_breaks(sale, shoppers, config, sales_redis):
    from admission.keys import sale_keys

    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket)
    sale.drain()
    sales_redis.incr(sale_keys(sale.id).sold)  # a unit sold that no paid order accounts for
    audited = yakku(config, "audit", str(sale.id))
    assert audited.returncode == 1
    assert "[BROKEN] units sold = units in paid orders" in audited.stdout


def test_a_closed_sale_still_settles_the_units_a_declined_shopper_held(sale, shoppers, app):
    from catalog_helpers import stock_of

    from admission.checkout.jobs import sweep

    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, card=DECLINED_CARD)
    sale.drain()
    sale.act("close")  # the declined shopper's units are still held, waiting for another card
    assert sale.audit()["figures"]["held"] == 1
    with app.app_context():
        assert reconcile(sale, now=time.time() + 3600) == {"released": 1}  # the ticket's window passed
        assert sweep() == {"settled": 1}  # and then the leftovers go back to the catalog
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["held"] == 0 and stock_of(app, sale.product_id) == 6
