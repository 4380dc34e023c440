"""Delivery details of a shop order: set while it is unpaid, and remembered for the shopper's next order."""

import re

from sqlalchemy import select

from api.orders.exceptions import IllegalTransition
from api.orders.models import OrderDelivery
from api.orders.services import get_order
from api.orders.states import OrderState
from yakku.extensions import db

# One rule for the API and the storefront's form. A phone is what a courier can dial: an optional +,
# then 9 to 15 digits, grouped by spaces, hyphens or brackets as people write them.
PHONE = re.compile(r"^\+?[\d\s()-]{9,24}$")
PHONE_DIGITS = range(9, 16)
POSTAL_CODE = re.compile(r"^\d{5}$")  # Korean postal codes (since 2015) are five digits
CHANGEABLE = frozenset({OrderState.CREATED, OrderState.PAYMENT_FAILED})
FIELDS = ("recipient", "phone", "postal_code", "address", "address_detail")


def phone_problem(value: str) -> str | None:
    """Why a phone number will not do, or None."""
    if not PHONE.match(value) or len(re.sub(r"\D", "", value)) not in PHONE_DIGITS:
        return "Enter a phone number of 9 to 15 digits, such as 010-1234-5678."
    return None


def set_delivery(order_id: int, account_id: int, details: dict) -> OrderDelivery:
    """Say where an unpaid order goes; once paid, its address is what was paid for."""
    order = get_order(order_id, account_id)
    if OrderState(order.state) not in CHANGEABLE:
        raise IllegalTransition(
            "A paid or cancelled order's delivery cannot change.", fields={"state": order.state.value}
        )
    delivery = order.delivery or OrderDelivery(order_id=order.id, account_id=account_id)
    for name in FIELDS:
        setattr(delivery, name, details.get(name, "").strip())
    order.delivery = delivery
    db.session.commit()
    return delivery


def latest_delivery(account_id: int) -> OrderDelivery | None:
    """The details the shopper gave last, to fill the next checkout with."""
    query = (
        select(OrderDelivery)
        .where(OrderDelivery.account_id == account_id)
        .order_by(OrderDelivery.updated_at.desc(), OrderDelivery.order_id.desc())
    )
    return db.session.scalars(query.limit(1)).first()
