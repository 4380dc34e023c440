"""Order states and the one table of moves between them."""

from enum import StrEnum


class OrderState(StrEnum):
    CREATED = "created"
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderSource(StrEnum):
    SHOP = "shop"
    SALE = "sale"


# Every move an order may make; anything not listed here is refused with 409 illegal_transition.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.CREATED: frozenset({OrderState.PAYMENT_PENDING, OrderState.CANCELLED}),
    OrderState.PAYMENT_PENDING: frozenset({OrderState.PAID, OrderState.PAYMENT_FAILED}),
    OrderState.PAYMENT_FAILED: frozenset({OrderState.PAYMENT_PENDING, OrderState.CANCELLED}),
    OrderState.PAID: frozenset({OrderState.SHIPPED, OrderState.REFUNDED}),
    OrderState.SHIPPED: frozenset(),
    OrderState.CANCELLED: frozenset(),
    OrderState.REFUNDED: frozenset(),
}

FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
SOLD = frozenset({OrderState.PAID, OrderState.SHIPPED})
# The states in which a sale order's units count against its sale's allotment: being paid, or sold.
COMMITTED = frozenset({OrderState.PAYMENT_PENDING, *SOLD})


def allowed(current: OrderState, target: OrderState) -> bool:
    """Whether the table lets an order move from `current` to `target`."""
    return target in TRANSITIONS[current]


def commitment(current: OrderState | None, target: OrderState) -> int:
    """+1 if a move takes an order's units into COMMITTED, -1 if it takes them out, 0 otherwise."""
    return (target in COMMITTED) - (current in COMMITTED)
