"""A sale's audit: Redis and the services' records must agree, and every invariant of the design hold.

Units sold = orders paid = payments captured; units left = stock - sold; no unit oversold; at most one
order per ticket and the per-shopper limit per shopper; a paid order has exactly one captured payment
and a cancelled one none; once the sale is closed, every ticket has ended in one final state. And the
promises to shoppers: nobody was told "sold out" while a unit was unsold, and nobody was admitted while
an earlier joiner still waited, and every shopper whose ticket has ended is told that end (final, and
"paid" exactly when the ticket is paid): a shopper left on "processing" is a broken promise.
"""

from dataclasses import asdict, dataclass, field

from admission import recovery, stock
from admission.checkout import records
from admission.checkout.records import FINAL_CHECKOUT_STATES, CheckoutState
from admission.keys import sale_keys
from admission.states import FINAL_TICKET_STATES, SaleState, TicketState
from api.client import orders, payments
from api.orders.states import COMMITTED, OrderState
from yakku.extensions import get_sales_redis


@dataclass
class Check:
    """One invariant and whether it held."""

    name: str
    ok: bool
    detail: str


@dataclass
class Audit:
    sale_id: int
    figures: dict
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, bool(ok), detail))

    def to_dict(self) -> dict:
        return {
            "sale_id": self.sale_id,
            "ok": self.ok,
            "figures": self.figures,
            "checks": [asdict(check) for check in self.checks],
        }


def audit_sale(sale_id: int) -> Audit:
    """Gather the sale's figures from Redis, orders and payments, and check every invariant."""
    keys = sale_keys(sale_id)
    redis = get_sales_redis()
    settings = redis.hgetall(keys.settings)
    units, limit = int(settings.get("units", 0)), int(settings.get("limit", 0))
    left, held, sold = (int(redis.get(key) or 0) for key in (keys.stock, keys.held, keys.sold))
    returned = int(redis.hget(keys.returns, "units") or 0)  # taken off the counter for the catalog
    tickets = stock.tickets_by_state(sale_id)
    summary = orders().sale_summary(sale_id)
    paid_ids, cancelled_ids = summary["paid_order_ids"], summary["cancelled_order_ids"]
    captured = payments().captures(json={"order_ids": paid_ids + cancelled_ids})["captured_by_order"]
    captured = {int(order_id): count for order_id, count in captured.items()}
    paid_units = summary["units_by_state"].get(OrderState.PAID, 0)
    turned_away = int(redis.hget(keys.outcomes, "turned_away") or 0)
    out_of_order = admitted_out_of_order(sale_id)
    figures = {
        "units": units,
        "unsold": units - sold,
        "turned_away": turned_away,
        # Told "sold out" is true only once every unit is paid: any unsold unit makes each of them a lie.
        "turned_away_while_unsold": turned_away if sold < units else 0,
        "admitted_out_of_order": out_of_order,
        "sold": sold,
        "held": held,
        "left": left,
        "returned": returned,
        "orders_paid": summary["orders_by_state"].get(OrderState.PAID, 0),
        "units_paid": paid_units,
        "payments_captured": sum(captured.get(order_id, 0) for order_id in paid_ids),
        "orders_by_state": summary["orders_by_state"],
        "tickets": tickets,
    }
    audit = Audit(sale_id, figures)
    audit.check(
        "never oversold",
        sold + held <= units and paid_units <= units,
        f"sold {sold} + held {held}, paid {paid_units}, of {units}",
    )
    audit.check(
        "units add up",
        left + held + sold + returned == units,
        f"left {left} + held {held} + sold {sold} + returned {returned} = {units}",
    )
    audit.check("units sold = units in paid orders", sold == paid_units, f"{sold} sold, {paid_units} paid")
    audit.check(
        "paid tickets = paid orders",
        tickets.get(TicketState.PAID, 0) == figures["orders_paid"],
        f"{tickets.get(TicketState.PAID, 0)} tickets, {figures['orders_paid']} orders",
    )
    audit.check(
        "one order per ticket",
        summary["orders"] == summary["distinct_keys"],
        f"{summary['orders']} orders, {summary['distinct_keys']} keys",
    )
    audit.check(
        "per-shopper limit",
        summary["most_units_one_shopper"] <= limit,
        f"most bought by one shopper: {summary['most_units_one_shopper']} (limit {limit})",
    )
    wrong_paid = [o for o in paid_ids if captured.get(o, 0) != 1]
    audit.check(
        "each paid order has exactly one capture", not wrong_paid, f"orders without: {wrong_paid[:10]}"
    )
    wrong_cancelled = [o for o in cancelled_ids if captured.get(o, 0) != 0]
    audit.check(
        "cancelled orders have no capture", not wrong_cancelled, f"orders with: {wrong_cancelled[:10]}"
    )
    audit.check(
        "nobody told sold out while a unit was unsold",
        figures["turned_away_while_unsold"] == 0,
        f"{turned_away} told sold out, {sold} of {units} sold",
    )
    audit.check(
        "admitted in join order",
        out_of_order == 0,
        f"{out_of_order} admitted while an earlier joiner still waited",
    )
    counted = summary.get("allotment_committed")
    if counted is not None:
        committed = sum(summary["units_by_state"].get(state, 0) for state in COMMITTED)
        audit.check(
            "the allotment counts the units being paid or sold",
            counted == committed,
            f"allotment's count {counted}, orders' {committed}",
        )
    behind = behind_the_database(sale_id)
    figures["recoveries"] = recovery.recoveries(sale_id)
    audit.check(
        "Redis holds every paid and paying order's ticket",
        not behind,
        f"behind the database: {behind}; repairs recorded: "
        + ("; ".join(f"{r['at']} {r['kind']}" for r in figures["recoveries"]) or "none"),
    )
    untold = untold_endings(sale_id)
    audit.check(
        "every ended ticket's shopper is told its end",
        not untold,
        f"told otherwise (ticket state/checkout state: count): {untold}",
    )
    if settings.get("state") == SaleState.CLOSED:
        unfinished = {state: n for state, n in tickets.items() if state not in FINAL_TICKET_STATES and n}
        audit.check("every ticket ended in a final state", not unfinished, f"unfinished: {unfinished}")
    return audit


