"""Sale orders in batches: the flash-sale drain makes, then pays, a hundred checkouts' orders per call.

Each order keeps the single calls' rules (one order per ticket key, one payment attempt per key, the
transition table); what a batch saves is the round trips and the commits: the catalog is asked once
per product, the orders are stored in one transaction, payments is called once, and the outcomes are
recorded in one transaction. As in lifecycle.pay, no row lock is held across the call to payments.

The rows are read and written as plain values with Core statements (one INSERT or UPDATE per table
for the whole batch: api.common.insert_rows, update_by_id), not as ORM objects: at a few hundred
orders a batch, the unit of work's bookkeeping for each object was the api's largest cost. The batch
answers carry no lines or transitions, so nothing here loads them.
"""

from functools import cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from api.client.errors import ServiceError, ServiceUnavailable
from api.common import insert_rows, release_connection, rows_of, update_by_id
from api.orders import remote
from api.orders.exceptions import (
    CardRejected,
    ChargesPaused,
    IdempotencyConflict,
    IllegalTransition,
    OrderNotFound,
    PaymentDeclined,
    PaymentInProgress,
    PaymentMethodExpired,
    PaymentRefused,
    SaleUnitsTaken,
)
from api.orders.keys import sale_order_key
from api.orders.models import Order, OrderLine, OrderTransition, SaleAllotment
from api.orders.services import (
    PLACED,
    canonical_items,
    committed_units,
    count_commitments,
    fingerprint,
    hold_sqlite_write_lock,
    move_record,
    priced_lines,
    total_of,
)
from api.orders.states import SOLD, OrderSource, OrderState, allowed, commitment
from api.payments.states import CHARGES_PAUSED, PAYMENT_METHOD_EXPIRED, PaymentState
from workers.order_mail import OrderMail, enqueue_order_mails
from yakku.errors import YakkuError
from yakku.extensions import db

# An order as a batch reads it, decides by it and answers it: a dict of these columns.
COLUMNS = (
    Order.id,
    Order.account_id,
    Order.state,
    Order.total,
    Order.currency,
    Order.source,
    Order.sale_id,
    Order.idempotency_key,
    Order.request_fingerprint,
    Order.payment_key,
)
Answer = tuple[dict | None, YakkuError | None]
# Tries at storing a batch's new orders: each lost race (a concurrent call stored some of its keys
# first) stores the rest on the next.
STORE_TRIES = 3


def create_sale_orders(sale_id: int, wanted: list[dict], units: int) -> list[dict]:
    """Record many sale orders ({account_id, items, idempotency_key}) in one transaction; the orders,
    in the order asked. A key already used answers its order (IdempotencyConflict if the body differs).
    The sale's first batch records `units` as the sale's allotment; later ones leave it as it is."""
    _declare_allotment(sale_id, units)
    lookup = cache(remote.product)  # asked before any row is read: remote calls free the connection
    entries = []
    for w in wanted:
        items = canonical_items(w["items"])
        request_hash = fingerprint({"account_id": w["account_id"], "sale_id": sale_id, "items": items})
        entries.append((sale_order_key(sale_id, w["idempotency_key"]), w, items, request_hash))
    for _key, _w, items, _hash in entries:
        for item in items:
            lookup(item["product_id"])
    keys = [key for key, *_ in entries]
    known = _by_keys(keys)
    for attempt in range(STORE_TRIES):
        fresh = _fresh(sale_id, entries, known, lookup)
        if not fresh:
            break
        try:
            ids = _insert(fresh)
            db.session.commit()
        except (IntegrityError, OperationalError):
            # A concurrent call stored some of these keys first (the key is unique, so the INSERT
            # fails whole; on MariaDB two batches inserting shared keys in other orders may deadlock
            # instead): read what it stored, and store the rest.
            db.session.rollback()
            if attempt == STORE_TRIES - 1:
                raise
            known = _by_keys(keys)
        else:
            known.update(_as_stored(fresh, ids))  # what was just written, not read back
    return [_replay(known[key], request_hash) for key, _w, _items, request_hash in entries]


