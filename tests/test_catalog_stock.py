"""The internal stock API: units leave stock all at once per key, and come back exactly once."""

import threading

import pytest
from catalog_helpers import (
    add_product,
    expired_service_headers,
    forged_service_headers,
    service_headers,
    stock_of,
)
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from api.catalog import stock
from api.catalog.exceptions import InsufficientStock
from api.catalog.models import Product, ReservationState, StockReservation
from yakku.extensions import db

RESERVATIONS = "/api/catalog/stock/reservations"


@pytest.fixture
def internal(app):
    """Headers of the orders service calling the catalog."""
    return service_headers(app, "orders")


def reserve(client, headers, key, *items):
    return client.post(
        RESERVATIONS,
        json={"key": key, "items": [{"product_id": p, "quantity": q} for p, q in items]},
        headers=headers,
    )


def count_reservations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StockReservation))


@pytest.fixture
def caller(request, app, shoppers):
    """Headers of someone who is not a Yakku service."""
    if request.param == "shopper":
        return shoppers.verified().headers
    return {
        "nobody": {},
        "forged": forged_service_headers(),
        "expired": expired_service_headers(app),
        "garbage": {"X-Service-Token": "not-a-token"},
    }[request.param]


@pytest.mark.parametrize("caller", ["nobody", "shopper", "forged", "expired", "garbage"], indirect=True)
@pytest.mark.parametrize("action", ["reserve", "release", "commit", "show"])
def test_internal_endpoints_refuse_anyone_but_a_service(app, client, internal, caller, action):
    product_id = add_product(app, stock=5)
    assert reserve(client, internal, "order-1", (product_id, 2)).status_code == 201
    answer = {
        "reserve": lambda: reserve(client, caller, "order-2", (product_id, 1)),
        "release": lambda: client.post(f"{RESERVATIONS}/order-1/release", headers=caller),
        "commit": lambda: client.post(f"{RESERVATIONS}/order-1/commit", headers=caller),
        "show": lambda: client.get(f"{RESERVATIONS}/order-1", headers=caller),
    }[action]()
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "service_token_required"
    assert stock_of(app, product_id) == 3
    assert count_reservations(app) == 1
    assert client.get(f"{RESERVATIONS}/order-1", headers=internal).json["state"] == "held"


def test_a_reservation_takes_every_items_units(app, client, internal):
    mug, tea = add_product(app, stock=5), add_product(app, stock=2)
    answer = reserve(client, internal, "order-7", (tea, 2), (mug, 3))
    assert answer.status_code == 201
    assert answer.json["key"] == "order-7" and answer.json["state"] == "held"
    assert answer.json["items"] == sorted(
        [{"product_id": mug, "quantity": 3}, {"product_id": tea, "quantity": 2}],
        key=lambda i: i["product_id"],
    )
    assert (stock_of(app, mug), stock_of(app, tea)) == (2, 0)
    assert client.get(f"/api/catalog/products/{tea}").json["in_stock"] is False


def test_it_is_all_or_nothing(app, client, internal):
    plenty, scarce = add_product(app, stock=10), add_product(app, stock=1)
    answer = reserve(client, internal, "order-8", (plenty, 4), (scarce, 2))
    assert answer.status_code == 409
    error = answer.json["error"]
    assert error["code"] == "insufficient_stock"
    assert error["fields"]["items"] == [{"product_id": scarce, "requested": 2, "available": 1}]
    assert (stock_of(app, plenty), stock_of(app, scarce)) == (10, 1)
    assert count_reservations(app) == 0
    # The key was not spent: the same key may try again once the order is smaller.
    assert reserve(client, internal, "order-8", (plenty, 4), (scarce, 1)).status_code == 201


