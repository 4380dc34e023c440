"""The drain's batch calls: sale orders made and paid a batch at a time, idempotent per ticket and attempt,
and a burst of submitted checkouts drained by a handful of jobs with the audit green."""

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from catalog_helpers import add_product
from sale_helpers import DECLINED_CARD, GOOD_CARD, Sale, card_token
from serving_helpers import Served
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.exc import OperationalError

from admission.checkout import jobs, line, records
from admission.checkout.records import CheckoutRequest
from admission.keys import sale_keys
from api.orders.models import Order, OrderLine, OrderTransition
from api.orders.services import canonical_items, fingerprint
from api.payments.keys import SANDBOX_CHARGE_KEY
from api.payments.models import Payment, PaymentTransition
from api.payments.providers import Card
from api.payments.services import _fingerprint as charge_fingerprint
from api.payments.services import tokenise
from yakku.extensions import db
from yakku.factory import create_api_app
from yakku.private_redis import free_port
from yakku.queues import QueueName

BATCH_PATHS = ["/api/orders/internal/batch", "/api/orders/internal/batch/pay", "/api/payments/charges/batch"]


def make_orders(shop, sale_id, orders, units=100):
    return shop.internal(
        "POST", "/api/orders/internal/batch", json={"sale_id": sale_id, "units": units, "orders": orders}
    )


def sale_order(member, product_id, ticket, quantity=1):
    return {
        "account_id": member.id,
        "items": [{"product_id": product_id, "quantity": quantity}],
        "idempotency_key": f"ticket:{ticket}",
    }


def one_order_each(shop, sale_id: int, members: list, product_id: int) -> list[dict]:
    """One sale order of one unit per member, made in one batch (ticket keys t0, t1, ...)."""
    wanted = [sale_order(member, product_id, f"t{i}") for i, member in enumerate(members)]
    return make_orders(shop, sale_id, wanted).json()["items"]


def pay(shop, payments):
    return shop.internal("POST", "/api/orders/internal/batch/pay", json={"payments": payments})


def attempt(shop, order: dict, key: str, card: dict = GOOD_CARD) -> dict:
    """One payment of a pay batch, with a token for the order's shopper's card."""
    token = card_token(shop, order["account_id"], card)
    return {"payment_method": token, "order_id": order["id"], "idempotency_key": key}


def test_a_batch_of_sale_orders_is_idempotent_per_ticket_within_and_across_batches(shop):
    ada, bo = shop.shopper(), shop.shopper()
    lamp = shop.product(price=7_000)
    first = make_orders(shop, 41, [sale_order(ada, lamp["id"], "t1", 2), sale_order(bo, lamp["id"], "t2")])
    assert first.status_code == 200, first.json()
    made = first.json()["items"]
    assert [(o["account_id"], o["total"], o["state"]) for o in made] == [
        (ada.id, 14_000, "created"),
        (bo.id, 7_000, "created"),
    ]
    # the same ticket twice in one batch, and an old ticket beside a new one in the next: one order each
    again = make_orders(
        shop,
        41,
        [
            sale_order(bo, lamp["id"], "t2"),
            sale_order(ada, lamp["id"], "t3"),
            sale_order(ada, lamp["id"], "t3"),
        ],
    ).json()["items"]
    assert again[0]["id"] == made[1]["id"]
    assert again[1]["id"] == again[2]["id"] and again[1]["id"] not in {o["id"] for o in made}
    # another sale's ticket of the same name is another order
    assert make_orders(shop, 42, [sale_order(bo, lamp["id"], "t2")]).json()["items"][0]["id"] != made[1]["id"]


