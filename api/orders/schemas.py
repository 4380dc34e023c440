"""What the orders service reads and answers."""

from apiflask import Schema
from apiflask.fields import Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError, validates_schema

from api.common import UTCDateTime
from api.orders.delivery import POSTAL_CODE, phone_problem
from api.orders.states import OrderState
from api.payments.cards import PayWith

MAX_ID = 2**31 - 1
MAX_QUANTITY = 1000
MAX_ITEMS = 50
# Keys travel in URLs (the catalog's reservation paths), so they keep to URL-safe characters.
EACH_PRODUCT_ONCE = "Name each product once."  # an order's rule, in both kinds of schema
MAX_KEY, KEY_PATTERN = 100, r"^[A-Za-z0-9._:~-]+$"
KEY = [Length(min=1, max=MAX_KEY), Regexp(KEY_PATTERN, error="Use letters, digits and . _ : ~ -")]


class OrderItemIn(Schema):
    """A product and how many units; the price always comes from the catalog (a price field is refused)."""

    product_id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    quantity = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_QUANTITY))


class _Items(Schema):
    items = List(Nested(OrderItemIn), required=True, validate=Length(min=1, max=MAX_ITEMS))

    @validates_schema
    def _each_product_once(self, data, **kwargs):
        ids = [item["product_id"] for item in data.get("items", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError(EACH_PRODUCT_ONCE, field_name="items")


class OrderIn(_Items):
    idempotency_key = String(
        validate=KEY, metadata={"description": "Or the Idempotency-Key header; one of them is required."}
    )


class SaleOrderIn(_Items):
    account_id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    sale_id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    idempotency_key = String(required=True, validate=KEY, metadata={"description": "The sale ticket."})


class OrderPayIn(PayWith):
    idempotency_key = String(
        validate=KEY, metadata={"description": "One per payment attempt; or the Idempotency-Key header."}
    )


def _blank_is_missing(value: str) -> None:
    if not value.strip():
        raise ValidationError("Fill this in.")


def _phone(value: str) -> None:
    problem = phone_problem(value)
    if problem:
        raise ValidationError(problem)


class DeliveryIn(Schema):
    recipient = String(required=True, validate=[Length(max=100), _blank_is_missing])
    phone = String(required=True, validate=[Length(max=20), _phone])
    postal_code = String(required=True, validate=Regexp(POSTAL_CODE, error="Enter the 5-digit postal code."))
    address = String(required=True, validate=[Length(max=200), _blank_is_missing])
    address_detail = String(load_default="", validate=Length(max=100))


class DeliveryOut(Schema):
    recipient = String()
    phone = String()
    postal_code = String()
    address = String()
    address_detail = String()


class AddressesOut(Schema):
    default = Nested(DeliveryOut, allow_none=True, metadata={"description": "Where my next orders go."})
    used = List(Nested(DeliveryOut), metadata={"description": "My recent orders' addresses, newest first."})


class OrderTransitionIn(Schema):
    to = String(required=True, validate=OneOf([state.value for state in OrderState]))
    reason = String(load_default="", validate=Length(max=200))


class OrderLineOut(Schema):
    product_id = Integer()
    product_name = String()
    unit_price = Integer()
    quantity = Integer()
    subtotal = Integer()


class OrderTransitionOut(Schema):
    from_state = String(allow_none=True)
    to_state = String()
    reason = String()
    at = UTCDateTime()


class OrderOut(Schema):
    id = Integer()
    account_id = Integer()
    state = String()
    total = Integer(metadata={"description": "Minor units of `currency`."})
    currency = String()
    source = String()
    sale_id = Integer(allow_none=True)
    lines = List(Nested(OrderLineOut))
    transitions = List(Nested(OrderTransitionOut))
    delivery = Nested(DeliveryOut, allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class OrderPage(Schema):
    items = List(Nested(OrderOut))
    page = Integer()
    per_page = Integer()
    total = Integer()
    pages = Integer()


MAX_BATCH = 500  # orders per batch call (the drain sends at most its batch size): batch_schemas.py
