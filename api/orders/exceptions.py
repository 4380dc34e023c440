"""What the orders service refuses, and why."""

from api.payments.states import CHARGES_PAUSED, PAYMENT_DECLINED, PAYMENT_METHOD_EXPIRED
from yakku.errors import Conflict, NotFound, YakkuError


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "No order of yours has this number."


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message = "The order cannot make that move from its current state."


class TooManyOpenOrders(Conflict):
    code = "too_many_open_orders"
    message = "You have unpaid orders already. Pay or cancel one of them before placing another."


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message = "This idempotency key was already used for a different request."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    message = "Not enough units are left of some products."


class ProductUnavailable(YakkuError):
    status = 422
    code = "product_unavailable"
    message = "Some products do not exist or are no longer sold."


class MixedCurrencies(YakkuError):
    status = 422
    code = "mixed_currencies"
    message = "One order can only hold products priced in the same currency."


class PaymentInProgress(Conflict):
    code = "payment_in_progress"
    message = "Another payment of this order is still being processed."


class PaymentDeclined(YakkuError):
    status = 402
    code = PAYMENT_DECLINED
    message = "The card was declined; pay with another card."


class PaymentMethodExpired(YakkuError):
    status = 422
    code = PAYMENT_METHOD_EXPIRED
    message = "The card details have expired; enter the card again."


class ChargesPaused(YakkuError):
    status = 503
    code = CHARGES_PAUSED
    message = "Payments paused charges (the provider is too slow); nothing was charged: pay again shortly."


class CardRejected(YakkuError):
    status = 422
    code = "validation_error"
    message = "Some fields are not valid."


class ServiceDown(YakkuError):
    status = 503
    code = "service_unavailable"
    message = "A service this order needs is unavailable right now; try again shortly."


class InvalidInput(YakkuError):
    status = 422
    code = "validation_error"
    message = "Some fields are not valid."


class SaleOrderManaged(Conflict):
    code = "sale_order_managed"
    message = "A flash-sale order is paid and cancelled through the sale's checkout, not here."


class OrderTooLarge(YakkuError):
    status = 422
    code = "order_too_large"
    message = "That order is larger than one payment can be; split it into smaller orders."


class PaymentRefused(Conflict):
    code = "payment_refused"
    message = "Payments refused this charge."


class NoDeliveryYet(NotFound):
    code = "no_delivery_yet"
    message = "You have not given delivery details yet."


class SaleUnitsTaken(Conflict):
    code = "sale_units_taken"
    message = "Every unit of this sale is paid for or being paid; nothing was charged."