def test_unknown_or_deleted_products_are_named_and_nothing_changes(app, client, internal, operator):
    kept, deleted = add_product(app, stock=5), add_product(app, stock=5)
    client.delete(f"/api/catalog/products/{deleted}", headers=operator.headers)
    for missing in (deleted, 424242):
        answer = reserve(client, internal, f"order-{missing}", (kept, 1), (missing, 1))
        assert answer.status_code == 404
        assert answer.json["error"]["code"] == "product_not_found"
        assert answer.json["error"]["fields"]["items"] == [{"product_id": missing}]
    assert (stock_of(app, kept), stock_of(app, deleted)) == (5, 5)
    assert count_reservations(app) == 0


def test_replaying_a_key_answers_the_same_reservation_once(app, client, internal):
    mug, tea = add_product(app, stock=5), add_product(app, stock=5)
    first = reserve(client, internal, "ticket-1", (mug, 1), (tea, 2))
    again = reserve(client, internal, "ticket-1", (tea, 2), (mug, 1))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert (stock_of(app, mug), stock_of(app, tea)) == (4, 3)


@pytest.mark.parametrize("items", [[(1, 2)], [(0, 1)], [(0, 1), (1, 1), (2, 1)], [(1, 1)]])
def test_a_key_reused_for_other_items_is_a_conflict(app, client, internal, items):
    ids = [add_product(app, stock=5), add_product(app, stock=5), add_product(app, stock=5)]
    assert reserve(client, internal, "ticket-2", (ids[0], 1), (ids[1], 1)).status_code == 201
    answer = reserve(client, internal, "ticket-2", *[(ids[i], q) for i, q in items])
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "idempotency_conflict"
    assert [stock_of(app, i) for i in ids] == [4, 4, 5]


def test_release_returns_the_units_exactly_once(app, client, internal):
    mug = add_product(app, stock=5)
    reserve(client, internal, "order-9", (mug, 3))
    first = client.post(f"{RESERVATIONS}/order-9/release", headers=internal)
    again = client.post(f"{RESERVATIONS}/order-9/release", headers=internal)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json["state"] == again.json["state"] == "released"
    assert stock_of(app, mug) == 5
    # Replaying the original reservation does not take the units again.
    assert reserve(client, internal, "order-9", (mug, 3)).json["state"] == "released"
    assert stock_of(app, mug) == 5


def test_commit_keeps_the_units_and_a_refund_returns_them_once(app, client, internal):
    mug = add_product(app, stock=5)
    reserve(client, internal, "order-10", (mug, 2))
    for _ in range(2):
        answer = client.post(f"{RESERVATIONS}/order-10/commit", headers=internal)
        assert answer.status_code == 200 and answer.json["state"] == "committed"
    assert stock_of(app, mug) == 3
    refund = client.post(f"{RESERVATIONS}/order-10/release", headers=internal)
    assert refund.json["state"] == "released"
    client.post(f"{RESERVATIONS}/order-10/release", headers=internal)
    assert stock_of(app, mug) == 5
    late = client.post(f"{RESERVATIONS}/order-10/commit", headers=internal)
    assert late.status_code == 409 and late.json["error"]["code"] == "reservation_released"
    assert stock_of(app, mug) == 5


@pytest.mark.parametrize("action", ["release", "commit"])
def test_unknown_keys_are_not_found(client, internal, action):
    answer = client.post(f"{RESERVATIONS}/no-such-key/{action}", headers=internal)
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "reservation_not_found"
    assert client.get(f"{RESERVATIONS}/no-such-key", headers=internal).status_code == 404


def test_released_units_go_back_to_a_deleted_product(app, client, internal, operator):
    mug = add_product(app, stock=5)
    reserve(client, internal, "order-11", (mug, 2))
    client.delete(f"/api/catalog/products/{mug}", headers=operator.headers)
    client.post(f"{RESERVATIONS}/order-11/release", headers=internal)
    assert stock_of(app, mug) == 5


