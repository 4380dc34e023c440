"""What the cart accepts and answers."""

from apiflask import Schema
from apiflask.fields import DateTime, Integer, List, Nested
from apiflask.validators import Range

from api.cart.models import MAX_QUANTITY, MIN_QUANTITY


class QuantityIn(Schema):
    quantity = Integer(required=True, strict=True, validate=Range(min=MIN_QUANTITY, max=MAX_QUANTITY))


class CartItemOut(Schema):
    product_id = Integer()
    quantity = Integer()
    added_at = DateTime()


class CartOut(Schema):
    items = List(Nested(CartItemOut))
    units = Integer(metadata={"description": "Units over every line: what the header badge counts."})