def test_a_sale_order_never_starts_paying_past_the_units_the_sale_was_made_with(shop):
    # The database's own bound, whatever Redis's counter says (it may have lost or rolled back sales).
    ada, bo, cy = shop.shopper(), shop.shopper(), shop.shopper()
    kettle = shop.product(price=9_000)
    made = make_orders(shop, 61, [sale_order(m, kettle["id"], f"k{m.id}") for m in (ada, bo)], units=3)
    made = (
        made.json()["items"]
        + make_orders(shop, 61, [sale_order(cy, kettle["id"], "k-cy", 2)], units=50).json()["items"]
    )
    answers = pay(shop, [attempt(shop, order, f"pay-{order['id']}") for order in made]).json()["items"]
    assert [a["order"] and a["order"]["state"] for a in answers[:2]] == ["paid", "paid"]
    refused = answers[2]["error"]
    assert refused["code"] == "sale_units_taken" and refused["fields"] == {"sale_id": 61, "units_free": 1}
    summary = shop.internal("GET", "/api/orders/internal/sales/61/summary").json()
    assert summary["units_by_state"] == {"paid": 2, "created": 2}  # nothing charged, the first units kept
    # The one unit still free fits an order of one; the second batch's units (50) changed nothing.
    fits = make_orders(shop, 61, [sale_order(cy, kettle["id"], "k-cy-one")]).json()["items"][0]
    assert pay(shop, [attempt(shop, fits, "pay-one")]).json()["items"][0]["order"]["state"] == "paid"


def test_the_sale_allotment_counts_the_units_being_paid_or_sold_through_every_move(shop):
    # A batch reads the sale's free units from its allotment's count, not by summing every order the
    # sale has made; each move into or out of paying or sold keeps that count, batch or single.
    def counted() -> tuple[int, dict]:
        summary = shop.internal("GET", "/api/orders/internal/sales/62/summary").json()
        return summary["allotment_committed"], summary["units_by_state"]

    ada, bo, cy = shop.shopper(), shop.shopper(), shop.shopper()
    kettle = shop.product(price=4_000)
    wanted = [
        sale_order(ada, kettle["id"], "a", 2),
        sale_order(bo, kettle["id"], "b"),
        sale_order(cy, kettle["id"], "c"),
    ]
    made = make_orders(shop, 62, wanted, units=4).json()["items"]
    assert counted() == (0, {"created": 4})
    answers = pay(
        shop,
        [
            attempt(shop, made[0], "p1"),
            attempt(shop, made[1], "p1", DECLINED_CARD),  # declined: its unit is free again
            attempt(shop, made[2], "p1"),
        ],
    ).json()["items"]
    assert [a["order"] and a["order"]["state"] for a in answers] == ["paid", None, "paid"]
    assert counted() == (3, {"paid": 3, "payment_failed": 1})
    # a refund (a single order's move) gives its two units back, and the sale may sell them again
    refunded = shop.internal("POST", f"/api/orders/internal/{made[0]['id']}/cancel").json()
    assert refunded["state"] == "refunded"
    assert counted() == (1, {"refunded": 2, "paid": 1, "payment_failed": 1})
    again = pay(shop, [attempt(shop, made[1], "p2")]).json()["items"][0]
    assert again["order"]["state"] == "paid"
    assert counted() == (2, {"refunded": 2, "paid": 2})
    later = make_orders(shop, 62, [sale_order(ada, kettle["id"], "a2", 3)]).json()["items"][0]
    refused = pay(shop, [attempt(shop, later, "p1")]).json()["items"][0]["error"]
    assert refused["code"] == "sale_units_taken" and refused["fields"] == {"sale_id": 62, "units_free": 2}
    audit = shop.internal("GET", "/api/orders/internal/sales/62/summary").json()
    assert audit["allotment_committed"] == 2


def rows(app, *models) -> list[int]:
    """How many rows each model's table holds."""
    with app.app_context():
        counts = [db.session.scalar(select(func.count()).select_from(model)) for model in models]
        db.session.remove()
        return counts


def test_a_batch_retried_stores_nothing_new_and_its_orders_read_as_made_one_by_one(shop, app):
    ada, bo = shop.shopper(), shop.shopper()
    lamp, shade = shop.product(price=7_000), shop.product(price=1_500)
    orders = [
        {**sale_order(ada, lamp["id"], "t1"), "items": [{"product_id": shade["id"], "quantity": 2}]},
        {**sale_order(bo, lamp["id"], "t2"), "items": [{"product_id": lamp["id"], "quantity": 1}]},
    ]
    orders[0]["items"].append({"product_id": lamp["id"], "quantity": 1})
    made = make_orders(shop, 46, orders).json()["items"]
    stored = rows(app, Order, OrderLine, OrderTransition)
    assert stored == [2, 3, 2]
    for _ in range(2):
        again = make_orders(shop, 46, orders)
        assert again.status_code == 200 and again.json()["items"] == made
    assert rows(app, Order, OrderLine, OrderTransition) == stored
    first = shop.internal("GET", f"/api/orders/internal/{made[0]['id']}").json()
    assert (first["state"], first["total"], first["source"], first["sale_id"]) == (
        "created",
        10_000,
        "sale",
        46,
    )
    assert [(line["product_id"], line["quantity"], line["subtotal"]) for line in first["lines"]] == [
        (lamp["id"], 1, 7_000),
        (shade["id"], 2, 3_000),
    ]
    assert [(t["from_state"], t["to_state"], t["reason"]) for t in first["transitions"]] == [
        (None, "created", "placed")
    ]