@pytest.mark.parametrize(
    "body, field",
    [
        ({"key": "k", "items": []}, "items"),
        ({"key": "k", "items": [{"product_id": n + 1, "quantity": 1} for n in range(51)]}, "items"),
        ({"key": "k", "items": [{"product_id": 1, "quantity": 0}]}, "items"),
        ({"key": "k", "items": [{"product_id": 1, "quantity": 1.5}]}, "items"),
        (
            {"key": "k", "items": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]},
            "items",
        ),
        ({"key": "k", "items": [{"product_id": 2**40, "quantity": 1}]}, "items"),
        ({"key": "", "items": [{"product_id": 1, "quantity": 1}]}, "key"),
        ({"key": "k" * 201, "items": [{"product_id": 1, "quantity": 1}]}, "key"),
        ({"items": [{"product_id": 1, "quantity": 1}]}, "key"),
    ],
)
def test_reservation_requests_are_validated(app, client, internal, body, field):
    add_product(app, stock=5)
    answer = client.post(RESERVATIONS, json=body, headers=internal)
    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"]
    assert count_reservations(app) == 0


def run_together(count: int, work) -> list:
    """Run work(n) in `count` threads released at once; what each returned or raised."""
    gate = threading.Barrier(count)
    outcomes = [None] * count

    def run(n):
        gate.wait()
        try:
            outcomes[n] = work(n)
        except Exception as exc:  # the outcome under test may be an exception
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_concurrent_buyers_of_the_last_units_never_oversell(app):
    hoodie = add_product(app, name="Limited Hoodie", stock=5)

    def buy(n):
        with app.app_context():
            reservation, created = stock.reserve(f"ticket-{n}", [{"product_id": hoodie, "quantity": 1}])
            return reservation.state, created

    outcomes = run_together(20, buy)
    assert outcomes.count((ReservationState.HELD, True)) == 5
    assert sum(isinstance(outcome, InsufficientStock) for outcome in outcomes) == 15
    assert stock_of(app, hoodie) == 0
    assert count_reservations(app) == 5


def test_concurrent_replays_of_one_key_take_the_units_once(app):
    hoodie = add_product(app, stock=5)

    def buy(n):
        with app.app_context():
            return stock.reserve("ticket-same", [{"product_id": hoodie, "quantity": 2}])[1]

    outcomes = run_together(10, buy)
    assert sorted(outcomes) == [False] * 9 + [True]
    assert stock_of(app, hoodie) == 3
    assert count_reservations(app) == 1


def test_concurrent_releases_return_the_units_once(app):
    hoodie = add_product(app, stock=5)
    with app.app_context():
        stock.reserve("ticket-refund", [{"product_id": hoodie, "quantity": 4}])

    def refund(n):
        with app.app_context():
            return stock.release("ticket-refund").state

    outcomes = run_together(10, refund)
    assert outcomes == [ReservationState.RELEASED] * 10
    assert stock_of(app, hoodie) == 5


def test_the_database_itself_refuses_negative_stock(app):
    hoodie = add_product(app, stock=1)
    # SQLite raises IntegrityError, MariaDB OperationalError (4025): both are DBAPIErrors.
    with app.app_context(), pytest.raises(DBAPIError):
        db.session.execute(update(Product).where(Product.id == hoodie).values(stock=Product.stock - 2))
        db.session.commit()
    assert stock_of(app, hoodie) == 1


def test_concurrent_baskets_are_all_or_nothing(app):
    plenty, scarce = add_product(app, stock=8), add_product(app, stock=5)  # the scarce one is taken second

    def buy(n):
        items = [{"product_id": plenty, "quantity": 1}, {"product_id": scarce, "quantity": 1}]
        with app.app_context():
            return stock.reserve(f"basket-{n}", items[:: 1 if n % 2 else -1])[0].state

    outcomes = run_together(12, buy)
    assert outcomes.count(ReservationState.HELD) == 5
    assert sum(isinstance(outcome, InsufficientStock) for outcome in outcomes) == 7
    assert (stock_of(app, plenty), stock_of(app, scarce)) == (3, 0)
