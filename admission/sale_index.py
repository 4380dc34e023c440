"""The cross-sale indexes on the sales Redis: the sales the admitter looks after (ACTIVE_SALES: armed,
open or paused) and the closed ones whose leftovers have not gone back to the catalog yet
(SETTLING_SALES), which the reconciler still looks after.

Each is one key with no sale's hash tag, so on a Redis Cluster each has a slot of its own, apart from
every sale's: they are never written in one MULTI, with each other or with a sale's keys. Instead:
- a sale moves between them in an order that never leaves it in neither (added to the next set before
  it is taken from the last), and the reconciler's round reads them in the matching order;
- a write cut short (a process killed between two) is put right by `repair`, at every sweep, from
  each sale's state in Redis (which the lifecycle writes first) or its row in the database.
A sale found in a set it has left is harmless meanwhile: the admitter and the look-ups read the sale's
own state and skip it.
"""

from sqlalchemy import and_, or_, select

from admission.keys import ACTIVE_SALES, SETTLING_SALES, sale_keys
from admission.models import Sale
from admission.states import LIVE_STATES, SaleState
from yakku.extensions import db, get_sales_redis


def add_active(sale_id: int, client=None) -> None:
    """Hand the sale to the admitter (`client`: a pipeline to add it to, else the sales Redis)."""
    (client or get_sales_redis()).sadd(ACTIVE_SALES, sale_id)


def add_settling(sale_id: int, client=None) -> None:
    """Leave a closed sale to the reconciler until its leftovers are back in the catalog."""
    (client or get_sales_redis()).sadd(SETTLING_SALES, sale_id)


def move_to_settling(sale_id: int) -> None:
    """A sale that closed: from the admitter's set to the reconciler's, added there first."""
    add_settling(sale_id)
    get_sales_redis().srem(ACTIVE_SALES, sale_id)


def settled(sale_id: int) -> None:
    """A closed sale whose leftovers went back: the reconciler is done with it."""
    get_sales_redis().srem(SETTLING_SALES, sale_id)


def active_sales() -> list[int]:
    """The sales the admitter looks after, by id."""
    return sorted(int(sale_id) for sale_id in get_sales_redis().smembers(ACTIVE_SALES))


def settling_sales() -> list[int]:
    """The closed sales still settling, by id."""
    return sorted(int(sale_id) for sale_id in get_sales_redis().smembers(SETTLING_SALES))


def sales_to_reconcile() -> list[int]:
    """Live sales, and closed ones still settling: the reconciler's round.

    Two reads, not one SUNION (the sets are on two slots of a cluster), and in this order: a sale closing
    meanwhile is added to the settling set before it leaves the active one, so it is in one of the reads.
    """
    active = active_sales()
    return sorted(set(active) | set(settling_sales()))


def repair() -> dict[str, int]:
    """Put every sale in the set its state calls for and take it from the other (idempotent); what moved.

    The state is the one Redis holds (the admitter and close write it there first), else the row's; a
    sale whose row is still a draft (an arm under way) is left as it is.
    """
    active, settling = set(active_sales()), set(settling_sales())
    rows = {sale.id: sale for sale in _rows_to_index(active | settling)}
    pipe = get_sales_redis().pipeline(transaction=False)  # one trip; cross-slot reads, each its own
    for sale_id in rows:
        pipe.hget(sale_keys(sale_id).settings, "state")
    moved = {"active": 0, "settling": 0, "removed": 0}
    for (sale_id, sale), live in zip(rows.items(), pipe.execute(), strict=True):
        state = SaleState(live or sale.state)
        if state in LIVE_STATES:
            wanted = {ACTIVE_SALES}
        elif state == SaleState.CLOSED and sale.leftovers_returned is None:
            wanted = {SETTLING_SALES}
        else:
            wanted = set()
        held = {
            name
            for name, members in ((ACTIVE_SALES, active), (SETTLING_SALES, settling))
            if sale_id in members
        }
        _put_right(sale_id, wanted, held, moved)
    return moved


def _rows_to_index(members: set[int]) -> list[Sale]:
    # The sales that belong in a set, and those the sets hold (which may belong in none any more).
    query = select(Sale).where(
        Sale.state != SaleState.DRAFT,
        or_(
            Sale.id.in_(members),
            Sale.state.in_(LIVE_STATES),
            and_(Sale.state == SaleState.CLOSED, Sale.leftovers_returned.is_(None)),
        ),
    )
    return list(db.session.scalars(query))


def _put_right(sale_id: int, wanted: set[str], held: set[str], moved: dict[str, int]) -> None:
    client = get_sales_redis()
    for name in wanted - held:  # added first: never in neither set, as move_to_settling
        client.sadd(name, sale_id)
        moved["active" if name == ACTIVE_SALES else "settling"] += 1
    for name in held - wanted:
        client.srem(name, sale_id)
        moved["removed"] += 1
