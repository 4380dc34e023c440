"""The payments endpoints; all internal: the orders service, the sale drain, and the storefront and the sale's
checkout (which tokenise a shopper's card the moment it is submitted) call them."""

from dataclasses import asdict

from flask import current_app

from api.auth import service_required
from api.common import error_responses, ping_database
from api.payments import batch, services
from api.payments.blueprint import bp
from api.payments.exceptions import ChargesPaused, PaymentDeclined
from api.payments.providers import Card, get_provider
from api.payments.schemas import (
    ChargeBatchIn,
    ChargeBatchOut,
    ChargeIn,
    PaymentList,
    PaymentMethodIn,
    PaymentMethodOut,
    PaymentOut,
    ReadyOut,
)
from api.payments.states import PaymentState

SERVICE_ONLY = {"security": "ServiceToken"}


@bp.post("/methods")
@service_required
@bp.input(PaymentMethodIn)
@bp.output(PaymentMethodOut, status_code=201, description="The token that pays in the card's place")
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 422))
def tokenise(json_data: dict):
    """Turn a card into a short-lived payment-method token (PAYMENT_METHOD_TTL); the card is not kept."""
    method = services.tokenise(Card(**json_data["card"]), json_data["account_id"])
    return {**asdict(method), "expires_in": current_app.config["PAYMENT_METHOD_TTL"]}


@bp.post("/charges")
@service_required
@bp.input(ChargeIn)
@bp.output(PaymentOut, status_code=201, description="Captured (200 when the key replays a payment)")
@bp.doc(
    **SERVICE_ONLY,
    responses=error_responses(401, 402, 404, 409, 422, 504),
)
def charge(json_data: dict):
    """Charge an order's amount with a payment-method token (or a card, tokenised first), once per
    idempotency key; an expired token answers 422 payment_method_expired."""
    pay_with = Card(**json_data["card"]) if "card" in json_data else json_data["payment_method"]
    payment, created = services.charge(
        json_data["order_id"],
        json_data["amount"],
        json_data["currency"],
        json_data["idempotency_key"],
        pay_with,
    )
    if payment.state == PaymentState.DECLINED:
        raise PaymentDeclined(
            f"The card was declined ({payment.decline_code}).",
            fields={"decline_code": payment.decline_code, "payment_id": payment.id},
        )
    return payment, 201 if created else 200


@bp.post("/charges/batch")
@service_required
@bp.input(ChargeBatchIn)
@bp.output(ChargeBatchOut, description="Per charge: its payment (a declined one too), or why it was refused")
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 422))
def charge_batch(json_data: dict):
    """Charge many orders, each once per its idempotency key; the orders service's batch call."""
    return {"items": batch.answered(json_data["charges"])}


@bp.get("/<int:payment_id>")
@service_required
@bp.output(PaymentOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404))
def get_payment(payment_id: int):
    """One payment."""
    return services.get_payment(payment_id)


@bp.post("/<int:payment_id>/refund")
@service_required
@bp.output(PaymentOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404, 409))
def refund(payment_id: int):
    """Refund a captured payment, once; a refunded payment is answered as it is."""
    return services.refund(payment_id)


@bp.post("/<int:payment_id>/settle")
@service_required
@bp.output(PaymentOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404))
def settle(payment_id: int):
    """Ask the provider what became of a pending payment, and record it."""
    return services.settle(payment_id)


@bp.get("/internal/by-order/<int:order_id>")
@service_required
@bp.output(PaymentList)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401))
def payments_of_order(order_id: int):
    """Every payment of an order, newest first."""
    return {"items": services.payments_of(order_id)}


@bp.get("/internal/ready")
@service_required
@bp.output(ReadyOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 503))
def ready():
    """Whether a charge can go through now: the database answers (503 if not) and the provider's breaker
    is closed (503 charges_paused while it is open). The drain asks before it takes checkouts again."""
    ping_database()
    if get_provider().refusing:
        raise ChargesPaused()
    return {"database": "ok", "provider": get_provider().breaker.current_state}
