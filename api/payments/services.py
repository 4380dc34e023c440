"""Payments: charge an order's amount once per key, refund once, settle what the provider left open."""

import hashlib
import json
import logging

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from api.client import orders
from api.client.errors import ServiceNotFound, ServiceUnavailable
from api.common import release_connection
from api.orders.states import OrderState
from api.payments.exceptions import (
    AmountMismatch,
    ChargesPaused,
    IdempotencyConflict,
    IllegalTransition,
    OrderNotFound,
    OrderNotPayable,
    OrdersUnavailable,
    PaymentMethodExpired,
    PaymentNotFound,
    PaymentTimeout,
    RefundRefused,
)
from api.payments.models import Payment, PaymentTransition
from api.payments.providers import (
    Card,
    PaymentMethod,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    ProviderTimeout,
    ProviderUnavailable,
    get_provider,
)
from api.payments.states import PaymentState, allowed
from yakku.extensions import db

log = logging.getLogger(__name__)

PAYABLE_ORDER_STATE = OrderState.PAYMENT_PENDING
OUTCOMES = {ProviderStatus.CAPTURED: PaymentState.CAPTURED, ProviderStatus.DECLINED: PaymentState.DECLINED}


def tokenise(card: Card, account_id: int) -> PaymentMethod:
    """Hand the card to the provider, which keeps what a charge needs behind a token for
    PAYMENT_METHOD_TTL seconds; the number and CVC go no further than this call."""
    return get_provider().tokenise(card, account_id, ttl=current_app.config["PAYMENT_METHOD_TTL"])


def usable_methods(tokens: list[str], account_ids: list[int]) -> list[PaymentMethod | None]:
    """Each token's method if it is still known and was made for that account (else None), in one
    call to the provider."""
    methods = get_provider().payment_methods(tokens)
    return [m if m and m.account_id == a else None for m, a in zip(methods, account_ids, strict=True)]


def _method(pay_with: str | Card, account_id: int) -> PaymentMethod:
    """The method a charge pays with: a card tokenised now, or a token still valid for the account."""
    if isinstance(pay_with, Card):
        return tokenise(pay_with, account_id)
    [method] = usable_methods([pay_with], [account_id])
    if method is None:
        raise PaymentMethodExpired()
    return method


def charge(
    order_id: int, amount: int, currency: str, idempotency_key: str, pay_with: str | Card
) -> tuple[Payment, bool]:
    """Charge an order's amount through the provider, once per key, with a payment-method token (or a
    card, tokenised first); True when the payment is new.

    The same key answers the same payment and never captures twice: the key is unique here, and
    the provider dedups by it too, so even two concurrent first calls make one capture. A token that
    expired, or was made for another shopper, is refused (PaymentMethodExpired) before any payment,
    and so is every new charge while the provider's breaker is open (ChargesPaused).
    """
    request_hash = _fingerprint(order_id, amount, currency)
    payment = find_by_key(idempotency_key)
    created = False
    method = None
    if payment is None:
        account_id = _check_order(order_id, amount, currency)
        method = _method(pay_with, account_id)
        if get_provider().refusing:
            raise ChargesPaused()
        payment, created = _insert(
            order_id, account_id, amount, currency, idempotency_key, request_hash, method.last4
        )
    if payment.request_fingerprint != request_hash:
        raise IdempotencyConflict(fields={"idempotency_key": idempotency_key})
    if payment.state != PaymentState.PENDING:
        return payment, created
    method = method or _method(pay_with, payment.account_id)
    payment_id = payment.id
    release_connection()  # no pooled connection is held while the provider thinks
    try:
        result = get_provider().charge(amount, currency, method.token, idempotency_key)
    except ProviderTimeout:
        # Stays PENDING: the provider may have charged. settle() asks it later, by the same key.
        log.info("provider timed out on payment %s (order %s)", payment_id, order_id)
        raise PaymentTimeout(fields={"payment_id": payment_id}) from None
    except ProviderUnavailable:
        # The breaker opened since: not sent. It stays PENDING; settling finds no charge (FAILED).
        raise ChargesPaused(fields={"payment_id": payment_id}) from None
    return _record(payment_id, result), created


