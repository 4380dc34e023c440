"""The database is the record of what a sale sold: when Redis lost a sale (a restart without
persistence) or rolled some of it back (an append-only file cut short by a power loss), the sale is put
back from the database before anything more is decided on it.

Rebuilt from the database:
- the sale's row: its settings and state, and the leftovers it gave back once closed;
- its draw's published row: the seed and the salt, once the sale has opened;
- the orders service's ledger of the sale's orders: a paid order's ticket ends PAID and a paying one's
  is RESERVED (the reconciler settles it with payments), each with its shopper and units, so the
  counters count them again (recount.lua).
Lost with Redis, and said so in the recovery's record: the waiting line (its shoppers join again), and
the tickets that had reached no paying order (nothing was charged on them).

What keeps a unit from being sold twice meanwhile is not this repair but the orders service's allotment
(api/orders/batch.py): a sale order starts paying only while the sale's paying and paid units stay
within the sale's units, whatever Redis's counter says. The repair makes the counter agree again, so
shoppers are told the truth and the leftovers that go back to the catalog are the unsold ones.

Checked at every reconciler sweep (jobs.sweep), before a sale closes and before it settles, when the
drain's confirm finds a paid order's ticket not reserved, and by `yakku recover SALE`. Each repair is
recorded in the database (SaleRecovery), where the audit reads it.
"""

import logging
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from sqlalchemy import and_, or_, select

from admission import draw, sale_index
from admission.checkout import records
from admission.checkout.records import Checkout, CheckoutState
from admission.checkout.steps import AWAITING_PROVIDER, PAID
from admission.exceptions import SaleNotFound
from admission.keys import sale_keys
from admission.models import Sale, SaleDraw, SaleRecovery
from admission.scripts import scripts
from admission.states import LIVE_STATES, SaleState, TicketState
from api.client import orders
from api.client.errors import ServiceError, ServiceUnavailable
from api.orders.states import OrderState
from yakku.extensions import db, get_sales_redis

log = logging.getLogger(__name__)

# Ticket numbers move on by this much after a loss: past any ticket issued before it that Redis forgot
# (and a worker may still be paying). More than a sale admits while a loss goes unnoticed.
TICKET_GAP = 100_000
RESTORE_BATCH = 1000  # tickets per restore.lua call: bounds one script's run time
# The ledger's states whose ticket Redis must hold: paid ones as PAID, paying ones as RESERVED.
PAID_STATES = frozenset({OrderState.PAID, OrderState.SHIPPED})
PAYING_STATES = frozenset({OrderState.PAYMENT_PENDING})
LINE_LOST = "the waiting line (its shoppers join again) and the tickets that had reached no paying order"
SEED_LOST = "the draw's secret seed: a new one was committed and published in its place"


class RecoveryKind(StrEnum):
    REBUILT = "rebuilt"  # Redis had lost the sale whole: its settings and counters were rebuilt
    REPAIRED = "repaired"  # Redis lacked paid or paying tickets the database has, or their numbers


@dataclass(frozen=True)
class Committed:
    """A ticket the database says paid or is paying: its order in the ledger."""

    ticket_id: str
    shopper_id: int
    units: int
    paid: bool
    order_id: int


@dataclass
class Recovery:
    """What one check of a sale found and did; `kind` None: Redis agreed with the database."""

    sale_id: int
    kind: RecoveryKind | None = None
    confirmed: int = 0  # reserved tickets whose order was paid: confirmed, as the drain would have
    restored_paid: int = 0  # paid orders whose ticket Redis had lost: put back PAID
    restored_paying: int = 0  # paying orders whose ticket Redis had lost: put back RESERVED
    counters: dict = field(default_factory=dict)  # sold, held, left, ticket_number after the recount
    lost: list[str] = field(default_factory=list)  # what Redis lost that the database cannot give back

    def detail(self) -> dict:
        return {name: value for name, value in asdict(self).items() if name not in ("sale_id", "kind")}


def sales_to_check() -> list[int]:
    """The sales Redis must hold: armed, open or paused, or closed with leftovers not given back yet."""
    query = select(Sale.id).where(
        or_(
            Sale.state.in_(LIVE_STATES),
            and_(Sale.state == SaleState.CLOSED, Sale.leftovers_returned.is_(None)),
        )
    )
    return sorted(db.session.scalars(query))