def _declare_allotment(sale_id: int, units: int) -> None:
    # First writer wins: the allotment is the units the sale was armed with, and it never changes.
    if db.session.get(SaleAllotment, sale_id) is not None:
        return
    try:
        # Its orders so far count (none, unless the sale's orders were made before allotments were).
        committed = committed_units([sale_id]).get(sale_id, 0)
        db.session.add(SaleAllotment(sale_id=sale_id, units=units, committed=committed))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a concurrent batch recorded it first


def _fresh(sale_id: int, entries: list[tuple], known: dict[str, dict], lookup) -> dict[str, tuple]:
    """The orders of the entries whose key is not stored yet (a stored one must match its request)."""
    fresh: dict[str, tuple[dict, list[dict]]] = {}
    for key, w, items, request_hash in entries:
        if key in known:
            _replay(known[key], request_hash)
        elif key not in fresh:
            lines, currency = priced_lines(items, lookup)
            order = {
                "account_id": w["account_id"],
                "idempotency_key": key,
                "request_fingerprint": request_hash,
                "state": OrderState.CREATED,
                "total": total_of(lines),
                "currency": currency,
                "source": OrderSource.SALE,
                "sale_id": sale_id,
                "stock_key": None,
            }
            fresh[key] = (order, lines)
    return fresh


def _insert(fresh: dict[str, tuple[dict, list[dict]]]) -> dict[str, int]:
    """The new orders, their lines and their first transitions: one INSERT per table (not committed);
    the new orders' ids by key."""
    ids = insert_rows(Order, [order for order, _lines in fresh.values()], key="idempotency_key")
    insert_rows(
        OrderLine,
        [{**line, "order_id": ids[key]} for key, (_order, lines) in fresh.items() for line in lines],
    )
    insert_rows(OrderTransition, [{**PLACED, "order_id": ids[key]} for key in fresh])
    return ids


def _as_stored(fresh: dict[str, tuple[dict, list[dict]]], ids: dict[str, int]) -> dict[str, dict]:
    """The orders just inserted, by key, as _by_keys reads them (COLUMNS)."""
    names = [column.key for column in COLUMNS]
    return {
        key: {name: order.get(name) for name in names} | {"id": ids[key]}
        for key, (order, _lines) in fresh.items()
    }


def _by_keys(keys: list[str]) -> dict[str, dict]:
    query = select(*COLUMNS).where(Order.idempotency_key.in_(keys))
    return {order["idempotency_key"]: order for order in rows_of(query)}


def _replay(order: dict, request_hash: str) -> dict:
    if order["request_fingerprint"] != request_hash:
        raise IdempotencyConflict()
    return order


def pay_sale_orders(attempts: list[dict]) -> list[Answer]:
    """Pay many sale orders ({order_id, payment_method, attempt_key}) with one call to payments; per
    attempt, in the order given, the order after it (PAID, or PAYMENT_PENDING while the provider has
    not answered) or why it was not paid (PaymentDeclined, PaymentMethodExpired, CardRejected, ...)."""
    keys = [f"order:{a['order_id']}:{a['attempt_key']}" for a in attempts]
    answers, charges = _start(attempts, keys)
    if not charges:
        return answers
    release_connection()
    try:
        results = remote.charge_batch({"charges": [charge for _index, charge in charges]})["items"]
    except (ServiceUnavailable, ServiceError):
        # No answer: the charges may or may not have happened. The orders stay pending and
        # settle_pending() asks payments later; never guess either way.
        return answers
    outcomes = {index: result for (index, _charge), result in zip(charges, results, strict=True)}
    return _finish(attempts, keys, answers, outcomes)


def _lock(order_ids: list[int]) -> dict[int, dict]:
    """The orders, by id, with their rows locked until the session commits (SELECT ... FOR UPDATE)."""
    hold_sqlite_write_lock(order_ids)
    query = select(*COLUMNS).where(Order.id.in_(set(order_ids))).order_by(Order.id).with_for_update()
    return {order["id"]: order for order in rows_of(query)}