def test_concurrent_overlapping_batches_make_one_order_per_ticket(shop, app):
    members = [shop.shopper() for _ in range(2)]
    lamp = shop.product(price=2_000)
    tickets = [sale_order(members[n % 2], lamp["id"], f"t{n}") for n in range(60)]
    # each caller sends the tickets from another starting point, as drains racing on one line might
    batches = [tickets[start:] + tickets[:start] for start in range(0, 60, 10)]
    with ThreadPoolExecutor(len(batches)) as pool:
        answers = list(pool.map(lambda batch: make_orders(shop, 47, batch), batches))
    assert [a.status_code for a in answers] == [200] * len(batches), [a.text for a in answers]
    by_ticket = {}
    for answer, batch in zip(answers, batches, strict=True):
        for ticket, order in zip(batch, answer.json()["items"], strict=True):
            by_ticket.setdefault(ticket["idempotency_key"], set()).add(order["id"])
    assert all(len(found) == 1 for found in by_ticket.values()), by_ticket
    assert len(set.union(*by_ticket.values())) == 60
    assert rows(app, Order, OrderLine, OrderTransition) == [60, 60, 60]


@contextlib.contextmanager
def stored_meanwhile(app, model, row: dict):
    """A row another caller inserted and commits only when the block ends, while a batch runs."""
    with app.app_context(), db.engine.connect() as other, _writes_begun(other) as writing:
        transaction = other.begin()
        row_id = other.execute(insert(model.__table__).values(**row)).inserted_primary_key[0]
        yield row_id
        # The batch read before this row was there; commit only once it waits on the row's lock.
        _until_blocked(other, writing)
        transaction.commit()


@contextlib.contextmanager
def _writes_begun(ours):
    """An Event set when any connection but `ours`, in this process (the live services), starts a write."""
    begun = threading.Event()

    def started(connection, _cursor, statement, *_args):
        if connection is not ours and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            begun.set()

    event.listen(Engine, "before_cursor_execute", started)
    try:
        yield begun
    finally:
        event.remove(Engine, "before_cursor_execute", started)


def _until_blocked(ours, writing: threading.Event, timeout: float = 30.0) -> None:
    """Wait until another caller waits on the lock `ours` holds.

    MariaDB shows a lock wait in information_schema.INNODB_TRX. SQLite has no such view, but it locks
    the whole database for a writer: another connection's write, once begun, can only be waiting.
    """
    assert writing.wait(timeout), "the batch never started to write"
    if ours.dialect.name == "sqlite":
        return
    deadline = time.monotonic() + timeout
    while not ours.scalar(LOCK_WAITS):
        assert time.monotonic() < deadline, "the batch never waited on the row's lock"
        # InnoDB refreshes the INNODB_TRX snapshot only after 0.1 s without a read of it
        # (CACHE_MIN_IDLE_TIME_US): polled faster, it shows the same stale rows for ever.
        time.sleep(0.15)


# Transactions on this database waiting on a lock (the test's database is used by no one else).
LOCK_WAITS = text(
    "SELECT COUNT(*) FROM information_schema.INNODB_TRX AS trx"
    " JOIN information_schema.PROCESSLIST AS process ON process.ID = trx.trx_mysql_thread_id"
    " WHERE trx.trx_state = 'LOCK WAIT' AND process.DB = DATABASE()"
)


