"""Twenty shoppers race for the last five units: five orders are paid, and stock never goes below zero."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from api.orders.models import Order
from api.orders.states import OrderState
from api.payments.models import Payment
from api.payments.states import PaymentState
from yakku.extensions import db


def test_twenty_buyers_of_the_last_five_units(shop, app):
    buyers = shop.crowd(20)
    last = shop.product(price=9900, stock=5)
    start = threading.Barrier(len(buyers))
    lowest = []

    def buy(member):
        start.wait()
        placed = shop.order(member, {last["id"]: 1})
        lowest.append(shop.stock_of(last["id"]))
        if placed.status_code != 201:
            return placed.status_code, placed.json()["error"]["code"]
        paid = shop.pay(member, placed.json()["id"])
        return paid.status_code, paid.json().get("state")

    with ThreadPoolExecutor(len(buyers)) as pool:
        outcomes = list(pool.map(buy, buyers))

    assert sorted(outcomes).count((200, "paid")) == 5, outcomes
    assert sorted(outcomes).count((409, "insufficient_stock")) == 15, outcomes
    assert shop.stock_of(last["id"]) == 0
    assert min(lowest) >= 0
    with app.app_context():
        paid = db.session.scalar(select(func.count()).where(Order.state == OrderState.PAID))
        captured = db.session.scalar(select(func.count()).where(Payment.state == PaymentState.CAPTURED))
        assert (paid, captured) == (5, 5)
        assert db.session.scalar(select(func.count()).select_from(Order)) == 5
