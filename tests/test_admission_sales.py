"""A sale's lifecycle through the operator API: the transition table, arming from catalog stock, leftovers."""

from datetime import UTC, datetime, timedelta

import pytest
from admission_helpers import T0, bearer

from admission import admitter, sales, stock, waiting_room
from admission.states import TRANSITIONS, SaleAction, SaleState
from api.catalog import services as catalog_services
from api.catalog.models import Product
from yakku.extensions import db

OPENS = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def new_sale(**changes) -> dict:
    body = {
        "product_id": 1,
        "units": 10,
        "opens_at": OPENS,
        "admission_rate": 5,
        "admitted_cap": 50,
        "checkout_window_s": 300,
        "per_shopper_limit": 2,
    }
    return {**body, **changes}


@pytest.fixture
def ops(app):
    return bearer(app, 1, role="operator")


@pytest.mark.parametrize("state", list(SaleState))
@pytest.mark.parametrize("action", [a for a in SaleAction if a != SaleAction.ARM])
def test_every_transition_is_allowed_or_refused_by_the_table(client, ops, sales_ops, state, action):
    sale = sales_ops.in_state(state)
    answer = client.post(f"/api/sales/{sale}/{action}", headers=ops)
    target = TRANSITIONS.get((state, action))
    if target is None:
        assert answer.status_code == 409, answer.json
        assert answer.json["error"]["code"] == "illegal_transition"
        assert sales.get_sale(sale).state == state
    else:
        assert answer.status_code == 200, answer.json
        assert answer.json["state"] == target
        assert sales_ops.redis.hget(f"sale:{{{sale}}}:settings", "state") in (None, target)


@pytest.mark.parametrize("state", [s for s in SaleState if s != SaleState.DRAFT])
def test_only_a_draft_can_be_armed(client, ops, sales_ops, state):
    sale = sales_ops.in_state(state)
    assert client.post(f"/api/sales/{sale}/arm", headers=ops).status_code == 409


def test_the_operator_api_is_for_operators_only(app, client, sales_ops):
    sale = sales_ops.draft()
    assert client.get("/api/sales").status_code == 401
    shopper = bearer(app, 5)
    assert client.get("/api/sales", headers=shopper).status_code == 403
    assert client.post(f"/api/sales/{sale}/close", headers=shopper).status_code == 403
    assert client.post("/api/sales", json=new_sale(), headers=shopper).status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("units", 0),
        ("admission_rate", 0),
        ("admitted_cap", 0),
        ("per_shopper_limit", 0),
        ("opens_at", "soon"),
    ],
)
def test_sale_settings_are_validated(client, ops, field, value):
    answer = client.post("/api/sales", json=new_sale(**{field: value}), headers=ops)
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_error" and field in answer.json["error"]["fields"]


def test_create_list_show_and_change_live(client, ops, sales_ops):
    made = client.post("/api/sales", json=new_sale(name="Launch"), headers=ops)
    assert made.status_code == 201 and made.json["state"] == "draft" and made.json["created_by"] == 1
    sale = made.json["id"]
    assert [item["id"] for item in client.get("/api/sales", headers=ops).json["items"]] == [sale]
    sales.load_into_redis(sales.get_sale(sale))
    sales.record_state(sale, SaleState.ARMED)
    changed = client.patch(f"/api/sales/{sale}", json={"admission_rate": 20, "admitted_cap": 7}, headers=ops)
    assert changed.status_code == 200, changed.json
    assert sales_ops.redis.hmget(f"sale:{{{sale}}}:settings", "rate", "cap") == ["20.0", "7"]
    locked = client.patch(f"/api/sales/{sale}", json={"units": 99}, headers=ops)
    assert locked.status_code == 409 and locked.json["error"]["code"] == "sale_settings_locked"
    shown = client.get(f"/api/sales/{sale}", headers=ops).json
    assert shown["figures"]["units_left"] == 10 and shown["figures"]["measured_rate"] is None
    assert client.get("/api/sales/999", headers=ops).status_code == 404


def test_live_figures_follow_the_sale(client, ops, sales_ops):
    sale = sales_ops.opened(units=5, rate=10, cap=10, limit=2)
    sales_ops.join(sale, 1, 2, 3)
    sales_ops.tick(T0 + 1)
    sales_ops.buy(sale, sales_ops.ticket_of(sale, 1), 2, T0 + 1)
    figures = sales.sale_figures(sale, T0 + 2)
    assert figures["units_sold"] == 2 and figures["units_left"] == 3 and figures["admitted"] == 2
    assert figures["measured_rate"] == pytest.approx(3 / 2)


def product_stock(app, product_id):
    with app.app_context():
        return db.session.get(Product, product_id).stock


@pytest.fixture
def hoodie(app, live_api):
    with app.app_context():
        return catalog_services.create_product({"name": "Hoodie", "price": 5900, "stock": 100}).id


def test_arming_takes_units_from_the_catalog_and_closing_gives_back_the_rest(app, client, ops, hoodie):
    sale = client.post("/api/sales", json=new_sale(product_id=hoodie, units=30), headers=ops).json["id"]
    armed = client.post(f"/api/sales/{sale}/arm", headers=ops)
    assert armed.status_code == 200, armed.json
    assert armed.json["state"] == "armed" and armed.json["figures"]["units_left"] == 30
    assert product_stock(app, hoodie) == 70  # the shop cannot sell them twice
    assert client.post(f"/api/sales/{sale}/open", headers=ops).json["state"] == "open"
    with app.app_context():
        now = datetime.now(UTC).timestamp()
        for shopper in (1, 2, 3):
            waiting_room.join(sale, shopper, now)
        admitter.tick(now + 1)
        tickets = [
            app.extensions["yakku.sales_redis"].hget(f"sale:{{{sale}}}:shopper_ticket", s) for s in (1, 2, 3)
        ]
        for ticket in tickets[:2]:
            stock.reserve(sale, ticket, 2, now + 2)
            stock.confirm(sale, ticket)
        stock.reserve(sale, tickets[2], 1, now + 2)  # still in flight when the sale closes
    closed = client.post(f"/api/sales/{sale}/close", headers=ops)
    assert closed.status_code == 200 and closed.json["state"] == "closed"
    assert product_stock(app, hoodie) == 70  # a reservation is in flight: nothing goes back yet
    assert client.post(f"/api/sales/{sale}/settle", headers=ops).json["reason"] == "in_flight"
    with app.app_context():
        stock.release(sale, tickets[2], stock.TicketState.DECLINED)
    settled = client.post(f"/api/sales/{sale}/settle", headers=ops).json
    assert settled == {"settled": True, "returned": 26}
    assert product_stock(app, hoodie) == 96  # 4 sold
    assert client.post(f"/api/sales/{sale}/settle", headers=ops).json["returned"] == 26
    assert product_stock(app, hoodie) == 96  # settling again changes nothing


def test_arming_more_units_than_the_catalog_has_is_refused(app, client, ops, hoodie):
    sale = client.post("/api/sales", json=new_sale(product_id=hoodie, units=101), headers=ops).json["id"]
    refused = client.post(f"/api/sales/{sale}/arm", headers=ops)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_enough_stock"
    assert product_stock(app, hoodie) == 100  # the chunks taken before the refusal went back
    assert client.get(f"/api/sales/{sale}", headers=ops).json["state"] == "draft"
