"""The transition tables: every move they list is made and recorded, every other move is refused."""

import itertools

import pytest

from api.orders import services as orders
from api.orders.exceptions import IllegalTransition
from api.orders.models import Order, OrderTransition
from api.orders.states import TRANSITIONS, OrderSource, OrderState
from api.payments import services as payments
from api.payments.exceptions import IllegalTransition as IllegalPaymentTransition
from api.payments.models import Payment
from api.payments.states import TRANSITIONS as PAYMENT_TRANSITIONS
from api.payments.states import PaymentState
from yakku.extensions import db

ORDER_MOVES = list(itertools.product(OrderState, OrderState))
PAYMENT_MOVES = list(itertools.product(PaymentState, PaymentState))


def an_order(state: OrderState) -> int:
    order = Order(
        account_id=1,
        idempotency_key=f"sale:1:{state.value}",
        request_fingerprint="x",
        state=state,
        total=1000,
        currency="KRW",
        source=OrderSource.SALE,
        sale_id=1,
    )
    db.session.add(order)
    db.session.commit()
    return order.id


@pytest.mark.parametrize("current, target", ORDER_MOVES, ids=[f"{a}->{b}" for a, b in ORDER_MOVES])
def test_order_moves_follow_the_table(app, current, target):
    with app.app_context():
        order_id = an_order(current)
        if target in TRANSITIONS[current]:
            order = orders.transition(order_id, target, "test")
            assert order.state == target
            [move] = db.session.query(OrderTransition).filter_by(order_id=order_id).all()
            assert (move.from_state, move.to_state, move.reason) == (current, target, "test")
        else:
            with pytest.raises(IllegalTransition):
                orders.transition(order_id, target, "test")
            assert db.session.get(Order, order_id, populate_existing=True).state == current
            assert db.session.query(OrderTransition).filter_by(order_id=order_id).count() == 0


@pytest.mark.parametrize("current, target", PAYMENT_MOVES, ids=[f"{a}->{b}" for a, b in PAYMENT_MOVES])
def test_payment_moves_follow_the_table(app, current, target):
    with app.app_context():
        payment = Payment(
            order_id=1,
            account_id=1,
            idempotency_key=f"k-{current.value}",
            request_fingerprint="x",
            amount=1000,
            currency="KRW",
            state=current,
            provider="sandbox",
            card_last4="4242",
        )
        db.session.add(payment)
        db.session.commit()
        locked = payments.lock_payment(payment.id)
        if target in PAYMENT_TRANSITIONS[current]:
            payments.apply_transition(locked, target, "test")
            db.session.commit()
            assert db.session.get(Payment, payment.id, populate_existing=True).state == target
            assert [t.to_state for t in locked.transitions] == [target]
        else:
            with pytest.raises(IllegalPaymentTransition):
                payments.apply_transition(locked, target, "test")
            assert db.session.get(Payment, payment.id, populate_existing=True).state == current


def test_the_internal_transition_endpoint_refuses_illegal_moves(shop):
    ada = shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    illegal = shop.internal("POST", f"/api/orders/internal/{order['id']}/transition", {"to": "paid"})
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "illegal_transition"
    moved = shop.internal(
        "POST", f"/api/orders/internal/{order['id']}/transition", {"to": "cancelled", "reason": "ops"}
    )
    assert moved.status_code == 200 and moved.json()["transitions"][-1]["reason"] == "ops"
