"""What the catalog accepts and answers."""

import re

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import URL, Length, Range
from marshmallow import ValidationError, validates_schema

from api.common import PageQuery, UTCDateTime

MAX_PRICE = 10**9
MAX_STOCK = 10**9
# Ids are INT columns on MySQL: anything larger can name no row.
MAX_ID = 2**31 - 1
MAX_RESERVATION_ITEMS = 50
_LOCAL_PATH = re.compile(r"^/(?!/)[A-Za-z0-9._~/-]+$")
_WEB_URL = URL(schemes={"http", "https"}, require_tld=False)


def not_blank(value: str) -> None:
    """Refuse text that is only whitespace."""
    if not value.strip():
        raise ValidationError("Must not be blank.")


def image_url(value: str) -> None:
    """An http(s) URL, or a path on this site such as /static/img/tea.svg."""
    if _LOCAL_PATH.match(value):
        return
    _WEB_URL(value)


class ProductIn(Schema):
    name = String(required=True, validate=[Length(min=1, max=200), not_blank])
    description = String(load_default="", validate=Length(max=5000))
    price = Integer(required=True, strict=True, validate=Range(min=0, max=MAX_PRICE))
    image_url = String(load_default=None, allow_none=True, validate=[Length(max=500), image_url])
    stock = Integer(load_default=0, strict=True, validate=Range(min=0, max=MAX_STOCK))


class ProductPatch(Schema):
    name = String(validate=[Length(min=1, max=200), not_blank])
    description = String(validate=Length(max=5000))
    price = Integer(strict=True, validate=Range(min=0, max=MAX_PRICE))
    image_url = String(allow_none=True, validate=[Length(max=500), image_url])
    stock = Integer(strict=True, validate=Range(min=0, max=MAX_STOCK))


class ProductOut(Schema):
    id = Integer()
    name = String()
    description = String()
    price = Integer(metadata={"description": "Minor units of `currency` (KRW has none: 1 = ₩1)."})
    currency = String()
    image_url = String(allow_none=True)
    stock = Integer()
    in_stock = Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ProductQuery(PageQuery):
    q = String(
        load_default="", validate=Length(max=200), metadata={"description": "Words in name or description."}
    )


class ProductPage(Schema):
    items = List(Nested(ProductOut))
    page = Integer()
    per_page = Integer()
    total = Integer()
    pages = Integer()


class ReservationItem(Schema):
    product_id = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_ID))
    quantity = Integer(required=True, strict=True, validate=Range(min=1, max=MAX_STOCK))


class ReservationIn(Schema):
    key = String(required=True, validate=[Length(min=1, max=200), not_blank])
    items = List(
        Nested(ReservationItem),
        required=True,
        validate=Length(min=1, max=MAX_RESERVATION_ITEMS),
    )

    @validates_schema
    def _one_line_per_product(self, data: dict, **kwargs) -> None:
        ids = [item["product_id"] for item in data.get("items", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Name each product once.", field_name="items")


class ReservationOut(Schema):
    key = String()
    items = List(Nested(ReservationItem))
    state = String()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
