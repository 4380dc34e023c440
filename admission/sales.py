"""A sale's lifecycle: DRAFT -> ARMED -> OPEN <-> PAUSED -> CLOSED, recorded in the database and
mirrored in Redis, where the hot paths and the admitter read it."""

import logging
import time
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select, update

from admission import catalog_units, draw, recovery, sale_index
from admission.exceptions import IllegalTransition, SaleNotFound, SaleSettingsLocked
from admission.keys import sale_keys
from admission.models import Sale, utcnow
from admission.replies import LifecycleOutcome, SettleCode
from admission.scripts import scripts
from admission.states import TRANSITIONS, SaleAction, SaleState
from admission.waiting_room import measured_rate, open_in_redis
from api.client.errors import ServiceError, ServiceUnavailable
from api.common import release_connection
from yakku.extensions import db, get_sales_redis

log = logging.getLogger(__name__)

DRAFT_ONLY = ("product_id", "units")


def create_sale(data: dict, operator_id: int | None = None) -> Sale:
    """A new sale in DRAFT, from validated fields."""
    sale = Sale(**data, state=SaleState.DRAFT, created_by=operator_id)
    db.session.add(sale)
    db.session.commit()
    return sale


def get_sale(sale_id: int) -> Sale:
    """The sale, its state brought up to date with Redis (the admitter opens sales there)."""
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        raise SaleNotFound()
    _catch_up([sale])
    return sale


def _catch_up(found: list[Sale]) -> None:
    # The admitter changes a sale's state in Redis only (it never writes SQL): the row follows here,
    # the first time the sale is read after the change.
    pipe = get_sales_redis().pipeline(transaction=False)
    for sale in found:
        pipe.hget(sale_keys(sale.id).settings, "state")
    behind = [
        (sale, live) for sale, live in zip(found, pipe.execute(), strict=True) if live and live != sale.state
    ]
    for sale, live in behind:
        record_state(sale.id, SaleState(live))
    for sale, _live in behind:
        db.session.refresh(sale)


def to_dict(sale: Sale) -> dict:
    """The sale's columns as a mapping."""
    return {column.name: getattr(sale, column.name) for column in Sale.__table__.columns}


def list_sales() -> list[Sale]:
    """Every sale, newest first, their states up to date with Redis."""
    found = list(db.session.execute(select(Sale).order_by(Sale.id.desc())).scalars())
    _catch_up(found)
    return found


def update_sale(sale_id: int, changes: dict) -> Sale:
    """Change a sale's settings: rate, cap, window and limit at any time before closing (live)."""
    sale = get_sale(sale_id)
    if sale.state == SaleState.CLOSED:
        raise IllegalTransition("A closed sale does not change.")
    if sale.state != SaleState.DRAFT and any(name in changes for name in DRAFT_ONLY):
        raise SaleSettingsLocked()
    if "opens_at" in changes and sale.state not in (SaleState.DRAFT, SaleState.ARMED):
        raise SaleSettingsLocked("The opening time cannot change once the sale has opened.")
    for name, value in changes.items():
        setattr(sale, name, value)
    db.session.commit()
    if sale.state != SaleState.DRAFT:
        get_sales_redis().hset(sale_keys(sale_id).settings, mapping=sale.redis_settings())
    return sale


def _next_state(sale: Sale, action: SaleAction) -> SaleState:
    target = TRANSITIONS.get((sale.state, action))
    if target is None:
        raise IllegalTransition(
            f"A sale that is {sale.state} cannot {action}.", fields={"state": sale.state, "action": action}
        )
    return target


def record_state(sale_id: int, state: SaleState) -> None:
    """Write the state the sale has reached into its row, and publish its draw's commitment or outcome."""
    db.session.execute(update(Sale).where(Sale.id == sale_id).values(state=state, updated_at=utcnow()))
    db.session.commit()
    if state == SaleState.ARMED:
        draw.record_commitment(sale_id)
    elif state == SaleState.OPEN:
        draw.record_draw(sale_id)


def arm_sale(sale_id: int) -> Sale:
    """Take the units from catalog stock and load the sale into Redis; the admitter opens it on time."""
    sale = get_sale(sale_id)
    _next_state(sale, SaleAction.ARM)
    product_id, units = sale.product_id, sale.units
    release_connection()  # the catalog may be served from this process's own pool
    catalog_units.take(sale_id, product_id, units)
    load_into_redis(sale)
    record_state(sale_id, SaleState.ARMED)
    return get_sale(sale_id)


def load_into_redis(sale: Sale) -> None:
    """Write the sale's settings, its draw's secret seed and its stock counter into Redis (once) and hand it
    to the admitter."""
    args: list = [sale.units]
    for field, value in {**sale.redis_settings(), **draw.arm_settings()}.items():
        args += [field, value]
    scripts().arm(sale.id, args)
    sale_index.add_active(sale.id)


def open_sale(sale_id: int, now: float | None = None) -> Sale:
    """Open an armed sale now, before its opening time."""
    sale = get_sale(sale_id)
    _next_state(sale, SaleAction.OPEN)
    open_in_redis(sale_id, time.time() if now is None else now)
    record_state(sale_id, SaleState.OPEN)
    return get_sale(sale_id)