def _fingerprint(order_id: int, amount: int, currency: str) -> str:
    body = json.dumps({"order_id": order_id, "amount": amount, "currency": currency}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _check_order(order_id: int, amount: int, currency: str) -> int:
    """The order's account, once its amount, currency and state allow this charge."""
    release_connection()
    try:
        order = orders().internal_order(order_id=order_id)
    except ServiceNotFound:
        raise OrderNotFound(fields={"order_id": order_id}) from None
    except ServiceUnavailable:
        raise OrdersUnavailable() from None
    if order["total"] != amount or order["currency"] != currency:
        raise AmountMismatch(fields={"amount": f"The order is {order['total']} {order['currency']}."})
    if order["state"] != PAYABLE_ORDER_STATE:
        raise OrderNotPayable(fields={"state": order["state"]})
    return order["account_id"]


def _insert(order_id, account_id, amount, currency, key, request_hash, last4: str) -> tuple[Payment, bool]:
    payment = Payment(
        order_id=order_id,
        account_id=account_id,
        idempotency_key=key,
        request_fingerprint=request_hash,
        amount=amount,
        currency=currency,
        state=PaymentState.PENDING,
        provider=get_provider().name,
        card_last4=last4,
        transitions=[PaymentTransition(to_state=PaymentState.PENDING, reason="charge asked")],
    )
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a concurrent call with this key stored it first: that one is the answer
        winner = find_by_key(key)
        if winner is None:
            raise
        return winner, False
    return payment, True


def _record(payment_id: int, result: ProviderResult) -> Payment:
    """Store the provider's answer if the payment still waits for one (a concurrent call may have)."""
    payment = lock_payment(payment_id)
    if payment.state == PaymentState.PENDING:
        apply_transition(payment, OUTCOMES[result.status], f"provider: {result.status.value}")
        payment.provider_reference = result.reference
        payment.decline_code = result.decline_code
    db.session.commit()
    return payment


def refund(payment_id: int) -> Payment:
    """Refund a captured payment through the provider, once; a refunded one is answered as it is."""
    payment = get_payment(payment_id)
    if payment.state == PaymentState.REFUNDED:
        return payment
    if payment.state != PaymentState.CAPTURED:
        raise IllegalTransition(fields={"state": payment.state.value, "to": PaymentState.REFUNDED.value})
    reference, amount = payment.provider_reference, payment.amount
    release_connection()
    try:
        get_provider().refund(reference, amount)  # idempotent at the provider
    except ProviderError as error:
        raise RefundRefused(fields={"provider": str(error)}) from None
    payment = lock_payment(payment_id)
    if payment.state == PaymentState.CAPTURED:
        apply_transition(payment, PaymentState.REFUNDED, "refunded")
    db.session.commit()
    return payment


def settle(payment_id: int) -> Payment:
    """Ask the provider what became of a pending payment: captured, declined, or never made (FAILED)."""
    payment = get_payment(payment_id)
    if payment.state != PaymentState.PENDING:
        return payment
    key = payment.idempotency_key
    release_connection()
    result = get_provider().retrieve(key)
    if result is not None:
        return _record(payment_id, result)
    payment = lock_payment(payment_id)
    if payment.state == PaymentState.PENDING:
        apply_transition(payment, PaymentState.FAILED, "the provider has no record of the charge")
    db.session.commit()
    return payment


def find_by_key(key: str) -> Payment | None:
    """The payment stored under an idempotency key."""
    return db.session.execute(select(Payment).where(Payment.idempotency_key == key)).scalar_one_or_none()


def get_payment(payment_id: int) -> Payment:
    """One payment; PaymentNotFound if there is none."""
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise PaymentNotFound()
    return payment


def payments_of(order_id: int) -> list[Payment]:
    """Every payment of an order, newest first."""
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id.desc())
    return list(db.session.execute(query).scalars())


def lock_payment(payment_id: int) -> Payment:
    """The payment with its row locked until the session commits (SELECT ... FOR UPDATE)."""
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE: a first write takes the write lock, so the read below is current.
        db.session.execute(text("UPDATE payments SET id = id WHERE id = :id"), {"id": payment_id})
    payment = db.session.execute(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if payment is None:
        db.session.rollback()
        raise PaymentNotFound()
    return payment


def apply_transition(payment: Payment, target: PaymentState, reason: str) -> None:
    """Move a locked payment to `target` if the table allows it, and record the move (not committed)."""
    current = PaymentState(payment.state)
    if not allowed(current, target):
        db.session.rollback()
        raise IllegalTransition(fields={"state": current.value, "to": target.value})
    payment.state = target
    payment.transitions.append(PaymentTransition(from_state=current, to_state=target, reason=reason[:200]))