def test_a_ticket_another_call_stores_first_answers_that_order_and_the_rest_are_made(shop, app):
    ada = shop.shopper()
    lamp = shop.product(price=2_500)
    tickets = [sale_order(ada, lamp["id"], f"t{n}") for n in range(5)]
    items = canonical_items(tickets[2]["items"])
    theirs = {
        "account_id": ada.id,
        "idempotency_key": "sale:49:ticket:t2",
        "request_fingerprint": fingerprint({"account_id": ada.id, "sale_id": 49, "items": items}),
        "state": "created",
        "total": 2_500,
        "currency": "KRW",
        "source": "sale",
        "sale_id": 49,
    }
    with ThreadPoolExecutor(1) as pool, stored_meanwhile(app, Order, theirs) as their_id:
        answer = pool.submit(make_orders, shop, 49, tickets)
    assert answer.result().status_code == 200, answer.result().text
    made = answer.result().json()["items"]
    assert made[2]["id"] == their_id and len({order["id"] for order in made}) == 5
    assert rows(app, Order) == [5]


def test_a_charge_another_call_stores_first_answers_that_payment_and_the_rest_are_made(shop, app):
    token = card_token(shop, 1)
    order = {"account_id": 1, "total": 5_000, "currency": "KRW", "state": "payment_pending"}
    charges = [
        {
            "order": {**order, "id": n},
            "amount": 5_000,
            "currency": "KRW",
            "idempotency_key": f"k{n}",
            "payment_method": token,
        }
        for n in range(1, 6)
    ]
    theirs = {
        "order_id": 3,
        "account_id": 1,
        "idempotency_key": "k3",
        "request_fingerprint": charge_fingerprint(3, 5_000, "KRW"),
        "amount": 5_000,
        "currency": "KRW",
        "state": "pending",
        "provider": "sandbox",
        "card_last4": "4242",
    }

    def send():
        return shop.internal("POST", "/api/payments/charges/batch", json={"charges": charges})

    with ThreadPoolExecutor(1) as pool, stored_meanwhile(app, Payment, theirs) as their_id:
        answer = pool.submit(send)
    assert answer.result().status_code == 200, answer.result().text
    items = answer.result().json()["items"]
    assert [i["payment"]["state"] for i in items] == ["captured"] * 5
    assert items[2]["payment"]["id"] == their_id and len({i["payment"]["id"] for i in items}) == 5
    assert rows(app, Payment) == [5]


def test_concurrent_identical_pay_batches_capture_each_order_once(shop, app, redis_client):
    members = [shop.shopper() for _ in range(2)]
    lamp = shop.product(price=4_000)
    orders = make_orders(
        shop, 48, [sale_order(members[n % 2], lamp["id"], f"t{n}") for n in range(8)]
    ).json()["items"]
    payments = [attempt(shop, order, "a1") for order in orders]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: pay(shop, payments), range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    for answer in answers:  # a racer finds the payment in progress, or resumes it to the same capture
        for item in answer.json()["items"]:
            assert (item["order"] or {}).get("state") == "paid" or item["error"][
                "code"
            ] == "payment_in_progress"
    assert rows(app, Payment, PaymentTransition) == [8, 16]
    assert len(redis_client.keys(SANDBOX_CHARGE_KEY.format(reference="*"))) == 8
    for order in orders:
        moves = shop.internal("GET", f"/api/orders/internal/{order['id']}").json()["transitions"]
        assert [m["to_state"] for m in moves] == ["created", "payment_pending", "paid"]


def test_a_ticket_replayed_with_another_body_is_a_conflict(shop):
    ada = shop.shopper()
    lamp = shop.product()
    assert make_orders(shop, 43, [sale_order(ada, lamp["id"], "t1", 1)]).status_code == 200
    answer = make_orders(shop, 43, [sale_order(ada, lamp["id"], "t1", 2)])
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "idempotency_conflict"


