"""What the wishlist accepts and answers."""

from apiflask import Schema
from apiflask.fields import Integer, List, Nested
from apiflask.validators import Range

from api.common import UTCDateTime
from api.wishlist.models import MAX_QUANTITY, MIN_QUANTITY

_QUANTITY = Range(min=MIN_QUANTITY, max=MAX_QUANTITY)


class QuantityIn(Schema):
    quantity = Integer(load_default=MIN_QUANTITY, strict=True, validate=_QUANTITY)


class QuantityChange(Schema):
    quantity = Integer(required=True, strict=True, validate=_QUANTITY)


class WishlistItemOut(Schema):
    product_id = Integer()
    quantity = Integer()
    added_at = UTCDateTime()


class WishlistOut(Schema):
    items = List(Nested(WishlistItemOut))
    count = Integer()
