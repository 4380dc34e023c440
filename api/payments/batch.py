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

The rows are read and written as plain values with Core statements (one INSERT or UPDATE per table
for the whole batch: api.common.insert_rows, update_by_id), not as ORM objects, whose per-object
bookkeeping was most of a batch's cost.
"""

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from api.common import insert_rows, release_connection, rows_of, update_by_id
from api.payments.exceptions import (
    AmountMismatch,
    ChargesPaused,
    IdempotencyConflict,
    IllegalTransition,
    OrderNotPayable,
    PaymentMethodExpired,
)
from api.payments.models import Payment, PaymentTransition
from api.payments.providers import (
    ChargeRequest,
    PaymentMethod,
    ProviderTimeout,
    ProviderUnavailable,
    get_provider,
)
from api.payments.schemas import PaymentBrief
from api.payments.services import OUTCOMES, PAYABLE_ORDER_STATE, _fingerprint, usable_methods
from api.payments.states import PaymentState, allowed
from yakku.errors import YakkuError
from yakku.extensions import db

log = logging.getLogger(__name__)
# A payment as a batch reads it, decides by it and answers it (no transitions): a dict of these columns.
COLUMNS = (
    Payment.id,
    Payment.order_id,
    Payment.idempotency_key,
    Payment.request_fingerprint,
    Payment.amount,
    Payment.currency,
    Payment.state,
    Payment.provider_reference,
    Payment.decline_code,
)
Answer = tuple[dict | None, YakkuError | None]
# What a batch's answer tells of each payment: the endpoint's PaymentBrief, in-process too.
BRIEF = tuple(PaymentBrief().fields)


def answered(charges: list[dict]) -> list[dict]:
    """charge_batch, answered as the batch endpoint answers it: per charge, in the order given, its
    key, its payment (brief) or None, and its error or None. The orders service reads this shape, over
    HTTP or, in a process that serves both services, from this function itself."""
    return [
        {
            "idempotency_key": charge["idempotency_key"],
            "payment": payment and {name: payment[name] for name in BRIEF},
            "error": error and {"code": error.code, "message": error.message, "fields": error.fields},
        }
        for charge, (payment, error) in zip(charges, charge_batch(charges), strict=True)
    ]


def charge_batch(charges: list[dict]) -> list[Answer]:
    """Charge each {order, amount, currency, idempotency_key, payment_method} once per key; per charge,
    in the order given, its payment or why it was refused. New payments are stored in one transaction
    and the provider's answers in another. While the provider's breaker is open, a new charge is
    refused (ChargesPaused) before anything is stored or sent, and a pending one is answered as it is."""
    keys = [c["idempotency_key"] for c in charges]
    known = _by_keys(keys)
    methods = _methods([c for c in charges if c["idempotency_key"] not in known])
    paused = get_provider().refusing
    fresh: dict[str, dict] = {}
    for c in charges:
        key = c["idempotency_key"]
        if key not in known and key not in fresh and _refusal(c, methods.get(key), paused) is None:
            fresh[key] = _new_payment(c, methods[key])
    if fresh:
        _store(list(fresh.values()))
        known = _by_keys(keys)
    answers = [_answer(c, known.get(c["idempotency_key"]), methods, paused) for c in charges]
    return _charge_pending(charges, answers)


def _methods(charges: list[dict]) -> dict[str, PaymentMethod | None]:
    """The payment method of each new charge, by its key: None if its token expired or is another
    shopper's (one call to the provider for the batch)."""
    if not charges:
        return {}
    tokens = [c["payment_method"] for c in charges]
    found = usable_methods(tokens, [c["order"]["account_id"] for c in charges])
    return {c["idempotency_key"]: method for c, method in zip(charges, found, strict=True)}


def _by_keys(keys: list[str]) -> dict[str, dict]:
    query = select(*COLUMNS).where(Payment.idempotency_key.in_(keys))
    return {payment["idempotency_key"]: payment for payment in rows_of(query)}


def _answer(
    charge: dict, payment: dict | None, methods: dict[str, PaymentMethod | None], paused: bool
) -> Answer:
    if payment is None:
        return None, _refusal(charge, methods.get(charge["idempotency_key"]), paused)
    if payment["request_fingerprint"] != _fingerprint(
        charge["order"]["id"], charge["amount"], charge["currency"]
    ):
        return None, IdempotencyConflict(fields={"idempotency_key": charge["idempotency_key"]})
    return payment, None


def _move(payment: dict, target: PaymentState, reason: str, transitions: list[dict]) -> None:
    """services.apply_transition's move on a locked payment's values; the transition joins `transitions`."""
    current = PaymentState(payment["state"])
    if not allowed(current, target):
        raise IllegalTransition(fields={"state": current.value, "to": target.value})
    payment["state"] = target
    transitions.append(
        {"payment_id": payment["id"], "from_state": current, "to_state": target, "reason": reason[:200]}
    )