def test_a_batch_pays_good_cards_and_tells_declined_ones_each_charge_once(shop):
    members = [shop.shopper() for _ in range(3)]
    lamp = shop.product(price=5_000)
    orders = one_order_each(shop, 44, members, lamp["id"])
    payments = [
        attempt(shop, orders[0], "a1"),
        attempt(shop, orders[1], "a1", DECLINED_CARD),
        attempt(shop, orders[2], "a1"),
    ]
    answer = pay(shop, payments)
    assert answer.status_code == 200, answer.json()
    items = answer.json()["items"]
    assert [i["order"] and i["order"]["state"] for i in items] == ["paid", None, "paid"]
    assert items[1]["error"]["code"] == "payment_declined"
    # replaying the batch answers the same outcomes and captures nothing twice
    replay = pay(shop, payments).json()["items"]
    assert [i["order"] and i["order"]["state"] for i in replay] == ["paid", None, "paid"]
    assert replay[1]["error"]["code"] == "payment_declined"
    for order in orders:
        assert len(shop.payments_of(order["id"])) == 1
    assert [p["state"] for p in shop.payments_of(orders[0]["id"])] == ["captured"]
    # every move is recorded, on the order and on its payment, once
    moves = shop.internal("GET", f"/api/orders/internal/{orders[0]['id']}").json()["transitions"]
    assert [m["to_state"] for m in moves] == ["created", "payment_pending", "paid"]
    declined_moves = shop.internal("GET", f"/api/orders/internal/{orders[1]['id']}").json()["transitions"]
    assert [m["to_state"] for m in declined_moves] == ["created", "payment_pending", "payment_failed"]
    assert [t["to_state"] for t in shop.payments_of(orders[0]["id"])[0]["transitions"]] == [
        "pending",
        "captured",
    ]
    # the declined order pays with a new attempt key and another card, still one order
    retry = pay(shop, [attempt(shop, orders[1], "a2")]).json()["items"][0]
    assert retry["order"]["state"] == "paid" and retry["order"]["id"] == orders[1]["id"]
    states = sorted(p["state"] for p in shop.payments_of(orders[1]["id"]))
    assert states == ["captured", "declined"]


