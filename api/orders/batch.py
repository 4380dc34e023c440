"""Sale orders in batches: the flash-sale drain makes, then pays, a hundred checkouts' orders per call.

Each order keeps the single calls' rules (one order per ticket key, one payment attempt per key, the
transition table); what a batch saves is the round trips and the commits: the catalog is asked once
per product, the orders are stored in one transaction, payments is called once, and the outcomes are
recorded in one transaction. As in lifecycle.pay, no row lock is held across the call to payments.
"""

from functools import cache

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import lazyload

from api.client.errors import ServiceError, ServiceUnavailable
from api.common import release_connection
from api.orders import remote
from api.orders.exceptions import (
    CardRejected,
    IllegalTransition,
    OrderNotFound,
    PaymentDeclined,
    PaymentInProgress,
    PaymentRefused,
)
from api.orders.lifecycle import SOLD
from api.orders.models import Order, OrderTransition
from api.orders.services import (
    _new_order,
    _replay,
    canonical_items,
    create_sale_order,
    fingerprint,
    priced_lines,
)
from api.orders.states import OrderSource, OrderState, allowed
from yakku.errors import YakkuError
from yakku.extensions import db

Answer = tuple[Order | None, YakkuError | None]
# The batch answers carry no lines or transitions, so reads here leave both collections unloaded.
BRIEF = (lazyload(Order.lines), lazyload(Order.transitions))


def create_sale_orders(sale_id: int, wanted: list[dict]) -> list[Order]:
    """Record many sale orders ({account_id, items, idempotency_key}) in one transaction; the orders,
    in the order asked. A key already used answers its order (IdempotencyConflict if the body differs)."""
    lookup = cache(remote.product)  # asked before any row is read: remote calls free the connection
    entries = []
    for w in wanted:
        items = canonical_items(w["items"])
        request_hash = fingerprint({"account_id": w["account_id"], "sale_id": sale_id, "items": items})
        entries.append((f"sale:{sale_id}:{w['idempotency_key']}", w, items, request_hash))
    for _key, _w, items, _hash in entries:
        for item in items:
            lookup(item["product_id"])
    known = _by_keys([key for key, *_ in entries])
    fresh: dict[str, Order] = {}
    for key, w, items, request_hash in entries:
        if key in known:
            _replay(known[key], request_hash)
        elif key not in fresh:
            lines, currency = priced_lines(items, lookup)
            fresh[key] = _new_order(
                w["account_id"], key, request_hash, lines, currency, OrderSource.SALE, sale_id, None
            )
    if fresh:
        db.session.add_all(fresh.values())
        try:
            db.session.commit()
        except Exception:
            # A concurrent call stored some of these keys first: make each order the single way,
            # which answers the stored one for a key already used.
            db.session.rollback()
            for _key, w, _items, _hash in entries:
                create_sale_order(w["account_id"], sale_id, w["items"], w["idempotency_key"])
        known = _by_keys([key for key, *_ in entries])
    return [_replay(known[key], request_hash) for key, _w, _items, request_hash in entries]


def _by_keys(keys: list[str]) -> dict[str, Order]:
    query = (
        select(Order)
        .where(Order.idempotency_key.in_(keys))
        .options(*BRIEF)
        .execution_options(populate_existing=True)
    )
    return {order.idempotency_key: order for order in db.session.execute(query).scalars()}


def pay_sale_orders(attempts: list[dict]) -> list[Answer]:
    """Pay many sale orders ({order_id, card, attempt_key}) with one call to payments; per attempt, in
    the order given, the order after it (PAID, or PAYMENT_PENDING while the provider has not answered)
    or why it was not paid (PaymentDeclined, CardRejected, PaymentInProgress, ...)."""
    keys = [f"order:{a['order_id']}:{a['attempt_key']}" for a in attempts]
    answers, charges = _start(attempts, keys)
    if not charges:
        return _reloaded(answers)
    release_connection()
    try:
        results = remote.charge_batch({"charges": [charge for _index, charge in charges]})["items"]
    except (ServiceUnavailable, ServiceError):
        # No answer: the charges may or may not have happened. The orders stay pending and
        # settle_pending() asks payments later; never guess either way.
        return _reloaded(answers)
    outcomes = {index: result for (index, _charge), result in zip(charges, results, strict=True)}
    return _finish(attempts, keys, answers, outcomes)


