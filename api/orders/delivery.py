"""Delivery details of a shop order: set while it is unpaid, and remembered for the shopper's next order
(their chosen default address if they keep one, else their last order's)."""

import re

from sqlalchemy import delete, select

from api.orders.exceptions import IllegalTransition
from api.orders.models import DefaultDelivery, OrderDelivery
from api.orders.services import get_order
from api.orders.states import OrderState
from yakku.extensions import db

# One rule for the API and the storefront's form. A phone is what a courier can dial: an optional +,
# then 9 to 15 digits, grouped by spaces, hyphens or brackets as people write them.
PHONE = re.compile(r"^\+?[\d\s()-]{9,24}$")
PHONE_DIGITS = range(9, 16)
POSTAL_CODE = re.compile(r"^\d{5}$")  # Korean postal codes (since 2015) are five digits
USED_SHOWN = 5  # past addresses the account page offers
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


def latest_delivery(account_id: int) -> DefaultDelivery | OrderDelivery | None:
    """The details to fill the next checkout with: the shopper's default address, else their last order's."""
    return db.session.get(DefaultDelivery, account_id) or next(iter(_recent(account_id, 1)), None)


def _recent(account_id: int, limit: int) -> list[OrderDelivery]:
    query = (
        select(OrderDelivery)
        .where(OrderDelivery.account_id == account_id)
        .order_by(OrderDelivery.updated_at.desc(), OrderDelivery.order_id.desc())
    )
    return list(db.session.scalars(query.limit(limit)))


def addresses_of(account_id: int) -> dict:
    """The default address (or None) and the different addresses of the shopper's recent orders."""
    used: dict[tuple, OrderDelivery] = {}
    for past in _recent(account_id, 10 * USED_SHOWN):
        used.setdefault(_key(past), past)
    return {"default": db.session.get(DefaultDelivery, account_id), "used": list(used.values())[:USED_SHOWN]}


def _key(delivery) -> tuple:
    return tuple(getattr(delivery, name) for name in FIELDS)


def set_default(account_id: int, details: dict) -> DefaultDelivery:
    """Keep an address as the shopper's default, for every next checkout."""
    default = db.session.get(DefaultDelivery, account_id) or DefaultDelivery(account_id=account_id)
    for name in FIELDS:
        setattr(default, name, details.get(name, "").strip())
    db.session.add(default)
    db.session.commit()
    return default


def forget_default(account_id: int) -> None:
    """Keep no default address (the checkout starts from the last order's again); repeating is harmless."""
    db.session.execute(delete(DefaultDelivery).where(DefaultDelivery.account_id == account_id))
    db.session.commit()