def pay_through(url: str, shop, payments: list[dict]) -> list[dict]:
    """A pay batch sent to the orders service served at `url`; its items."""
    answer = requests.post(
        f"{url}/api/orders/internal/batch/pay", json={"payments": payments}, headers=shop.service_headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_process_serving_orders_and_payments_pays_a_batch_without_a_call_between_them(shop, config):
    ada, bob = shop.shopper(), shop.shopper()
    lamp = shop.product(price=3_000)
    orders = one_order_each(shop, 47, [ada, bob], lamp["id"])
    nowhere = {"payments": f"http://127.0.0.1:{free_port()}"}  # no payments service answers here
    both = create_api_app({**config, "SERVICE_URLS": nowhere})
    with Served(both) as served:
        items = pay_through(
            served.url, shop, [attempt(shop, orders[0], "a1"), attempt(shop, orders[1], "a1", DECLINED_CARD)]
        )
    assert [i["order"] and i["order"]["state"] for i in items] == ["paid", None]
    assert items[1]["error"]["code"] == "payment_declined"
    assert [p["state"] for p in shop.payments_of(orders[0]["id"])] == ["captured"]


def make_orders_through(url: str, shop, sale_id: int, orders: list[dict]) -> requests.Response:
    """An order batch sent to the orders service served at `url`."""
    body = {"sale_id": sale_id, "units": 100, "orders": orders}
    return requests.post(f"{url}/api/orders/internal/batch", json=body, headers=shop.service_headers)


def test_a_process_serving_orders_and_the_catalog_prices_a_batch_without_a_call_between_them(shop, config):
    ada = shop.shopper()
    lamp = shop.product(price=3_000)
    nowhere = {"catalog": f"http://127.0.0.1:{free_port()}"}  # no catalog service answers here
    with Served(create_api_app({**config, "SERVICE_URLS": nowhere})) as served:
        made = make_orders_through(served.url, shop, 51, [sale_order(ada, lamp["id"], "t1", quantity=2)])
        unknown = make_orders_through(served.url, shop, 51, [sale_order(ada, 999_999, "t2")])
    assert made.status_code == 200, made.text
    [order] = made.json()["items"]
    assert (order["state"], order["total"]) == ("created", 6_000)  # priced by the catalog's own rules
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "product_unavailable"


def test_orders_served_apart_prices_a_batch_over_http_and_refuses_it_while_the_catalog_is_away(shop, config):
    ada = shop.shopper()
    lamp = shop.product(price=3_000)
    catalog_alone = Served(create_api_app(dict(config), services=("catalog",))).start()
    settings = {"SERVICE_URLS": {"catalog": catalog_alone.url}, "SERVICE_ATTEMPTS": 1}
    with Served(create_api_app({**config, **settings}, services=("orders",))) as orders_alone:
        made = make_orders_through(orders_alone.url, shop, 52, [sale_order(ada, lamp["id"], "t1")])
        catalog_alone.stop()
        away = make_orders_through(orders_alone.url, shop, 52, [sale_order(ada, lamp["id"], "t2")])
    assert made.status_code == 200 and made.json()["items"][0]["total"] == 3_000
    assert away.status_code == 503 and away.json()["error"]["code"] == "service_unavailable"
    with shop.app.app_context():  # nothing was stored for the refused batch
        assert db.session.scalar(select(func.count(Order.id)).where(Order.sale_id == 52)) == 1


@contextlib.contextmanager
def payments_database_failing():
    """Every write to the payments table fails as a database gone away would, while inside."""

    def fail(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO PAYMENTS"):
            raise OperationalError(statement, {}, ConnectionError("the database went away"))

    event.listen(Engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", fail)


def test_a_database_failing_inside_the_in_process_charge_leaves_the_orders_pending_as_payments_away_would(
    shop,
):
    ada = shop.shopper()
    lamp = shop.product(price=3_000)
    [order] = one_order_each(shop, 50, [ada], lamp["id"])
    payment = attempt(shop, order, "a1")
    with payments_database_failing():
        [item] = pay(shop, [payment]).json()["items"]
    # the charge may or may not have been stored: never guessed, the order waits to be settled
    assert item["order"]["state"] == "payment_pending" and item["error"] is None
    assert shop.payments_of(order["id"]) == []
    # once the database answers, the same attempt pays the same order
    [again] = pay(shop, [payment]).json()["items"]
    assert again["order"]["state"] == "paid" and again["order"]["id"] == order["id"]


def test_orders_served_apart_pays_a_batch_over_http_and_leaves_it_pending_while_payments_is_away(
    shop, config
):
    ada, bob = shop.shopper(), shop.shopper()
    lamp = shop.product(price=3_000)
    orders = one_order_each(shop, 48, [ada, bob], lamp["id"])
    payments_alone = Served(create_api_app(dict(config), services=("payments",))).start()
    settings = {"SERVICE_URLS": {"payments": payments_alone.url}, "SERVICE_ATTEMPTS": 1}
    with Served(create_api_app({**config, **settings}, services=("orders",))) as orders_alone:
        paid = pay_through(orders_alone.url, shop, [attempt(shop, orders[0], "a1")])
        payments_alone.stop()
        away = pay_through(orders_alone.url, shop, [attempt(shop, orders[1], "a1")])
    assert paid[0]["order"]["state"] == "paid" and paid[0]["error"] is None
    # no answer from payments: the charge may or may not have happened, so the order waits to be settled
    assert away[0]["order"]["state"] == "payment_pending" and away[0]["error"] is None
    assert shop.payments_of(orders[1]["id"]) == []


def test_a_batch_refuses_orders_it_may_not_pay(shop):
    ada = shop.shopper()
    lamp = shop.product()
    order = make_orders(shop, 45, [sale_order(ada, lamp["id"], "t1")]).json()["items"][0]
    assert shop.internal("POST", f"/api/orders/internal/{order['id']}/cancel").status_code == 200
    missing = {"id": 2**31 - 1, "account_id": ada.id}
    items = pay(shop, [attempt(shop, order, "a1"), attempt(shop, missing, "a1")]).json()["items"]
    assert [i["error"]["code"] for i in items] == ["illegal_transition", "order_not_found"]


def test_a_batch_charge_checks_each_amount_against_its_order(shop):
    order = {"id": 1, "account_id": 1, "total": 5_000, "currency": "KRW", "state": "payment_pending"}
    token = card_token(shop, 1)
    charges = [
        {
            "order": order,
            "amount": 4_000,
            "currency": "KRW",
            "idempotency_key": "x1",
            "payment_method": token,
        },
        {
            "order": {**order, "state": "paid"},
            "amount": 5_000,
            "currency": "KRW",
            "idempotency_key": "x2",
            "payment_method": token,
        },
    ]
    items = shop.internal("POST", "/api/payments/charges/batch", json={"charges": charges}).json()["items"]
    assert [i["error"]["code"] for i in items] == ["amount_mismatch", "order_not_payable"]
    assert all(i["payment"] is None for i in items)


def test_charge_batches_sent_at_once_store_and_capture_one_payment_per_key(shop, app, redis_client):
    token = card_token(shop, 1)
    charges = [
        {
            "order": {
                "id": n,
                "account_id": 1,
                "total": 5_000,
                "currency": "KRW",
                "state": "payment_pending",
            },
            "amount": 5_000,
            "currency": "KRW",
            "idempotency_key": f"order:{n}:a1",
            "payment_method": token,
        }
        for n in range(1, 61)
    ]
    batches = [charges[start:] + charges[:start] for start in range(0, 60, 10)]

    def send(batch):
        return shop.internal("POST", "/api/payments/charges/batch", json={"charges": batch})

    with ThreadPoolExecutor(len(batches)) as pool:
        answers = list(pool.map(send, batches))
    assert [a.status_code for a in answers] == [200] * len(batches), [a.text for a in answers]
    by_key = {}
    for answer in answers:
        for item in answer.json()["items"]:
            assert item["error"] is None and item["payment"]["amount"] == 5_000
            by_key.setdefault(item["idempotency_key"], set()).add(item["payment"]["id"])
    assert len(by_key) == 60 and all(len(ids) == 1 for ids in by_key.values()), by_key
    assert rows(app, Payment) == [60]
    assert len(redis_client.keys(SANDBOX_CHARGE_KEY.format(reference="*"))) == 60
    # sent again once all is settled: the same captured payments, nothing stored or charged anew
    replay = send(charges).json()["items"]
    assert [(i["payment"]["id"], i["payment"]["state"]) for i in replay] == [
        (next(iter(by_key[c["idempotency_key"]])), "captured") for c in charges
    ]
    assert rows(app, Payment, PaymentTransition) == [60, 120]


@pytest.mark.parametrize("path", BATCH_PATHS)
@pytest.mark.parametrize("who", ["nobody", "shopper"])
def test_the_batch_endpoints_are_for_services_only(shop, path, who):
    headers = shop.shopper().headers if who == "shopper" else {}
    answer = shop.http.post(f"{shop.url}{path}", json={}, headers=headers)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "service_token_required"


def test_a_malformed_batch_is_refused_whole_with_each_bad_field_named(shop, app):
    ada = shop.shopper()
    lamp = shop.product()
    good = sale_order(ada, lamp["id"], "t1")
    twice = {**sale_order(ada, lamp["id"], "t2"), "items": [{"product_id": lamp["id"], "quantity": 1}] * 2}
    wanted = [good, {**good, "idempotency_key": "no spaces"}, twice, {**good, "price": 1}]
    answer = make_orders(shop, 49, wanted)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"orders.1.idempotency_key", "orders.2", "orders.3.price"}
    assert error["fields"]["orders.2"] == ["Name each product once."]
    unpaid = pay(shop, [{"order_id": 1, "idempotency_key": "a1", "payment_method": "not a token"}])
    assert unpaid.status_code == 422 and set(unpaid.json()["error"]["fields"]) == {
        "payments.0.payment_method"
    }
    assert pay(shop, []).status_code == 422  # an empty batch is no batch
    with app.app_context():  # nothing of the refused batch was stored
        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.sale_id == 49)) == 0