def check_sales() -> list[Recovery]:
    """Check every sale Redis must hold against the database; the recoveries that changed something. A
    sale whose orders service does not answer is rebuilt from its row if lost, and checked next time."""
    found = []
    for sale_id in sales_to_check():
        try:
            found.append(check_sale(sale_id))
        except (ServiceError, ServiceUnavailable):
            log.warning("sale %s: orders did not answer; checked against them next time", sale_id)
            found.append(ensure_loaded(sale_id))
    return [recovery for recovery in found if recovery.kind is not None]


def check_sale(sale_id: int, now: float | None = None) -> Recovery:
    """Compare the sale's Redis state with the database and put back what Redis lost (idempotent)."""
    now = time.time() if now is None else now
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        raise SaleNotFound()
    recovery = Recovery(sale_id)
    if sale.state == SaleState.DRAFT:
        return recovery
    ledger = committed_tickets(sale_id)  # first: a rebuild goes ahead only with the orders' record at hand
    client, keys = get_sales_redis(), sale_keys(sale_id)
    if not client.exists(keys.settings):
        _rebuild(sale, recovery, client)
    _put_back_tickets(sale_id, recovery, client, now, ledger)
    return recovery


def ensure_loaded(sale_id: int) -> Recovery:
    """Rebuild the sale from its row if Redis lost it whole, without asking the orders service (closing
    a sale must not wait for it): its tickets are put back by the next check_sale (the settle's)."""
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        raise SaleNotFound()
    recovery = Recovery(sale_id)
    client = get_sales_redis()
    if sale.state != SaleState.DRAFT and not client.exists(sale_keys(sale_id).settings):
        _rebuild(sale, recovery, client)
        counted = scripts().recount(sale_id, [TICKET_GAP, 0])
        recovery.counters = {name: int(value) for name, value in counted._asdict().items()}
        recovery.lost.append("the tickets are put back from the orders when the sale settles")
        _record(recovery)
    return recovery


def _put_back_tickets(
    sale_id: int, recovery: Recovery, client, now: float, ledger: tuple[list["Committed"], int]
) -> None:
    keys = sale_keys(sale_id)
    committed, highest = ledger
    states = client.hmget(keys.tickets, [c.ticket_id for c in committed]) if committed else []
    todo = [c for c, state in zip(committed, states, strict=True) if behind(c, state)]
    for start in range(0, len(todo), RESTORE_BATCH):
        args: list = [now]
        for c in todo[start : start + RESTORE_BATCH]:
            args += [c.ticket_id, c.shopper_id, c.units, "paid" if c.paid else "paying"]
        reply = scripts().restore(sale_id, args)
        recovery.confirmed += int(reply.confirmed)
        recovery.restored_paid += int(reply.restored_paid)
        recovery.restored_paying += int(reply.restored_paying)
    numbers_behind = highest > int(client.get(keys.ticket_sequence) or 0)
    if recovery.kind is None and (recovery.restored_paid or recovery.restored_paying or numbers_behind):
        recovery.kind = RecoveryKind.REPAIRED
    if recovery.kind is not None:
        counted = scripts().recount(sale_id, [TICKET_GAP, highest])
        recovery.counters = {name: int(value) for name, value in counted._asdict().items()}
        _record(recovery)
    _tell(sale_id, todo)


def committed_tickets(sale_id: int) -> tuple[list[Committed], int]:
    """(the tickets of the sale's paid and paying orders, by the orders service's ledger; the highest
    ticket number any of the sale's orders used)."""
    committed, highest = [], 0
    for entry in orders().sale_ledger(sale_id)["items"]:
        ticket_id = entry["key"].rsplit(":ticket:", 1)[-1]
        number = ticket_id.rsplit("-", 1)[-1]
        highest = max(highest, int(number) if number.isdigit() else 0)
        state = OrderState(entry["state"])
        if state in PAID_STATES or state in PAYING_STATES:
            paid = state in PAID_STATES
            shopper, units, order_id = entry["account_id"], entry["units"], entry["order_id"]
            committed.append(Committed(ticket_id, shopper, units, paid, order_id))
    return committed, highest


