"""What the payments service reads and answers."""

from apiflask import Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError, validates_schema

from api.common import UTCDateTime
from api.payments.cards import TOKEN, CardIn
from api.payments.states import PaymentState

MAX_ID = 2**31 - 1
MAX_AMOUNT = 10**12
MAX_BATCH = 500  # charges per batch call (the drain sends at most its batch size)


class PaymentMethodIn(Schema):
    card = Nested(CardIn, required=True)
    account_id = Integer(
        required=True,
        strict=True,
        validate=Range(min=1, max=MAX_ID),
        metadata={"description": "The shopper whose card it is: only their orders may pay with the token."},
    )


class PaymentMethodOut(Schema):
    token = String(metadata={"description": "Pass as `payment_method`; it expires after `expires_in`."})
    brand = String()
    last4 = String()
    exp_month = Integer()
    exp_year = Integer()
    expires_in = Integer(metadata={"description": "Seconds the token stays usable."})


class ChargeIn(Schema):
    order_id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    amount = Integer(required=True, strict=True, validate=Range(min=0, max=MAX_AMOUNT))
    currency = String(required=True, validate=Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code, e.g. KRW."))
    idempotency_key = String(required=True, validate=Length(min=1, max=250))
    payment_method = String(
        validate=TOKEN, metadata={"description": "A token from POST /api/payments/methods."}
    )
    card = Nested(CardIn, metadata={"description": "Or the card itself: tokenised at once, never stored."})

    @validates_schema
    def _token_or_card(self, data, **kwargs):
        if ("payment_method" in data) == ("card" in data):
            raise ValidationError(
                "Send a payment_method or a card (one of them).", field_name="payment_method"
            )


class PaymentTransitionOut(Schema):
    from_state = String(allow_none=True)
    to_state = String()
    reason = String()
    at = UTCDateTime()


class PaymentOut(Schema):
    id = Integer()
    order_id = Integer()
    account_id = Integer()
    idempotency_key = String()
    amount = Integer(metadata={"description": "Minor units of `currency`."})
    currency = String()
    state = String(validate=OneOf([state.value for state in PaymentState]))
    provider = String()
    provider_reference = String(allow_none=True)
    card_last4 = String()
    decline_code = String(allow_none=True)
    transitions = List(Nested(PaymentTransitionOut))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class PaymentList(Schema):
    items = List(Nested(PaymentOut))


class ChargedOrderIn(Schema):
    """The order as the orders service holds it, read from its locked row in the request that calls."""

    id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    account_id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    total = Integer(required=True, strict=True, validate=Range(min=0, max=MAX_AMOUNT))
    currency = String(required=True, validate=Regexp(r"^[A-Z]{3}$"))
    state = String(required=True, validate=Length(max=30))


class BatchChargeIn(Schema):
    order = Nested(ChargedOrderIn, required=True)
    amount = Integer(required=True, strict=True, validate=Range(min=0, max=MAX_AMOUNT))
    currency = String(required=True, validate=Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code, e.g. KRW."))
    idempotency_key = String(required=True, validate=Length(min=1, max=250))
    payment_method = String(required=True, validate=TOKEN)


class ChargeBatchIn(Schema):
    charges = List(Nested(BatchChargeIn), required=True, validate=Length(min=1, max=MAX_BATCH))


class ChargeErrorOut(Schema):
    code = String()
    message = String()
    fields = Dict()


class PaymentBrief(Schema):
    """A payment without its transitions: what the orders service reads from a batch."""

    id = Integer()
    order_id = Integer()
    idempotency_key = String()
    amount = Integer(metadata={"description": "Minor units of `currency`."})
    currency = String()
    state = String(validate=OneOf([state.value for state in PaymentState]))
    decline_code = String(allow_none=True)


class ChargeResultOut(Schema):
    idempotency_key = String()
    payment = Nested(PaymentBrief, allow_none=True)
    error = Nested(ChargeErrorOut, allow_none=True)


class ChargeBatchOut(Schema):
    items = List(Nested(ChargeResultOut))


class ReadyOut(Schema):
    database = String(metadata={"description": "ok: the payments database answers"})
    provider = String(metadata={"description": "closed: the provider's breaker lets charges through"})
