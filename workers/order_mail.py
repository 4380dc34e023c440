"""The order e-mails: confirmation, payment declined, refund issued, and a sale order's "paid".

A job carries only the order's id and what kind of mail it is: the order, the address and the link are
read when it runs, so no address, link or secret sits in Redis, in the job's description, or in the
worker's log (RQ logs every job's description).

Shop orders: api/orders/lifecycle.py queues CONFIRMED and DECLINED when it records a payment's outcome,
and REFUNDED when it refunds. Sale orders: api/orders/batch.py queues SALE_PAID for the orders a batch
pay records paid, in one job for them all (lifecycle queues one for an order settled later). Only the
call that records the outcome queues the mail, and a mail that happens once per order (ONCE) is also
sent once: its job is named after the order (or the batch's orders), and each mail marks its order
sent, so a job queued twice writes one message.
"""

import hashlib
import logging
from enum import StrEnum

from flask import current_app
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from rq import Retry

from workers.mail import send_email
from yakku.extensions import get_redis
from yakku.money import money
from yakku.queues import QueueName, get_queue

log = logging.getLogger(__name__)
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


# The mails an order gets at most once (it is confirmed, paid or refunded once; declined per attempt).
ONCE = frozenset({OrderMail.CONFIRMED, OrderMail.SALE_PAID, OrderMail.REFUNDED})
# Set once such a mail is sent, for longer than any retry of its batch or its job could come.
SENT_KEY = "order-mail:{kind}:{order_id}:sent"
SENT_FOR = 30 * 24 * 3600


def enqueue_order_mail(order_id: int, kind: OrderMail, decline_code: str | None = None) -> None:
    """Queue one order e-mail; its description names the kind and the order, nothing more."""
    enqueue_order_mails([order_id], kind, decline_code)


def enqueue_order_mails(order_ids: list[int], kind: OrderMail, decline_code: str | None = None) -> None:
    """Queue the e-mails of a kind for these orders: one job for one order, one job for them all for
    more (a drain batch's paid orders: RQ makes and stores each job, a sixth of the pay call's time when
    it was a job per order)."""
    if not order_ids:
        return
    if len(order_ids) == 1:
        [order_id] = order_ids
        description = f"order mail: {kind.value} for order {order_id}"
        job_id = f"order-mail-{kind.value}-{order_id}"
        _enqueue(send_order_mail, order_id, kind, decline_code, job_id, description)
        return
    ids = sorted(order_ids)
    key = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    description = f"order mails: {kind.value} for {len(ids)} orders, {ids[0]} to {ids[-1]}"
    _enqueue(send_order_mails, ids, kind, decline_code, f"order-mails-{kind.value}-{key}", description)


def _enqueue(job, orders, kind: OrderMail, decline_code: str | None, job_id: str, description: str) -> None:
    """Queue one mail job; a once-only kind's job is named (`job_id`), so the same mail queued twice is one
    job."""
    get_queue(QueueName.MAIL).enqueue(
        job,
        orders,
        kind.value,
        decline_code,
        job_id=job_id if kind in ONCE else None,
        retry=MAIL_RETRY,
        description=description,
    )


def send_order_mails(order_ids: list[int], kind: str, decline_code: str | None = None) -> int:
    """The job for many orders: each one's mail as send_order_mail sends it. Every order is tried; if any
    could not be sent the job fails, to be retried (a once-only mail already sent is skipped then)."""
    failed = []
    for order_id in order_ids:
        try:
            send_order_mail(order_id, kind, decline_code)
        except Exception:  # one shopper's failed mail must not hold back the others'
            log.exception("order %s: the %s mail was not sent", order_id, kind)
            failed.append(order_id)
    if failed:
        raise MailsNotSent(failed)
    return len(order_ids)


class MailsNotSent(RuntimeError):
    """Some orders' mails of a batch were not sent (each is logged); the job is retried for them."""

    def __init__(self, order_ids: list[int]):
        super().__init__(f"{len(order_ids)} order mails not sent: orders {order_ids}")
        self.order_ids = order_ids


def send_order_mail(order_id: int, kind: str, decline_code: str | None = None) -> str | None:
    """The job: read the order and its shopper through the services, render both parts, send.

    A once-only mail already sent is not sent again (None): the mark is set after the server took the
    message, so a failed send is retried, and only a worker killed in between can send it twice.
    """
    kind = OrderMail(kind)
    sent = SENT_KEY.format(kind=kind.value, order_id=order_id)
    if kind in ONCE and get_redis().exists(sent):
        return None
    message_id = _send(order_id, kind, decline_code)
    if kind in ONCE:
        get_redis().set(sent, message_id, ex=SENT_FOR)
    return message_id


def _send(order_id: int, kind: OrderMail, decline_code: str | None) -> str:
    from api.client import accounts, orders  # the worker's app has the service clients; import late

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