def behind(committed: Committed, state: str | None) -> bool:
    """Whether Redis's ticket state `state` is behind what the database says of the ticket."""
    # Redis is behind the database when a paid order's ticket is not PAID, or a paying one's neither
    # RESERVED nor PAID (the reconciler settles a reserved one with payments, as it always does).
    if committed.paid:
        return state != TicketState.PAID
    return state not in (TicketState.RESERVED, TicketState.PAID)


def _rebuild(sale: Sale, recovery: Recovery, client) -> None:
    """Load a sale Redis lost whole: its settings, state, draw and leftovers, from the database."""
    keys = sale_keys(sale.id)
    settings = {**sale.redis_settings(), **_draw_settings(sale, recovery)}
    args: list = [sale.units]
    for name, value in settings.items():
        args += [name, value]
    scripts().arm(sale.id, args, client)
    pipe = client.pipeline(transaction=False)  # the cross-sale sets are on other slots of a cluster
    if sale.state != SaleState.ARMED:
        opened_at = _opened_at(sale)
        pipe.hset(keys.settings, mapping={"state": sale.state.value, "opened_at": opened_at})
        pipe.set(keys.shuffled, opened_at)  # the draw placed its entries once; never again
        pipe.hset(keys.bucket, mapping={"tokens": 0, "at": time.time()})  # admissions start again from now
    pipe.hset(keys.settings, "line_lost_at", time.time())  # a shopper not found in line is told why
    if sale.leftovers_returned is not None:
        pipe.hset(keys.returns, mapping={"units": sale.leftovers_returned, "done": time.time()})
    if sale.state in LIVE_STATES:
        sale_index.add_active(sale.id, pipe)
    elif sale.leftovers_returned is None:
        sale_index.add_settling(sale.id, pipe)
    pipe.execute()
    recovery.kind = RecoveryKind.REBUILT
    recovery.lost.insert(0, LINE_LOST)


def _draw_settings(sale: Sale, recovery: Recovery) -> dict:
    # An opened sale's draw is published in the database. An armed one's secret seed lived only in Redis:
    # a new seed is committed, and its commitment replaces the published one (said in the record).
    row = db.session.get(SaleDraw, sale.id)
    if row is not None and row.seed:
        return {
            "draw_seed": row.seed,
            "draw_salt": row.salt,
            "draw_commitment": row.commitment,
            "drawn": len(row.entries or []),
        }
    fresh = draw.arm_settings()
    if row is not None:
        fresh["draw_salt"] = row.salt
        row.commitment = fresh["draw_commitment"]
        db.session.commit()
        recovery.lost.append(SEED_LOST)
    return fresh


def _opened_at(sale: Sale) -> float:
    row = db.session.get(SaleDraw, sale.id)
    opened = row.drawn_at if row is not None and row.drawn_at else sale.updated_at
    return opened.timestamp()


def _record(recovery: Recovery) -> None:
    detail = recovery.detail()
    db.session.add(SaleRecovery(sale_id=recovery.sale_id, kind=recovery.kind.value, detail=detail))
    db.session.commit()
    log.warning("sale %s: Redis was behind the database, %s: %s", recovery.sale_id, recovery.kind, detail)


def _tell(sale_id: int, restored: list[Committed]) -> None:
    # The shoppers of the tickets put back are told where they stand: paid, or waiting for payments.
    if not restored:
        return
    known = records.read_many(sale_id, [c.ticket_id for c in restored])
    told = []
    for c in restored:
        current = known.get(c.ticket_id)
        state, message = (
            (CheckoutState.PAID, PAID) if c.paid else (CheckoutState.PROCESSING, AWAITING_PROVIDER)
        )
        if current is not None and current.state == state:
            continue
        checkout = Checkout(
            c.ticket_id, state, max(current.attempt if current else 1, 1), c.units, c.order_id, message
        )
        checkout.version = current.version if current else -1
        told.append(checkout)
    records.advance(sale_id, told)


def recoveries(sale_id: int) -> list[dict]:
    """The sale's recorded recoveries, oldest first: when, which kind, and what was found and done."""
    rows = db.session.scalars(
        select(SaleRecovery).where(SaleRecovery.sale_id == sale_id).order_by(SaleRecovery.id)
    )
    return [{"at": row.at.isoformat(), "kind": row.kind, **row.detail} for row in rows]
