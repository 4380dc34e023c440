"""Stock reservations: units leave stock all at once for a key, and come back exactly once.

Every change is a guarded UPDATE (the WHERE clause re-checks the condition the change relies on),
so concurrent callers on any backend can never drive stock below zero or return units twice.
"""

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.catalog.exceptions import (
    IdempotencyConflict,
    InsufficientStock,
    ProductNotFound,
    ReservationNotFound,
    ReservationReleased,
)
from api.catalog.models import (
    Product,
    ReservationState,
    StockReservation,
    StockReservationLine,
    utcnow,
)
from yakku.extensions import db

RELEASABLE = (ReservationState.HELD, ReservationState.COMMITTED)


def get_reservation(key: str) -> StockReservation:
    """The reservation made under `key`; ReservationNotFound if there is none."""
    reservation = _find(key)
    if reservation is None:
        raise ReservationNotFound(fields={"key": key})
    return reservation


def reserve(key: str, items: Iterable[dict]) -> tuple[StockReservation, bool]:
    """Take every item's units out of stock under `key`, or none; True when newly made.

    The same key with the same items answers the reservation already made; with other items it
    raises IdempotencyConflict. Missing units raise InsufficientStock and change nothing.
    """
    wanted = _normalise(items)
    existing = _find(key)
    if existing is not None:
        return _replay(existing, wanted), False
    try:
        return _take(key, wanted), True
    except IntegrityError:
        # Another caller made this key's reservation between our look-up and our insert: our
        # transaction (decrements included) is rolled back, and theirs is the answer.
        db.session.rollback()
        existing = _find(key)
        if existing is None:
            raise
        return _replay(existing, wanted), False


def release(key: str) -> StockReservation:
    """Return a held or committed reservation's units to stock, once; later calls change nothing."""
    moved = db.session.execute(
        update(StockReservation)
        .where(StockReservation.key == key, StockReservation.state.in_(RELEASABLE))
        .values(state=ReservationState.RELEASED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        return get_reservation(key)
    lines = db.session.execute(
        select(StockReservationLine.product_id, StockReservationLine.quantity)
        .join(StockReservation)
        .where(StockReservation.key == key)
        .order_by(StockReservationLine.product_id)
    ).all()
    for product_id, quantity in lines:
        # Deleted products get their units back too: the counts must stay true either way.
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return get_reservation(key)


def commit(key: str) -> StockReservation:
    """Mark a held reservation as sold (its units stay out of stock); repeating it changes nothing."""
    moved = db.session.execute(
        update(StockReservation)
        .where(StockReservation.key == key, StockReservation.state == ReservationState.HELD)
        .values(state=ReservationState.COMMITTED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1:
        db.session.commit()
    else:
        db.session.rollback()
    reservation = get_reservation(key)
    if reservation.state == ReservationState.RELEASED:
        raise ReservationReleased(fields={"key": key})
    return reservation


def _normalise(items: Iterable[dict]) -> list[tuple[int, int]]:
    # Product order is also the lock order, so two reservations never wait on each other in a cycle.
    return sorted((int(item["product_id"]), int(item["quantity"])) for item in items)


def _find(key: str) -> StockReservation | None:
    return db.session.execute(
        select(StockReservation).where(StockReservation.key == key)
    ).scalar_one_or_none()


def _replay(existing: StockReservation, wanted: list[tuple[int, int]]) -> StockReservation:
    held = [(line.product_id, line.quantity) for line in existing.lines]
    if held != wanted:
        raise IdempotencyConflict(fields={"key": existing.key})
    return existing


def _take(key: str, wanted: list[tuple[int, int]]) -> StockReservation:
    short = []
    for product_id, quantity in wanted:
        taken = db.session.execute(
            update(Product)
            .where(Product.id == product_id, Product.active.is_(True), Product.stock >= quantity)
            .values(stock=Product.stock - quantity)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            short.append((product_id, quantity))
    if short:
        db.session.rollback()
        _refuse(short)
    reservation = StockReservation(key=key, state=ReservationState.HELD)
    reservation.lines = [StockReservationLine(product_id=pid, quantity=qty) for pid, qty in wanted]
    db.session.add(reservation)
    db.session.commit()
    return reservation


def _refuse(short: list[tuple[int, int]]) -> None:
    """Raise the error that explains why these items could not be taken (after the rollback)."""
    ids = [product_id for product_id, _ in short]
    on_sale = dict(
        db.session.execute(
            select(Product.id, Product.stock).where(Product.id.in_(ids), Product.active.is_(True))
        ).all()
    )
    db.session.rollback()
    unknown = [{"product_id": product_id} for product_id in ids if product_id not in on_sale]
    if unknown:
        raise ProductNotFound("Some products do not exist or are no longer sold.", fields={"items": unknown})
    lacking = [
        {"product_id": product_id, "requested": quantity, "available": on_sale[product_id]}
        for product_id, quantity in short
    ]
    raise InsufficientStock(fields={"items": lacking})