def _refusal(charge: dict, method: PaymentMethod | None, paused: bool) -> YakkuError | None:
    order = charge["order"]
    if order["total"] != charge["amount"] or order["currency"] != charge["currency"]:
        return AmountMismatch(fields={"amount": f"The order is {order['total']} {order['currency']}."})
    if order["state"] != PAYABLE_ORDER_STATE:
        return OrderNotPayable(fields={"state": order["state"]})
    if method is None:
        return PaymentMethodExpired()
    if paused:
        return ChargesPaused()
    return None


def _new_payment(charge: dict, method: PaymentMethod) -> dict:
    """A new payment's column values."""
    return {
        "order_id": charge["order"]["id"],
        "account_id": charge["order"]["account_id"],
        "idempotency_key": charge["idempotency_key"],
        "request_fingerprint": _fingerprint(charge["order"]["id"], charge["amount"], charge["currency"]),
        "amount": charge["amount"],
        "currency": charge["currency"],
        "state": PaymentState.PENDING,
        "provider": get_provider().name,
        "card_last4": method.last4,
    }


def _store(payments: list[dict]) -> None:
    try:
        _insert(payments)
        db.session.commit()
    except (IntegrityError, OperationalError):
        # A concurrent call stored some of these keys first (the key is unique, so the INSERT fails
        # whole; on MariaDB two batches inserting shared keys in other orders may deadlock instead):
        # store the others one by one; the caller then reads every payment back by its key, so
        # theirs is the answer for theirs.
        db.session.rollback()
        for payment in payments:
            try:
                _insert([payment])
                db.session.commit()
            except IntegrityError:
                db.session.rollback()


def _insert(payments: list[dict]) -> None:
    """The new payments and their first transitions: one INSERT per table (not committed)."""
    ids = insert_rows(Payment, payments, key="idempotency_key")
    insert_rows(
        PaymentTransition,
        [
            {
                "payment_id": ids[p["idempotency_key"]],
                "from_state": None,
                "to_state": PaymentState.PENDING,
                "reason": "charge asked (batch)",
            }
            for p in payments
        ],
    )


def _charge_pending(charges: list[dict], answers: list[Answer]) -> list[Answer]:
    """Ask the provider for every payment still pending (no connection held), then record all answers."""
    pending = [
        (i, p["id"])
        for i, (p, _e) in enumerate(answers)
        if p is not None and p["state"] == PaymentState.PENDING
    ]
    if not pending or get_provider().refusing:
        return answers  # a pending payment is settled later; none is sent while the breaker is open
    release_connection()  # no pooled connection is held while the provider thinks
    requests = [_charge_request(charges[index]) for index, _payment_id in pending]
    try:
        sent = get_provider().charge_many(requests)
    except ProviderUnavailable:
        log.warning("the provider's breaker opened before %d charges were sent: left pending", len(pending))
        return answers
    results = {}
    for (index, payment_id), result in zip(pending, sent, strict=True):
        if isinstance(result, ProviderTimeout):
            log.info("provider timed out on payment %s (order %s)", payment_id, charges[index]["order"]["id"])
        else:
            results[payment_id] = result
    recorded = _record_all(results)
    return [(recorded.get(p["id"], p), e) if p is not None else (p, e) for p, e in answers]


def _charge_request(charge: dict) -> ChargeRequest:
    return ChargeRequest(
        charge["amount"], charge["currency"], charge["payment_method"], charge["idempotency_key"]
    )


def _record_all(results: dict) -> dict[int, dict]:
    """Store the provider's answers, in one transaction, for the payments that still wait for one;
    the payments as they now are, by id."""
    ids = sorted(results)
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "sqlite":  # a first write takes SQLite's write lock
        db.session.execute(update(Payment).where(Payment.id.in_(ids)).values(id=Payment.id))
    locked = select(*COLUMNS).where(Payment.id.in_(ids)).order_by(Payment.id).with_for_update()
    payments = {payment["id"]: payment for payment in rows_of(locked)}
    transitions: list[dict] = []
    for payment_id, result in results.items():
        payment = payments[payment_id]
        if payment["state"] == PaymentState.PENDING:
            _move(payment, OUTCOMES[result.status], f"provider: {result.status.value}", transitions)
            payment.update(provider_reference=result.reference, decline_code=result.decline_code)
    if transitions:
        columns = ("id", "state", "provider_reference", "decline_code")
        moved = sorted({t["payment_id"] for t in transitions})
        update_by_id(Payment, [{c: payments[i][c] for c in columns} for i in moved])
        insert_rows(PaymentTransition, transitions)
    db.session.commit()
    return payments
