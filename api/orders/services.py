"""Orders: placing them (idempotently), reading them, and the one way their state changes."""

import hashlib
import json

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from api.common import page_of
from api.orders import remote
from api.orders.exceptions import (
    IdempotencyConflict,
    IllegalTransition,
    MixedCurrencies,
    OrderNotFound,
    OrderTooLarge,
    ProductUnavailable,
    TooManyOpenOrders,
)
from api.orders.keys import shop_order_key
from api.orders.models import Order, OrderLine, OrderTransition, SaleAllotment
from api.orders.states import COMMITTED, OrderSource, OrderState, allowed, commitment
from yakku.extensions import db


def fingerprint(body: dict) -> str:
    """A hash of a request's canonical JSON: equal bodies, equal fingerprints, whatever their key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def canonical_items(items: list[dict]) -> list[dict]:
    """Items reduced to product and quantity, in product order (the catalog's lock order too)."""
    return sorted(
        ({"product_id": int(i["product_id"]), "quantity": int(i["quantity"])} for i in items),
        key=lambda item: item["product_id"],
    )


def create_shop_order(account_id: int, items: list[dict], client_key: str) -> tuple[Order, bool]:
    """Place a shopper's order, holding its units in the catalog; True when newly made.

    Why a reservation call and not one SQL transaction with the stock decrement: the catalog
    service owns products and their stock, and may live in another process and another database.
    Orders reaches it only over HTTP, so the units are held first under a key derived from the
    order's idempotency key (the catalog dedups by it, so a retry holds nothing twice), the order
    row is committed second, and the hold is released if the order cannot be stored. Stock never
    goes below zero because the catalog's guarded UPDATE refuses to take units that are not there.
    """
    wanted = canonical_items(items)
    key = shop_order_key(account_id, client_key)
    request_hash = fingerprint({"items": wanted})
    existing = find_by_key(key)
    if existing is not None:
        return _replay(existing, request_hash), False
    refuse_beyond_open_orders(account_id)
    lines, currency = priced_lines(wanted)
    stock_key = f"order:{key}"
    reservation = remote.reserve(stock_key, wanted)
    if reservation.get("state") != "held":
        # An earlier attempt under this key held the units, failed, and gave them back.
        raise IdempotencyConflict("An earlier attempt with this key failed; place the order with a new key.")
    order = _new_order(account_id, key, request_hash, lines, currency, OrderSource.SHOP, None, stock_key)
    return _store(order, request_hash, release_key=stock_key)


# The first move every order records, made by the single path and by the batches alike.
PLACED = {"from_state": None, "to_state": OrderState.CREATED, "reason": "placed"}


# A shop order not yet paid: it holds units (created) or may hold them again (a declined one, retried).
UNPAID = (OrderState.CREATED, OrderState.PAYMENT_PENDING, OrderState.PAYMENT_FAILED)


def refuse_beyond_open_orders(account_id: int) -> None:
    """Refuse a new shop order to a shopper with MAX_OPEN_UNPAID_ORDERS unpaid ones already.

    One account placing order after order without paying made four products unbuyable. (Two orders
    placed at the same instant may both pass: a shopper can exceed the cap by their own concurrency,
    and the expiry still ends every hold.)
    """
    limit = int(current_app.config["MAX_OPEN_UNPAID_ORDERS"])
    open_orders = db.session.scalar(
        select(func.count(Order.id)).where(
            Order.account_id == account_id, Order.source == OrderSource.SHOP, Order.state.in_(UNPAID)
        )
    )
    if open_orders >= limit:
        raise TooManyOpenOrders(
            f"You have {open_orders} unpaid orders. Pay or cancel one of them before placing another.",
            fields={"open_orders": open_orders, "limit": limit},
        )


# Totals and amounts are INT columns (and a card payment has limits of its own): one order stays below.
MAX_TOTAL = 2**31 - 1


def priced_lines(items: list[dict], lookup=remote.product) -> tuple[list[dict], str]:
    """Order lines (their column values) named and priced by the catalog, never by the caller, and
    their one currency.

    `lookup` answers a product by id (a batch passes one that asks the catalog once per product).
    Plain values, not OrderLine objects, so a batch can insert them without the ORM's bookkeeping.
    """
    lines, unknown, currencies = [], [], set()
    for item in items:
        product = lookup(item["product_id"])
        if product is None:
            unknown.append({"product_id": item["product_id"]})
            continue
        currencies.add(product["currency"])
        lines.append(
            {
                "product_id": product["id"],
                "product_name": product["name"],
                "unit_price": int(product["price"]),
                "quantity": item["quantity"],
            }
        )
    if unknown:
        raise ProductUnavailable(fields={"items": unknown})
    if len(currencies) > 1:
        raise MixedCurrencies(fields={"items": sorted(currencies)})
    if total_of(lines) > MAX_TOTAL:
        raise OrderTooLarge(fields={"items": [f"The total may be at most {MAX_TOTAL:,} minor units."]})
    return lines, currencies.pop()


def total_of(lines: list[dict]) -> int:
    """The sum of the lines' unit_price × quantity, in minor units."""
    return sum(line["unit_price"] * line["quantity"] for line in lines)


def _new_order(account_id, key, request_hash, lines, currency, source, sale_id, stock_key) -> Order:
    return Order(
        account_id=account_id,
        idempotency_key=key,
        request_fingerprint=request_hash,
        state=OrderState.CREATED,
        total=total_of(lines),
        currency=currency,
        source=source,
        sale_id=sale_id,
        stock_key=stock_key,
        lines=[OrderLine(**line) for line in lines],
        transitions=[OrderTransition(**PLACED)],
    )


def _store(order: Order, request_hash: str, release_key: str | None) -> tuple[Order, bool]:
    db.session.add(order)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request with the same key stored its order first: that order is the answer,
        # and the reservation (same key, same items) is its reservation, so it is not released.
        db.session.rollback()
        winner = find_by_key(order.idempotency_key)
        if winner is None:
            _give_back(release_key)
            raise
        return _replay(winner, request_hash), False
    except Exception:
        db.session.rollback()
        _give_back(release_key)
        raise
    return order, True


def _give_back(release_key: str | None) -> None:
    if release_key is not None:
        remote.release(release_key)


def _replay(existing: Order, request_hash: str) -> Order:
    if existing.request_fingerprint != request_hash:
        raise IdempotencyConflict()
    return existing


def find_by_key(key: str) -> Order | None:
    """The order stored under a (scoped) idempotency key."""
    return db.session.execute(select(Order).where(Order.idempotency_key == key)).scalar_one_or_none()


def get_order(order_id: int, account_id: int | None = None) -> Order:
    """One order; with account_id, only that shopper's (anyone else's answers 404, not 403)."""
    order = db.session.get(Order, order_id, populate_existing=True)
    if order is None or (account_id is not None and order.account_id != account_id):
        raise OrderNotFound()
    return order


def orders_of(account_id: int, page: int = 1, per_page: int = 20) -> dict:
    """One page of a shopper's orders, newest first."""
    query = (
        select(Order).where(Order.account_id == account_id).order_by(Order.created_at.desc(), Order.id.desc())
    )
    return page_of(query, page, per_page)


def lock_order(order_id: int, account_id: int | None = None) -> Order:
    """The order with its row locked until the session commits or rolls back (SELECT ... FOR UPDATE)."""
    hold_sqlite_write_lock([order_id])
    order = db.session.execute(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if order is None or (account_id is not None and order.account_id != account_id):
        db.session.rollback()
        raise OrderNotFound()
    return order


def hold_sqlite_write_lock(order_ids: list[int]) -> None:
    """SQLite ignores FOR UPDATE: there a first write takes the database's write lock (waiting for other
    writers), so a read after it sees the latest committed state and nobody changes it under us."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Order).where(Order.id.in_(sorted(set(order_ids)))).values(id=Order.id))


def move_record(order_id: int, current: OrderState, target: OrderState, reason: str) -> dict:
    """The record of one move through the table (an order_transitions row's values); IllegalTransition
    unless the table allows it. The one check of a move, for single orders and batches alike."""
    if not allowed(current, target):
        raise IllegalTransition(
            f"An order that is {current.value} cannot become {target.value}.",
            fields={"state": current.value, "to": target.value},
        )
    return {"order_id": order_id, "from_state": current, "to_state": target, "reason": reason[:200]}


def apply_transition(order: Order, target: OrderState, reason: str) -> None:
    """Move a locked order to `target` if the table allows it, and record the move (not committed)."""
    try:
        move = move_record(order.id, OrderState(order.state), target, reason)
    except IllegalTransition:
        db.session.rollback()
        raise
    change = commitment(OrderState(order.state), target)
    if change and order.sale_id is not None:
        count_commitments({order.sale_id: change * sum(line.quantity for line in order.lines)})
    order.state = target
    order.transitions.append(OrderTransition(**move))


def count_commitments(changes: dict[int, int]) -> None:
    """Add to each sale's allotment the change of its committed units (not committed): every move of
    a sale order into or out of COMMITTED makes one, in the transaction that records the move."""
    table = SaleAllotment.__table__
    rows = [{"sale": sale_id, "change": n} for sale_id, n in sorted(changes.items()) if n]
    if rows:
        statement = (
            update(table)
            .where(table.c.sale_id == bindparam("sale"))
            .values(committed=table.c.committed + bindparam("change"))
        )
        db.session.execute(statement, rows)


def committed_units(sale_ids: list[int]) -> dict[int, int]:
    """Per sale, the units of its orders being paid or sold, summed over the orders themselves: what a
    new allotment's `committed` starts at (the audit compares the two from the orders' units by state)."""
    query = (
        select(Order.sale_id, func.sum(OrderLine.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.sale_id.in_(sale_ids), Order.state.in_(COMMITTED))
        .group_by(Order.sale_id)
    )
    return {sale_id: int(units) for sale_id, units in db.session.execute(query).all()}


def transition(order_id: int, target: OrderState, reason: str, account_id: int | None = None) -> Order:
    """Lock, move through the table, record and commit: the one way an order changes state."""
    order = lock_order(order_id, account_id)
    apply_transition(order, target, reason)
    db.session.commit()
    return order
