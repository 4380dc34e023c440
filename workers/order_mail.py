"""The order e-mails: confirmation, payment declined, refund issued, and a sale order's "paid".

A job carries only the order's id and what kind of mail it is: the order, the address and the link are
read when it runs, so no address, link or secret sits in Redis, in the job's description, or in the
worker's log (RQ logs every job's description).

Shop orders: api/orders/lifecycle.py queues CONFIRMED and DECLINED when it records a payment's outcome,
and REFUNDED when it refunds. Sale orders: the drain is to call
`enqueue_order_mail(order_id, OrderMail.SALE_PAID)` for each checkout it confirms paid (today
workers/drain.py, where `confirm_many` answers and the checkout becomes CheckoutState.PAID); it is not
hooked in yet, since the drain is being moved into one package with the rest of the sale's checkout.
"""

from enum import StrEnum

from flask import current_app
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from rq import Retry

from workers.mail import send_email
from yakku.money import money
from yakku.queues import QueueName, get_queue

MAIL_RETRY = Retry(max=3, interval=[10, 60, 300])
# The storefront's page of one order (storefront/shop/orders.py serves it).
ORDER_PAGE_PATH = "/orders/{order_id}"
# What each decline code tells the shopper; the sandbox's codes are in docs/payments.md.
DECLINE_REASONS = {
    "insufficient_funds": "the card has insufficient funds",
    "card_declined": "the card's bank declined the payment",
    "expired_card": "the card has expired",
}
_templates = Environment(
    loader=PackageLoader("workers", "templates/mail"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class OrderMail(StrEnum):
    """The kinds of order e-mail, each a pair of templates (<kind>.txt, <kind>.html)."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    REFUNDED = "refunded"
    SALE_PAID = "sale_paid"


SUBJECTS = {
    OrderMail.CONFIRMED: "Your Yakku order #{order_id} is confirmed",
    OrderMail.DECLINED: "Payment for your Yakku order #{order_id} was declined",
    OrderMail.REFUNDED: "Your refund for Yakku order #{order_id}",
    OrderMail.SALE_PAID: "Your Yakku sale order #{order_id} is paid",
}


def enqueue_order_mail(order_id: int, kind: OrderMail, decline_code: str | None = None) -> None:
    """Queue one order e-mail; its description names the kind and the order, nothing more."""
    get_queue(QueueName.MAIL).enqueue(
        send_order_mail,
        order_id,
        kind.value,
        decline_code,
        retry=MAIL_RETRY,
        description=f"order mail: {kind.value} for order {order_id}",
    )


def send_order_mail(order_id: int, kind: str, decline_code: str | None = None) -> str:
    """The job: read the order and its shopper through the services, render both parts, send."""
    from api.client import accounts, orders  # the worker's app has the service clients; import late

    kind = OrderMail(kind)
    order = orders().internal_order(order_id)
    shopper = accounts().internal_account(order["account_id"])
    context = {
        "order": order,
        "name": shopper["name"],
        "link": order_link(order_id),
        "reason": DECLINE_REASONS.get(decline_code or "", "the card was declined"),
        "money": money,
    }
    text = _templates.get_template(f"{kind.value}.txt").render(context)
    html = _templates.get_template(f"{kind.value}.html").render(context)
    return send_email(shopper["email"], SUBJECTS[kind].format(order_id=order_id), text, html)


def order_link(order_id: int) -> str:
    """The absolute storefront URL of an order's page."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + ORDER_PAGE_PATH.format(order_id=order_id)
