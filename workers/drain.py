"""The checkout drain: a job per sale takes the waiting checkouts in batches and decides each.

A batch of up to CHECKOUT_BATCH checkouts costs one Lua call to reserve them all, one call to the
orders service to make their orders (one price look-up, one transaction), one call to pay them (orders
calls payments once), and one pipeline to confirm the paid ones, where a checkout alone cost five
requests between the services. Each step stays idempotent per ticket (the reservation in Redis, the
order by the ticket's key, the charge by the attempt's key), so a worker killed anywhere in a batch
leaves every checkout of it where the reconciler finishes it, as it finished a lone checkout's.

A checkout asking for more units than are left while others' are held is not sold out: those units may
come back. If the batch itself held them, it asks once more after paying; otherwise, or if still short,
the shopper is told FEWER_LEFT with the units left, and may submit again for fewer.
"""

from collections import Counter

from flask import current_app

from admission import checkout, checkout_queue, stock
from admission.checkout import FINAL_CHECKOUT_STATES, Checkout, CheckoutState
from admission.checkout_queue import CheckoutRequest
from admission.stock import REFUSALS
from api.client import orders
from workers.checkout import DECLINED_CODES, charge_key, crash_point, declined, order_key, sale_product

BATCH = 250  # measured best on 2 cores (bench/sale.py): 100 a batch drained ~30 % slower, 500 no faster
# Batches per job: a job then queues the next and ends, so one sale never holds a worker for ever.
MAX_BATCHES = 50
# What a refused reservation tells the shopper; "insufficient" is told FEWER_LEFT, with the units left.
OUTCOME_STATES = {
    "sold_out": CheckoutState.SOLD_OUT,
    "expired": CheckoutState.EXPIRED,
}


def drain_sale(sale_id: int) -> dict:
    """Decide the sale's waiting checkouts, batch after batch, until none wait; the outcomes counted."""
    checkout_queue.started(sale_id)
    size = int(current_app.config.get("CHECKOUT_BATCH", BATCH))
    done: Counter = Counter()
    try:
        for _ in range(MAX_BATCHES):
            requests = checkout_queue.take(sale_id, size)
            if not requests:
                break
            _call_help(sale_id)
            done.update(drain_batch(sale_id, requests))
    finally:
        _call_help(sale_id)  # more arrived, or the bound was met: the next job takes them
    return dict(done)


def _call_help(sale_id: int) -> None:
    # While more wait, keep one job queued: an idle worker starts it and drains beside this one.
    if checkout_queue.backlog(sale_id):
        checkout_queue.kick(sale_id)


def drain_batch(sale_id: int, requests: list[CheckoutRequest]) -> Counter:
    """Take one batch of checkouts as far as each can go; the states they reached, counted."""
    known = checkout.read_many(sale_id, [r.ticket_id for r in requests])
    batch = []
    for request in requests:
        current = known.get(request.ticket_id)
        if current and (current.state in FINAL_CHECKOUT_STATES or current.attempt > request.attempt):
            continue  # a duplicate or superseded request: its outcome is already told
        order_id = current.order_id if current else None
        batch.append(
            (
                request,
                Checkout(
                    request.ticket_id, CheckoutState.PROCESSING, request.attempt, request.quantity, order_id
                ),
            )
        )
    checkout.record_many(sale_id, [state for _request, state in batch])

    crash_point("before_reserve")
    short, reserved_any = _reserve(sale_id, batch)
    if short and reserved_any:
        # This batch's own reservations held units while the refusals were answered; they are paid (or
        # held for a declined card) now: ask once more, so a sell-out within one batch ends sold out.
        short, _ = _reserve(sale_id, [(request, state) for request, state, _left in short])
    checkout.record_many(sale_id, [checkout.fewer_left(state, left) for _request, state, left in short])
    return Counter(state.state.value for _request, state in batch)


def _reserve(
    sale_id: int, batch: list[tuple[CheckoutRequest, Checkout]]
) -> tuple[list[tuple[CheckoutRequest, Checkout, int]], bool]:
    """Reserve for each, tell the refused, order and pay the reserved; whether any reserved, and those
    refused only because fewer units are left than they asked while others' are held (with the figure)."""
    outcomes = stock.reserve_batch(sale_id, [(r.ticket_id, r.quantity) for r, _state in batch])
    crash_point("after_reserve")
    reserved, short, told = [], [], []
    for (request, state), outcome in zip(batch, outcomes, strict=True):
        if outcome.reserved:
            reserved.append((request, state, outcome.units))
        elif outcome.code == "insufficient":  # not final: it stays PROCESSING until the caller tells it
            short.append((request, state, outcome.stock_left))
        else:
            state.state = OUTCOME_STATES.get(outcome.code, CheckoutState.FAILED)
            state.message = (
                REFUSALS[outcome.code]().message if outcome.code in REFUSALS else "This ticket was used."
            )
            told.append(state)
    checkout.record_many(sale_id, told)
    if reserved:
        _order_and_pay(sale_id, reserved)
    return short, bool(reserved)


def _order_and_pay(sale_id: int, reserved: list[tuple[CheckoutRequest, Checkout, int]]) -> None:
    product_id = sale_product(sale_id)
    made = orders().create_sale_orders(
        json={
            "sale_id": sale_id,
            "orders": [
                {
                    "account_id": request.shopper_id,
                    "items": [{"product_id": product_id, "quantity": units}],
                    "idempotency_key": order_key(sale_id, request.ticket_id),
                }
                for request, _state, units in reserved
            ],
        }
    )["items"]
    crash_point("after_order")
    for (_request, state, _units), order in zip(reserved, made, strict=True):
        state.order_id = order["id"]
    checkout.record_many(sale_id, [state for _request, state, _units in reserved])
    unpaid = [
        (request, state)
        for (request, state, _u), order in zip(reserved, made, strict=True)
        if order["state"] != "paid"
    ]
    paid = {
        state.ticket_id
        for (_r, state, _u), order in zip(reserved, made, strict=True)
        if order["state"] == "paid"
    }
    answers = _pay(sale_id, unpaid)
    crash_point("after_charge")
    told = []
    for (request, state), answer in zip(unpaid, answers, strict=True):
        error, order = answer["error"], answer["order"]
        if error and error["code"] in DECLINED_CODES:
            declined(sale_id, request.ticket_id, state.order_id, request.attempt, state, error["message"])
        elif order and order["state"] == "paid":
            paid.add(state.ticket_id)
        elif order and order["state"] == "payment_pending":  # no answer yet: the reconciler settles it
            state.message = "Waiting for the payment provider."
            told.append(state)
        # anything else (payments refused the charge) stays PROCESSING: the reconciler settles it
    confirmed = stock.confirm_many(sale_id, sorted(paid))
    for _request, state, _units in reserved:
        if confirmed.get(state.ticket_id):
            state.state, state.message = CheckoutState.PAID, "Your order is paid."
            told.append(state)
    checkout.record_many(sale_id, told)


def _pay(sale_id: int, unpaid: list[tuple[CheckoutRequest, Checkout]]) -> list[dict]:
    if not unpaid:
        return []
    return orders().pay_sale_orders(
        json={
            "payments": [
                {
                    **request.card,
                    "order_id": state.order_id,
                    "idempotency_key": charge_key(sale_id, request.ticket_id, request.attempt),
                }
                for request, state in unpaid
            ]
        }
    )["items"]
