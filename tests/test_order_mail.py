"""The order e-mail job: called with an order id alone (as the sale's drain is to call it), it writes
both parts with a link to the order, to the order's shopper."""

from accounts_helpers import drain_mail, latest_message

from workers.order_mail import OrderMail, enqueue_order_mail


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
