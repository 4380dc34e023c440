"""Charges in batches: the orders service pays a flash-sale drain's hundred orders in one call.

Each charge keeps the single charge's rules: once per idempotency key (the key is unique here and
the provider dedups by it), the same key answers the same payment, a timeout leaves it PENDING for
settle(). What changes is where the amount is checked. A single charge asks the orders service for
the order, because any service may call /charges. A batch carries each order as the orders service
holds it (account, total, currency, state), read from its row locked and moved to payment_pending in
the very request that calls here: asking orders back would return what orders just sent. So each
amount is checked against the order passed with it. A caller able to forge those orders holds the
service key, which already lets it move any order to paid through orders' transition endpoint; the
batch opens nothing that key did not open.
"""

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from api.common import release_connection
from api.payments.exceptions import AmountMismatch, IdempotencyConflict, IllegalTransition, OrderNotPayable
from api.payments.models import Payment, PaymentTransition
from api.payments.providers import Card, ProviderTimeout, get_provider
from api.payments.services import OUTCOMES, PAYABLE_ORDER_STATE, _fingerprint
from api.payments.states import PaymentState, allowed
from yakku.errors import YakkuError
from yakku.extensions import db

log = logging.getLogger(__name__)
# The batch answers carry no transitions, so reads here leave them unloaded.
BRIEF = lazyload(Payment.transitions)


def charge_batch(charges: list[dict]) -> list[tuple[Payment | None, YakkuError | None]]:
    """Charge each {order, amount, currency, idempotency_key, card} once per key; per charge, in the
    order given, its payment or why it was refused. New payments are stored in one transaction and
    the provider's answers in another."""
    keys = [c["idempotency_key"] for c in charges]
    known = _by_keys(keys)
    fresh: dict[str, Payment] = {}
    for c in charges:
        key = c["idempotency_key"]
        if key not in known and key not in fresh and _refusal(c) is None:
            fresh[key] = _new_payment(c)
    if fresh:
        _store(list(fresh.values()))
        known = _by_keys(keys)
    return _charge_pending(charges, [_answer(c, known.get(c["idempotency_key"])) for c in charges])


def _by_keys(keys: list[str]) -> dict[str, Payment]:
    query = select(Payment).where(Payment.idempotency_key.in_(keys)).options(BRIEF)
    return {payment.idempotency_key: payment for payment in db.session.execute(query).scalars()}


def _answer(charge: dict, payment: Payment | None) -> tuple[Payment | None, YakkuError | None]:
    if payment is None:
        return None, _refusal(charge)
    if payment.request_fingerprint != _fingerprint(
        charge["order"]["id"], charge["amount"], charge["currency"]
    ):
        return None, IdempotencyConflict(fields={"idempotency_key": charge["idempotency_key"]})
    return payment, None


def _move(payment: Payment, target: PaymentState, reason: str) -> None:
    """services.apply_transition's move, recording the transition without loading the payment's others."""
    current = PaymentState(payment.state)
    if not allowed(current, target):
        raise IllegalTransition(fields={"state": current.value, "to": target.value})
    payment.state = target
    db.session.add(
        PaymentTransition(payment_id=payment.id, from_state=current, to_state=target, reason=reason)
    )


def _refusal(charge: dict) -> YakkuError | None:
    order = charge["order"]
    if order["total"] != charge["amount"] or order["currency"] != charge["currency"]:
        return AmountMismatch(fields={"amount": f"The order is {order['total']} {order['currency']}."})
    if order["state"] != PAYABLE_ORDER_STATE:
        return OrderNotPayable(fields={"state": order["state"]})
    return None


def _new_payment(charge: dict) -> Payment:
    request_hash = _fingerprint(charge["order"]["id"], charge["amount"], charge["currency"])
    return Payment(
        order_id=charge["order"]["id"],
        account_id=charge["order"]["account_id"],
        idempotency_key=charge["idempotency_key"],
        request_fingerprint=request_hash,
        amount=charge["amount"],
        currency=charge["currency"],
        state=PaymentState.PENDING,
        provider=get_provider().name,
        card_last4=Card(**charge["card"]).last4,
        transitions=[PaymentTransition(to_state=PaymentState.PENDING, reason="charge asked (batch)")],
    )


def _store(payments: list[Payment]) -> None:
    db.session.add_all(payments)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent call stored some of these keys first: store the others one by one; the
        # caller then reads every payment back by its key, so theirs is the answer for theirs.
        db.session.rollback()
        for payment in payments:
            db.session.add(_copy(payment))
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()


def _copy(payment: Payment) -> Payment:
    columns = ("order_id", "account_id", "idempotency_key", "request_fingerprint", "amount", "currency")
    return Payment(
        **{name: getattr(payment, name) for name in columns},
        state=PaymentState.PENDING,
        provider=payment.provider,
        card_last4=payment.card_last4,
        transitions=[PaymentTransition(to_state=PaymentState.PENDING, reason="charge asked (batch)")],
    )


def _charge_pending(charges: list[dict], answers: list) -> list[tuple[Payment | None, YakkuError | None]]:
    """Ask the provider for every payment still pending (no connection held), then record all answers."""
    pending = [
        (i, p.id) for i, (p, _e) in enumerate(answers) if p is not None and p.state == PaymentState.PENDING
    ]
    if not pending:
        return answers
    release_connection()  # no pooled connection is held while the provider thinks
    results = {}
    for index, payment_id in pending:
        c = charges[index]
        try:
            results[payment_id] = get_provider().charge(
                c["amount"], c["currency"], Card(**c["card"]), c["idempotency_key"]
            )
        except ProviderTimeout:
            log.info("provider timed out on payment %s (order %s)", payment_id, c["order"]["id"])
    recorded = _record_all(results)
    return [(recorded.get(p.id, p), e) if p is not None else (p, e) for p, e in answers]


def _record_all(results: dict) -> dict[int, Payment]:
    """Store the provider's answers, in one transaction, for the payments that still wait for one."""
    ids = sorted(results)
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "sqlite":  # a first write takes SQLite's write lock
        db.session.execute(update(Payment).where(Payment.id.in_(ids)).values(id=Payment.id))
    locked = db.session.execute(
        select(Payment)
        .where(Payment.id.in_(ids))
        .order_by(Payment.id)
        .options(BRIEF)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    payments = {payment.id: payment for payment in locked}
    for payment_id, result in results.items():
        payment = payments[payment_id]
        if payment.state == PaymentState.PENDING:
            _move(payment, OUTCOMES[result.status], f"provider: {result.status.value}")
            payment.provider_reference = result.reference
            payment.decline_code = result.decline_code
    db.session.commit()
    # Read them again in one query: the commit expired them, and each would refresh on its own.
    query = (
        select(Payment).where(Payment.id.in_(ids)).options(BRIEF).execution_options(populate_existing=True)
    )
    return {payment.id: payment for payment in db.session.execute(query).scalars()}
