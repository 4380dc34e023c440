"""The order e-mail job: called with an order id alone, it writes both parts with a link to the order, to
the order's shopper; a sale order paid by the drain's batch gets its "paid" mail once."""

from accounts_helpers import drain_mail, latest_message, outbox_messages
from sale_helpers import DECLINED_CARD, card_token

from workers.order_mail import OrderMail, enqueue_order_mail, enqueue_order_mails


def test_a_paid_sale_orders_mail_needs_only_the_order_id(shop, live_api):
    ada, tea = shop.shopper(), shop.product(price=18_000)
    order = shop.order(ada, {tea["id"]: 2}).json()
    with live_api.app_context():
        enqueue_order_mail(order["id"], OrderMail.SALE_PAID)
        job = live_api.extensions["yakku.rq"]["mail"].get_jobs()[-1]
        assert job.args == (order["id"], "sale_paid", None)
    drain_mail(live_api)
    mail = latest_message(live_api, ada.email)
    assert mail["Subject"] == f"Your Yakku sale order #{order['id']} is paid"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Your order is paid" in text and "₩36,000" in text and "Your order is paid" in html
    assert (
        f"http://shop.test/orders/{order['id']}" in text
        and f'href="http://shop.test/orders/{order["id"]}"' in html
    )


def test_a_won_sale_order_is_mailed_once_even_when_its_pay_batch_is_retried(shop, live_api):
    ada, bo = shop.shopper(), shop.shopper()
    lamp = shop.product(price=7_000)
    items = [{"product_id": lamp["id"], "quantity": 1}]
    tickets = [
        {"account_id": member.id, "items": items, "idempotency_key": key}
        for member, key in ((ada, "ticket:t1"), (bo, "ticket:t2"))
    ]
    made = shop.internal("POST", "/api/orders/internal/batch", {"sale_id": 51, "units": 2, "orders": tickets})
    won, declined = (order["id"] for order in made.json()["items"])
    tokens = card_token(shop, ada.id), card_token(shop, bo.id, DECLINED_CARD)
    payments = [
        {"payment_method": token, "order_id": order_id, "idempotency_key": "a1"}
        for token, order_id in zip(tokens, (won, declined), strict=True)
    ]
    for _ in range(2):  # the drain's call, then the same batch again (a retry after a lost answer)
        paid = shop.internal("POST", "/api/orders/internal/batch/pay", {"payments": payments})
        assert [item["order"] and item["order"]["state"] for item in paid.json()["items"]] == ["paid", None]
    with live_api.app_context():
        queued = [j for j in live_api.extensions["yakku.rq"]["mail"].get_jobs() if "order" in j.func_name]
        # one job, by reference, naming the order alone: no address or link in Redis or the log
        assert [(j.func_name, j.args, j.description) for j in queued] == [
            (
                "workers.order_mail.send_order_mail",
                (won, "sale_paid", None),
                f"order mail: sale_paid for order {won}",
            )
        ]
        enqueue_order_mail(won, OrderMail.SALE_PAID)  # queued again by a settling reconciler, say
    drain_mail(live_api)
    subjects = [m["Subject"] for m in outbox_messages(live_api, ada.email)]
    assert subjects.count(f"Your Yakku sale order #{won} is paid") == 1
    assert not [m for m in outbox_messages(live_api, bo.email) if "sale order" in m["Subject"]]


def test_a_pay_batch_mails_each_paid_shopper_once_from_one_job(shop, live_api):
    shoppers = [shop.shopper() for _ in range(3)]
    bowl = shop.product(price=9_000)
    items = [{"product_id": bowl["id"], "quantity": 1}]
    tickets = [
        {"account_id": member.id, "items": items, "idempotency_key": f"ticket:b{n}"}
        for n, member in enumerate(shoppers)
    ]
    made = shop.internal("POST", "/api/orders/internal/batch", {"sale_id": 52, "units": 3, "orders": tickets})
    order_ids = [order["id"] for order in made.json()["items"]]
    payments = [
        {"payment_method": card_token(shop, member.id), "order_id": order_id, "idempotency_key": "a1"}
        for member, order_id in zip(shoppers, order_ids, strict=True)
    ]
    for _ in range(2):  # the drain's call, then the same batch again
        shop.internal("POST", "/api/orders/internal/batch/pay", {"payments": payments})
    with live_api.app_context():
        queued = [j for j in live_api.extensions["yakku.rq"]["mail"].get_jobs() if "order" in j.func_name]
        # One job for the batch, by reference: the order ids, nothing of the shoppers
        assert [(j.func_name, j.args) for j in queued] == [
            ("workers.order_mail.send_order_mails", (sorted(order_ids), "sale_paid", None))
        ]
        assert "@" not in queued[0].description
    drain_mail(live_api)
    for member, order_id in zip(shoppers, order_ids, strict=True):
        mailed = [m["Subject"] for m in outbox_messages(live_api, member.email)]
        assert [s for s in mailed if "sale order" in s] == [f"Your Yakku sale order #{order_id} is paid"]


def test_one_mail_of_a_batch_that_fails_does_not_hold_back_the_others(shop, live_api):
    ada = shop.shopper()
    order = shop.order(ada, {shop.product(price=5_000)["id"]: 1}).json()
    missing = order["id"] + 1000  # no such order: its mail cannot be written
    with live_api.app_context():
        enqueue_order_mails([missing, order["id"]], OrderMail.SALE_PAID)
    drain_mail(live_api)
    mailed = [m["Subject"] for m in outbox_messages(live_api, ada.email) if "sale order" in m["Subject"]]
    assert mailed == [f"Your Yakku sale order #{order['id']} is paid"]
    with live_api.app_context():
        failed = live_api.extensions["yakku.rq"]["mail"].failed_job_registry
        scheduled = live_api.extensions["yakku.rq"]["mail"].scheduled_job_registry
        # Retried later (MAIL_RETRY), for the one not sent: the sent one is skipped then
        assert len(failed) + len(scheduled) == 1