def pause_sale(sale_id: int) -> Sale:
    """Stop admitting (joins are still taken, waiters keep their places)."""
    return _move(sale_id, SaleAction.PAUSE)


def resume_sale(sale_id: int) -> Sale:
    """Admit again after a pause, from an empty token bucket."""
    return _move(sale_id, SaleAction.RESUME)


def _move(sale_id: int, action: SaleAction) -> Sale:
    sale = get_sale(sale_id)
    target = _next_state(sale, action)
    moved = scripts().transition(sale_id, [sale.state.value, target.value, time.time()])
    if moved.outcome == LifecycleOutcome.REFUSED:
        raise IllegalTransition(fields={"state": moved.state, "action": action})
    record_state(sale_id, target)
    return get_sale(sale_id)


def close_sale(sale_id: int) -> Sale:
    """End the sale: no more joins or admissions, waiters told, unused tickets expired, leftovers back."""
    sale = get_sale(sale_id)
    _next_state(sale, SaleAction.CLOSE)
    if sale.state != SaleState.DRAFT:
        recovery.ensure_loaded(sale_id)  # a sale Redis lost is loaded first: its close must know its units
        scripts().close(sale_id)
        sale_index.move_to_settling(sale_id)  # not in one MULTI: the sets are apart on a cluster
    record_state(sale_id, SaleState.CLOSED)
    if sale.state != SaleState.DRAFT:
        try:
            settle_leftovers(sale_id)
        except (ServiceError, ServiceUnavailable):
            # The sale is closed either way; the settle endpoint or the reconciler gives the units back later.
            log.warning("sale %s closed; leftover units go back to the catalog later", sale_id, exc_info=True)
    return get_sale(sale_id)


def settle_leftovers(sale_id: int) -> dict:
    """Give a closed sale's unsold units back to the catalog, once no reservation is in flight.

    Safe to call again (the reconciler does, after resolving reservations): the plan is recorded in
    Redis before the catalog is called, and every catalog call is idempotent by its key.
    """
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        raise SaleNotFound()
    if sale.leftovers_returned is not None:
        sale_index.settled(sale_id)
        return {"settled": True, "returned": sale.leftovers_returned}
    # The leftovers are the units not sold by the database's record, not by a counter Redis may have lost.
    recovery.check_sale(sale_id)
    client = get_sales_redis()
    keys = sale_keys(sale_id)
    code, units = scripts().settle(sale_id, [], client)
    if code != SettleCode.PLANNED:
        return {"settled": False, "reason": code, "units": int(units)}
    if not client.hget(keys.returns, "done"):
        sale_units = sale.units
        release_connection()  # the catalog may be served from this process's own pool
        catalog_units.give_back(sale_id, sale_units, int(units))
        client.hset(keys.returns, "done", time.time())
    db.session.execute(update(Sale).where(Sale.id == sale_id).values(leftovers_returned=int(units)))
    db.session.commit()
    sale_index.settled(sale_id)
    return {"settled": True, "returned": int(units)}


def settle_closed_sales() -> dict[int, dict]:
    """Try to settle every closed sale that has not given its leftovers back yet."""
    return {sale_id: settle_leftovers(sale_id) for sale_id in sale_index.settling_sales()}


def sale_figures(sale_id: int, now: float | None = None) -> dict:
    """The sale's live figures from Redis: waiting, admitted, sold, left, measured rate..."""
    now = time.time() if now is None else now
    window = float(current_app.config["ADMISSION_RATE_WINDOW_S"])
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.hgetall(keys.settings)
    for counter in (keys.stock, keys.held, keys.sold):
        pipe.get(counter)
    pipe.zcard(keys.queue).scard(keys.prequeue).zcard(keys.admitted).zcard(keys.inflight)
    pipe.zcount(keys.admissions, now - window, "+inf").hget(keys.returns, "units")
    pipe.hmget(keys.outcomes, "turned_away", "left", "bought")
    settings, left, held, sold, queued, prequeued, admitted, inflight, recent, returned, outcomes = (
        pipe.execute()
    )
    turned_away, left_unbought, bought = (int(value or 0) for value in outcomes)
    units, sold = int(settings.get("units") or 0), int(sold or 0)
    measured, rate = measured_rate(
        recent, float(settings.get("rate") or 0), settings.get("opened_at"), now, window
    )
    return {
        "live": bool(settings),
        "waiting": queued + prequeued,
        "pre_queue": prequeued,
        "admitted": admitted,
        "reserving": inflight,
        "units_left": int(left or 0),
        "units_held": int(held or 0),
        "units_sold": sold,
        "units_returned": int(returned or 0),
        "units_unsold": units - sold,
        # Waiters the units not reserved cannot reach yet: on standby for units that come back.
        "standby": max(queued - max(int(left or 0) - admitted, 0), 0) if settings.get("opened_at") else 0,
        "turned_away": turned_away,
        "turned_away_while_unsold": turned_away if sold < units else 0,
        "left_unbought": left_unbought,
        "bought": bought,
        "measured_rate": round(rate, 3) if measured else None,
        "opened_at": _iso(settings.get("opened_at")),
    }


def _iso(epoch: str | None) -> str | None:
    return datetime.fromtimestamp(float(epoch), UTC).isoformat() if epoch else None