@pytest.fixture
def big_sale(live_api, app, client, operator):
    product_id = add_product(app, name="Paper Lantern", price=3_000, stock=150)
    sale = Sale(app, client, operator, product_id, units=150)
    sale.act("arm")
    sale.act("open")
    return sale


def admit_directly(app, sale_id: int, shoppers: int) -> list[tuple[str, int]]:
    """Admitted tickets for shoppers 1..n, as admit.lua writes them (the bench's shortcut)."""
    keys, deadline = sale_keys(sale_id), time.time() + 600
    admitted = [(f"{sale_id}-{n}", n) for n in range(1, shoppers + 1)]
    with app.app_context():
        pipe = app.extensions["yakku.sales_redis"].pipeline(transaction=False)  # one sale's keys: one node
        for ticket, shopper in admitted:
            pipe.hset(keys.tickets, ticket, "admitted")
            pipe.hset(keys.ticket_owner, ticket, shopper)
            pipe.hset(keys.ticket_expiry, ticket, str(deadline))
            pipe.zadd(keys.admitted, {ticket: deadline})
            pipe.hset(keys.waiters, shopper, "admitted")
        pipe.execute()
    return admitted


def good_token(shopper_id: int) -> str:
    """A payment-method token for the test card that succeeds, as a submit makes one (in an app context)."""
    return tokenise(Card("4242424242424242", 12, 2040, "123"), shopper_id).token


