"""Payment states and the one table of moves between them."""

from enum import StrEnum

# The error code of a declined charge, as payments answers it and orders passes it on.
PAYMENT_DECLINED = "payment_declined"
# The error code of a charge whose payment-method token expired (or was never made for this shopper):
# nothing was charged, and the shopper enters the card again.
PAYMENT_METHOD_EXPIRED = "payment_method_expired"
# The error code of a charge not sent because the provider's breaker is open (it answered too slowly):
# nothing was charged, and the same attempt may be made again once charges resume.
CHARGES_PAUSED = "charges_paused"


class DeclineCode(StrEnum):
    """Why the provider declined a card (docs/payments.md's test cards)."""

    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    # The token expired between the payments service's check and the provider's charge.
    PAYMENT_METHOD_EXPIRED = PAYMENT_METHOD_EXPIRED


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