def behind_the_database(sale_id: int) -> dict[str, int]:
    """The paid and paying orders whose ticket Redis does not hold so (lost, or rolled back): counted by
    "order state/ticket state". recovery.check_sale puts them back."""
    committed, _highest = recovery.committed_tickets(sale_id)
    if not committed:
        return {}
    states = get_sales_redis().hmget(sale_keys(sale_id).tickets, [c.ticket_id for c in committed])
    behind: dict[str, int] = {}
    for c, state in zip(committed, states, strict=True):
        if recovery.behind(c, state):
            name = f"{'paid' if c.paid else 'paying'}/{state or 'missing'}"
            behind[name] = behind.get(name, 0) + 1
    return behind


def untold_endings(sale_id: int) -> dict[str, int]:
    """The checkouts whose ticket has ended but whose shopper is told something else: not a final
    state, or paid when the ticket is not (or the other way round); counted by "ticket/checkout"."""
    told = records.in_states(sale_id, frozenset(CheckoutState))
    if not told:
        return {}
    tickets = get_sales_redis().hmget(sale_keys(sale_id).tickets, [record.ticket_id for record in told])
    untold: dict[str, int] = {}
    for record, ticket in zip(told, tickets, strict=True):
        paid_both_or_neither = (ticket == TicketState.PAID) == (record.state == CheckoutState.PAID)
        if ticket in FINAL_TICKET_STATES and (
            record.state not in FINAL_CHECKOUT_STATES or not paid_both_or_neither
        ):
            untold[f"{ticket}/{record.state}"] = untold.get(f"{ticket}/{record.state}", 0) + 1
    return untold


def admitted_out_of_order(sale_id: int) -> int:
    """Admissions that passed over an earlier joiner: each admitted shopper's place in line (their join
    sequence, logged by admit.lua) must follow the one admitted before, and everyone still in line must
    have joined after the last one admitted."""
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.lrange(keys.admission_log, 0, -1).zrange(keys.queue, 0, 0, withscores=True)
    log, first_waiting = pipe.execute()
    places = [float(place) for place in log]
    passed = sum(1 for before, after in zip(places, places[1:], strict=False) if after <= before)
    if places and first_waiting and first_waiting[0][1] < max(places):
        passed += len(get_sales_redis().zrangebyscore(keys.queue, "-inf", max(places)))
    return passed
