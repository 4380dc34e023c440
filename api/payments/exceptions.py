"""What the payments service refuses, and why."""

from api.payments.states import CHARGES_PAUSED, PAYMENT_DECLINED, PAYMENT_METHOD_EXPIRED
from yakku.errors import Conflict, NotFound, YakkuError


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = "No payment has this number."


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "The order to charge does not exist."


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message = "The payment cannot make that move from its current state."


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message = "This idempotency key was already used for a different charge."


class AmountMismatch(YakkuError):
    status = 422
    code = "amount_mismatch"
    message = "The amount or currency does not match the order."


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    message = "The order is not waiting for a payment."


class PaymentDeclined(YakkuError):
    status = 402
    code = PAYMENT_DECLINED
    message = "The card was declined."


class PaymentMethodExpired(YakkuError):
    status = 422
    code = PAYMENT_METHOD_EXPIRED
    message = "The card details have expired (or were entered by another shopper); enter the card again."

    def __init__(self, message: str | None = None, *, fields: dict | None = None):
        super().__init__(message, fields=fields or {"payment_method": [self.message]})


class PaymentTimeout(YakkuError):
    status = 504
    code = "payment_timeout"
    message = "The payment provider did not answer in time; the payment stays pending until settled."


class OrdersUnavailable(YakkuError):
    status = 503
    code = "service_unavailable"
    message = "The orders service is unavailable, so the amount cannot be checked; try again shortly."


class RefundRefused(Conflict):
    code = "refund_refused"
    message = "The payment provider refused the refund."


class ChargesPaused(YakkuError):
    status = 503
    code = CHARGES_PAUSED
    message = "The payment provider answers too slowly: charges are paused for a moment; nothing was charged."