def _start(attempts: list[dict], keys: list[str]) -> tuple[list[Answer], list[tuple[int, dict]]]:
    """Move every payable order to PAYMENT_PENDING under its attempt's key, in one transaction; the
    answers so far and the charges to ask for (by the attempt's index)."""
    orders = _lock([a["order_id"] for a in attempts])
    room, units = _room(orders)
    answers: list[Answer] = []
    charges: list[tuple[int, dict]] = []
    transitions: list[dict] = []
    for index, (attempt, key) in enumerate(zip(attempts, keys, strict=True)):
        order = orders.get(attempt["order_id"])
        refusal = _refusal(order, key)
        if refusal is None and order["payment_key"] != key:
            refusal = _over_allotment(order, room, units)
        if refusal is not None:
            answers.append((None, refusal))
            continue
        if order["payment_key"] != key:
            _move(order, OrderState.PAYMENT_PENDING, "payment started", transitions)
            order["payment_key"] = key
        answers.append((order, None))
        if order["state"] == OrderState.PAYMENT_PENDING:  # new, or resumed: payments answers the same payment
            charges.append((index, _charge(order, key, attempt["payment_method"])))
    _save(orders, transitions, units)
    db.session.commit()
    return answers, charges


def _room(orders: dict[int, dict]) -> tuple[dict[int, int], dict[int, int]]:
    """(per sale of these orders: the units its allotment still has free, with the allotment's row
    locked until the session commits; per order: its units). Free = allotment - units of the sale's
    orders being paid or paid (the allotment's count of them), so concurrent batches of one sale take
    its units one after the other."""
    sale_ids = sorted({order["sale_id"] for order in orders.values() if order["sale_id"] is not None})
    if not sale_ids:
        return {}, {}
    allotted = db.session.execute(
        select(SaleAllotment.sale_id, SaleAllotment.units, SaleAllotment.committed)
        .where(SaleAllotment.sale_id.in_(sale_ids))
        .order_by(SaleAllotment.sale_id)
        .with_for_update()
    ).all()
    room = {sale_id: units - committed for sale_id, units, committed in allotted}
    return room, _units(list(orders))


def _units(order_ids: list[int]) -> dict[int, int]:
    """Per order, the units of its lines."""
    query = (
        select(OrderLine.order_id, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id.in_(order_ids))
        .group_by(OrderLine.order_id)
    )
    return {order_id: int(n) for order_id, n in db.session.execute(query).all()}


def _over_allotment(order: dict, room: dict[int, int], units: dict[int, int]) -> YakkuError | None:
    """SaleUnitsTaken when starting this order's payment would take its sale past its allotment (a sale
    without one, made before allotments were recorded, is refused: never sell what is not known);
    otherwise its units are taken from the room."""
    wanted, free = units.get(order["id"], 0), room.get(order["sale_id"], 0)
    if wanted > free:
        return SaleUnitsTaken(fields={"sale_id": order["sale_id"], "units_free": max(free, 0)})
    room[order["sale_id"]] = free - wanted
    return None


def _move(order: dict, target: OrderState, reason: str, transitions: list[dict]) -> None:
    """services.apply_transition's move on a locked order's values; the transition joins `transitions`
    (the callers checked the table: an IllegalTransition here is a bug, not a shopper's error)."""
    transitions.append(move_record(order["id"], OrderState(order["state"]), target, reason))
    order["state"] = target


def _save(orders: dict[int, dict], transitions: list[dict], units: dict[int, int] | None = None) -> None:
    """Write the moved orders' state and payment key, and their transitions: one statement each; and
    the units the moves took into or out of their sales' commitments (per order `units`, or read)."""
    moved = sorted({t["order_id"] for t in transitions})
    if not moved:
        return
    changes = [(t["order_id"], commitment(t["from_state"], t["to_state"])) for t in transitions]
    changes = [(order_id, change) for order_id, change in changes if change]
    if changes:
        units = units if units is not None else _units([order_id for order_id, _change in changes])
        by_sale: dict[int, int] = {}
        for order_id, change in changes:
            sale_id = orders[order_id]["sale_id"]
            if sale_id is not None:
                by_sale[sale_id] = by_sale.get(sale_id, 0) + change * units.get(order_id, 0)
        count_commitments(by_sale)
    update_by_id(
        Order,
        [{"id": i, "state": orders[i]["state"], "payment_key": orders[i]["payment_key"]} for i in moved],
    )
    insert_rows(OrderTransition, transitions)