def test_two_hundred_submits_drain_with_few_jobs_and_the_audit_green(big_sale, app):
    admitted = admit_directly(app, big_sale.id, 200)
    with app.app_context():
        queue = app.extensions["yakku.rq"][QueueName.CHECKOUT]
        queue.empty()
        for ticket, shopper in admitted:  # one submit each, as the checkout endpoint makes it
            jobs.queue_checkouts(big_sale.id, [CheckoutRequest(ticket, shopper, 1, 1, good_token(shopper))])
        assert queue.count == 1  # 200 submits, one drain job queued
        assert line.backlog(big_sale.id) == 200
    big_sale.drain()
    with app.app_context():
        states = [records.read(big_sale.id, ticket).state.value for ticket, _shopper in admitted]
        assert line.backlog(big_sale.id) == 0
    # The 50 were refused while the batch's own 150 were held; once those were paid nothing was held, so
    # they are told sold out, not that fewer are left.
    assert states.count("paid") == 150 and states.count("sold_out") == 50
    audit = big_sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["sold"] == 150 and audit["figures"]["orders_paid"] == 150


def test_the_reconciler_leaves_a_waiting_or_just_taken_checkout_and_hands_back_one_a_dead_job_took(
    big_sale, app
):
    from admission.checkout.reconcile import reconcile_sale

    (first, one), (second, two) = admit_directly(app, big_sale.id, 2)
    with app.app_context():
        for ticket, shopper in ((first, one), (second, two)):
            jobs.queue_checkouts(big_sale.id, [CheckoutRequest(ticket, shopper, 1, 1, good_token(shopper))])
        assert reconcile_sale(big_sale.id, lease=0) == {}  # both wait in the line: a job will take them
        assert [r.ticket_id for r in line.take(big_sale.id, 1)] == [first]  # a job took one, then died
        assert reconcile_sale(big_sale.id) == {}  # within the lease it is the job's
        assert reconcile_sale(big_sale.id, now=time.time() + 60) == {"handed_back": 1}
        assert records.read(big_sale.id, first).state == "interrupted"
        assert records.read(big_sale.id, second).state == "queued"


SLOW_CARD = {**GOOD_CARD, "card_number": "4000000000000044"}


def test_a_slow_card_holds_neither_its_batch_nor_the_good_cards_in_it(shop):
    members = [shop.shopper() for _ in range(3)]
    lamp = shop.product(price=5_000)
    orders = one_order_each(shop, 46, members, lamp["id"])
    cards = [GOOD_CARD, SLOW_CARD, GOOD_CARD]
    started = time.monotonic()
    answer = pay(shop, [attempt(shop, o, "a1", card) for o, card in zip(orders, cards, strict=True)])
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.json()
    # The slow card takes 6 s; its charge's own deadline (2 s) answers it pending, the others paid.
    assert took < 4.0, f"the batch waited {took:.1f}s for its slow card"
    assert [i["order"]["state"] for i in answer.json()["items"]] == ["paid", "payment_pending", "paid"]
    [slow_payment] = shop.payments_of(orders[1]["id"])
    settled = shop.internal("POST", f"/api/payments/{slow_payment['id']}/settle").json()
    assert settled["state"] == "captured"  # the provider did take the money: settling records it


def test_while_the_provider_breaker_is_open_a_batch_charges_nothing_and_the_attempt_pays_later(
    shop, live_api
):
    ada = shop.shopper()
    lamp = shop.product(price=5_000)
    [order] = make_orders(shop, 47, [sale_order(ada, lamp["id"], "t1")]).json()["items"]
    payment = attempt(shop, order, "a1")
    breaker = live_api.extensions["yakku.payment_provider"].breaker
    breaker.open()
    try:
        [item] = pay(shop, [payment]).json()["items"]
        assert item["error"]["code"] == "charges_paused" and item["order"] is None
        assert shop.payments_of(order["id"]) == []  # nothing stored, nothing sent
        assert shop.internal("GET", "/api/payments/internal/ready").status_code == 503
    finally:
        breaker.close()
    assert shop.internal("GET", "/api/payments/internal/ready").status_code == 200
    [again] = pay(shop, [payment]).json()["items"]  # the same attempt key: it never reached the provider
    assert again["error"] is None and again["order"]["state"] == "paid"
    assert [p["state"] for p in shop.payments_of(order["id"])] == ["captured"]
