"""Payment states and the one table of moves between them."""

from enum import StrEnum

# The error code of a declined charge, as payments answers it and orders passes it on.
PAYMENT_DECLINED = "payment_declined"


class DeclineCode(StrEnum):
    """Why the provider declined a card (docs/payments.md's test cards)."""

    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"


class PaymentState(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    DECLINED = "declined"
    REFUNDED = "refunded"
    FAILED = "failed"


# PENDING stays PENDING while the provider has not answered (a timeout); settle() moves it later.
TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    PaymentState.PENDING: frozenset({PaymentState.CAPTURED, PaymentState.DECLINED, PaymentState.FAILED}),
    PaymentState.CAPTURED: frozenset({PaymentState.REFUNDED}),
    PaymentState.DECLINED: frozenset(),
    PaymentState.REFUNDED: frozenset(),
    PaymentState.FAILED: frozenset(),
}


def allowed(current: PaymentState, target: PaymentState) -> bool:
    """Whether the table lets a payment move from `current` to `target`."""
    return target in TRANSITIONS[current]