def _lock(order_ids: list[int]) -> dict[int, Order]:
    ids = sorted(set(order_ids))
    if db.session.get_bind().dialect.name == "sqlite":  # a first write takes SQLite's write lock
        db.session.execute(update(Order).where(Order.id.in_(ids)).values(id=Order.id))
    query = (
        select(Order)
        .where(Order.id.in_(ids))
        .order_by(Order.id)
        .options(*BRIEF)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {order.id: order for order in db.session.execute(query).scalars()}


def _start(attempts: list[dict], keys: list[str]) -> tuple[list[Answer], list[tuple[int, dict]]]:
    """Move every payable order to PAYMENT_PENDING under its attempt's key, in one transaction; the
    answers so far and the charges to ask for (by the attempt's index)."""
    orders = _lock([a["order_id"] for a in attempts])
    answers: list[Answer] = []
    charges: list[tuple[int, dict]] = []
    for index, (attempt, key) in enumerate(zip(attempts, keys, strict=True)):
        order = orders.get(attempt["order_id"])
        refusal = _refusal(order, key)
        if refusal is not None:
            answers.append((None, refusal))
            continue
        if order.payment_key != key:
            _move(order, OrderState.PAYMENT_PENDING, "payment started")
            order.payment_key = key
        answers.append((order, None))
        if order.state == OrderState.PAYMENT_PENDING:  # new, or resumed: payments answers the same payment
            charges.append((index, _charge(order, key, attempt["card"])))
    db.session.commit()
    return answers, charges


def _move(order: Order, target: OrderState, reason: str) -> None:
    """services.apply_transition's move, recording the transition without loading the order's others."""
    current = OrderState(order.state)
    if not allowed(current, target):  # the callers checked: this is a bug, not a shopper's error
        raise IllegalTransition(fields={"state": current.value, "to": target.value})
    order.state = target
    db.session.add(
        OrderTransition(order_id=order.id, from_state=current, to_state=target, reason=reason[:200])
    )


def _refusal(order: Order | None, key: str) -> YakkuError | None:
    """Why this attempt may not start (the single pay's rules), or None."""
    if order is None or order.source != OrderSource.SALE:
        return OrderNotFound("No sale order has this number.")
    if order.payment_key == key:
        if order.state == OrderState.PAYMENT_FAILED:
            return PaymentDeclined("This attempt was declined; pay again with another card and a new key.")
        return None  # pending: resume it; otherwise its outcome stands
    if order.state == OrderState.PAYMENT_PENDING:
        return PaymentInProgress()
    if not allowed(OrderState(order.state), OrderState.PAYMENT_PENDING):
        return IllegalTransition(fields={"state": OrderState(order.state).value, "to": "payment_pending"})
    return None


def _charge(order: Order, key: str, card: dict) -> dict:
    snapshot = {
        "id": order.id,
        "account_id": order.account_id,
        "total": order.total,
        "currency": order.currency,
        "state": OrderState(order.state).value,
    }
    return {
        "order": snapshot,
        "amount": order.total,
        "currency": order.currency,
        "idempotency_key": key,
        "card": card,
    }


def _finish(attempts: list[dict], keys: list[str], answers: list[Answer], outcomes: dict) -> list[Answer]:
    """Record every charge's outcome, in one transaction, on the orders still waiting for that payment."""
    orders = _lock([attempts[index]["order_id"] for index in outcomes])
    to_refund = []
    for index, result in outcomes.items():
        order, key = orders[attempts[index]["order_id"]], keys[index]
        target, error = _outcome(result)
        if target is not None and order.state == OrderState.PAYMENT_PENDING and order.payment_key == key:
            _move(order, target, _reason(result))
        payment = result.get("payment")
        if (
            payment
            and payment["state"] == "captured"
            and (order.payment_key != key or order.state not in SOLD)
        ):
            to_refund.append(payment["id"])  # the order moved on while the card was charged
        answers[index] = (order if error is None else None, error)
    db.session.commit()
    for payment_id in to_refund:
        remote.refund(payment_id)
    return _reloaded(answers)


def _reloaded(answers: list[Answer]) -> list[Answer]:
    """The answers' orders read again in one query (a commit expired them: else one refresh each)."""
    ids = [inspect(order).identity[0] if order is not None else None for order, _error in answers]
    query = (
        select(Order)
        .where(Order.id.in_([i for i in ids if i]))
        .options(*BRIEF)
        .execution_options(populate_existing=True)
    )
    fresh = {order.id: order for order in db.session.execute(query).scalars()} if any(ids) else {}
    return [(fresh.get(i), error) for i, (_order, error) in zip(ids, answers, strict=True)]


def _outcome(result: dict) -> tuple[OrderState | None, YakkuError | None]:
    """The state a charge's answer moves its order to (None: stays pending), and the attempt's error."""
    payment, error = result.get("payment"), result.get("error")
    if error:
        if error["code"] == "validation_error":
            return OrderState.PAYMENT_FAILED, CardRejected(error["message"], fields=error.get("fields"))
        return OrderState.PAYMENT_FAILED, PaymentRefused(error["message"], fields={"payments": error["code"]})
    if payment["state"] == "captured":
        return OrderState.PAID, None
    if payment["state"] == "pending":
        return None, None  # the provider has not answered: settle_pending() asks later
    if payment["state"] == "declined":
        message = f"The card was declined ({payment['decline_code']})."
        fields = {"decline_code": payment["decline_code"], "payment_id": payment["id"]}
        return OrderState.PAYMENT_FAILED, PaymentDeclined(message, fields=fields)
    return OrderState.PAYMENT_FAILED, None


def _reason(result: dict) -> str:
    if result.get("error"):
        return f"payments refused: {result['error']['code']}"
    payment = result["payment"]
    if payment["state"] == "declined":
        return f"declined: {payment['decline_code']}"
    return "payment captured" if payment["state"] == "captured" else f"payment {payment['state']}"