def _refusal(order: dict | None, key: str) -> YakkuError | None:
    """Why this attempt may not start (the single pay's rules), or None."""
    if order is None or order["source"] != OrderSource.SALE:
        return OrderNotFound("No sale order has this number.")
    state = OrderState(order["state"])
    if order["payment_key"] == key:
        if state == OrderState.PAYMENT_FAILED:
            return PaymentDeclined("This attempt was declined; pay again with another card and a new key.")
        return None  # pending: resume it; otherwise its outcome stands
    if state == OrderState.PAYMENT_PENDING:
        return PaymentInProgress()
    if not allowed(state, OrderState.PAYMENT_PENDING):
        return IllegalTransition(fields={"state": state.value, "to": OrderState.PAYMENT_PENDING.value})
    return None


def _charge(order: dict, key: str, payment_method: str) -> dict:
    snapshot = {
        "id": order["id"],
        "account_id": order["account_id"],
        "total": order["total"],
        "currency": order["currency"],
        "state": OrderState(order["state"]).value,
    }
    return {
        "order": snapshot,
        "amount": order["total"],
        "currency": order["currency"],
        "idempotency_key": key,
        "payment_method": payment_method,
    }


def _finish(attempts: list[dict], keys: list[str], answers: list[Answer], outcomes: dict) -> list[Answer]:
    """Record every charge's outcome, in one transaction, on the orders still waiting for that payment;
    then write to the shoppers of the orders this call recorded paid (a retried batch records none)."""
    orders = _lock([attempts[index]["order_id"] for index in outcomes])
    transitions: list[dict] = []
    to_refund, paid = [], []
    for index, result in outcomes.items():
        order, key = orders[attempts[index]["order_id"]], keys[index]
        target, error = _outcome(result)
        waiting = order["state"] == OrderState.PAYMENT_PENDING and order["payment_key"] == key
        if target is not None and waiting:
            _move(order, target, _reason(result), transitions)
            if isinstance(error, ChargesPaused):
                order["payment_key"] = None  # never sent: the same attempt may start again
            if target == OrderState.PAID:
                paid.append(order["id"])
        payment = result.get("payment")
        if (
            payment
            and payment["state"] == PaymentState.CAPTURED
            and (order["payment_key"] != key or order["state"] not in SOLD)
        ):
            to_refund.append(payment["id"])  # the order moved on while the card was charged
        answers[index] = (order if error is None else None, error)
    _save(orders, transitions)
    db.session.commit()
    enqueue_order_mails(paid, OrderMail.SALE_PAID)
    for payment_id in to_refund:
        remote.refund(payment_id)
    return answers


def _outcome(result: dict) -> tuple[OrderState | None, YakkuError | None]:
    """The state a charge's answer moves its order to (None: stays pending), and the attempt's error."""
    payment, error = result.get("payment"), result.get("error")
    if error:
        if error["code"] == "validation_error":
            return OrderState.PAYMENT_FAILED, CardRejected(error["message"], fields=error.get("fields"))
        if error["code"] == PAYMENT_METHOD_EXPIRED:
            return OrderState.PAYMENT_FAILED, PaymentMethodExpired(fields=error.get("fields"))
        if error["code"] == CHARGES_PAUSED:
            return OrderState.PAYMENT_FAILED, ChargesPaused()
        return OrderState.PAYMENT_FAILED, PaymentRefused(error["message"], fields={"payments": error["code"]})
    if payment["state"] == PaymentState.CAPTURED:
        return OrderState.PAID, None
    if payment["state"] == PaymentState.PENDING:
        return None, None  # the provider has not answered: settle_pending() asks later
    if payment["state"] == PaymentState.DECLINED:
        message = f"The card was declined ({payment['decline_code']})."
        fields = {"decline_code": payment["decline_code"], "payment_id": payment["id"]}
        return OrderState.PAYMENT_FAILED, PaymentDeclined(message, fields=fields)
    return OrderState.PAYMENT_FAILED, None


def _reason(result: dict) -> str:
    if result.get("error"):
        return f"payments refused: {result['error']['code']}"
    payment = result["payment"]
    if payment["state"] == PaymentState.DECLINED:
        return f"declined: {payment['decline_code']}"
    return "payment captured" if payment["state"] == PaymentState.CAPTURED else f"payment {payment['state']}"
