"""The cart and the checkout through the storefront: add, change, remove, stock, delivery, card, e-mail."""

import re
from datetime import date
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from accounts_helpers import drain_mail
from cart_helpers import (
    DECLINED_CARD,
    DELIVERY,
    GOOD_CARD,
    NO_FUNDS_CARD,
    add_to_cart,
    check_out,
    hidden_key,
    links_in,
    mail_to,
    pay,
    text_of,
    verified_over_smtp,
)

from api.catalog import services as catalog

HX = {"HX-Request": "true"}


@pytest.fixture
def products(shop_web) -> SimpleNamespace:
    """The demo products these tests buy: ₩18,000 tea, ₩32,000 mug, 25 keyboards."""
    ids = shop_web.ids
    return SimpleNamespace(tea=ids["Jeju"], mug=ids["Hand-thrown"], keyboard=ids["Mechanical"])


def test_adding_from_the_product_page_counts_units_in_the_header(shop_web, products, web):
    shop_web.sign_in()
    assert "Add to cart" in text_of(web.get(f"/products/{products.tea}"))
    answer = add_to_cart(web, products.tea, 2)
    assert answer.status_code == 302 and answer.headers["Location"] == f"/products/{products.tea}"
    page = text_of(web.get(f"/products/{products.tea}"))
    assert "Added 2 to your cart." in page
    add_to_cart(web, products.tea, 1)
    cart = text_of(web.get("/cart"))
    assert "Jeju Green Tea, 50 g" in cart and "₩54,000" in cart
    assert re.search(r'id="cart-count"[^>]*>.*3<span class="visually-hidden"> items', cart)


def test_adding_with_htmx_answers_the_confirmation_and_the_new_count(shop_web, products, web):
    shop_web.sign_in()
    answer = add_to_cart(web, products.mug, 1, **HX, **{"HX-Target": "cart-form"})
    body = text_of(answer)
    assert answer.status_code == 200 and "<html" not in body
    assert 'id="cart-form"' in body and "Added 1 to your cart." in body
    assert re.search(r'id="cart-count"[^>]*hx-swap-oob="true"', body)


def test_adding_from_the_wishlist_moves_its_quantity_into_the_cart(shop_web, products, web):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.mug}", data={"quantity": 2})
    wishlist = text_of(web.get("/wishlist"))
    assert "Add to cart: 2 × Hand-thrown" in wishlist
    answer = web.post(f"/cart/items/{products.mug}", data={"quantity": 2, "next": "/wishlist"})
    assert answer.headers["Location"] == "/wishlist"
    assert "₩64,000" in text_of(web.get("/cart"))
    assert "Hand-thrown" in text_of(web.get("/wishlist"))  # the wishlist keeps it for later


def test_changing_and_removing_lines_inline(shop_web, products, web):
    shop_web.sign_in()
    add_to_cart(web, products.tea, 1)
    add_to_cart(web, products.mug, 1)
    changed = web.post(f"/cart/items/{products.tea}/quantity", data={"quantity": 3}, headers=HX)
    body = text_of(changed)
    assert changed.status_code == 200 and f'id="cart-line-{products.tea}"' in body
    assert re.search(r'id="cart-summary"[^>]*hx-swap-oob="true"', body) and "₩86,000" in body
    web.post(f"/cart/items/{products.tea}/remove", headers=HX)
    last = web.post(f"/cart/items/{products.mug}/remove", headers=HX)
    assert last.headers["HX-Retarget"] == "#cart" and "Your cart is empty." in text_of(last)


def test_the_cart_is_there_after_logging_out_and_in(shop_web, products, web):
    ada = shop_web.sign_in()
    add_to_cart(web, products.tea, 2)
    web.post("/account/logout")
    shop_web.sign_in(ada)
    page = text_of(web.get("/"))
    assert re.search(r'id="cart-count"[^>]*>.*2<span', page)
    assert "Jeju Green Tea, 50 g" in text_of(web.get("/cart"))


def test_asking_for_more_than_is_left_says_how_many_are(shop_web, products, web):
    shop_web.sign_in()
    answer = web.post(f"/cart/items/{products.keyboard}", data={"quantity": 26}, headers=HX)
    assert answer.status_code == 422 and "Only 25 left." in text_of(answer)
    add_to_cart(web, products.keyboard, 20)
    changed = web.post(f"/cart/items/{products.keyboard}/quantity", data={"quantity": 30}, headers=HX)
    assert changed.status_code == 422
    error = re.search(rf'id="cart-quantity-error-{products.keyboard}">([^<]*)', text_of(changed)).group(1)
    assert error.startswith("Only 25 left.")


def test_stock_that_went_meanwhile_is_shown_and_holds_checkout_back(shop_web, products, web):
    shop_web.sign_in()
    add_to_cart(web, products.keyboard, 5)
    add_to_cart(web, products.tea, 1)
    with shop_web.api_app.app_context():
        catalog.update_product(products.keyboard, {"stock": 2})  # others bought the rest meanwhile
    page = text_of(web.get("/cart"))
    assert "Only 2 left: lower the quantity to check out." in page
    key = hidden_key(page)
    refused = web.post("/cart/checkout", data={"idempotency_key": key})
    assert refused.headers["Location"] == "/cart"
    assert "lower the quantity first" in text_of(web.get("/cart"))
    with shop_web.api_app.app_context():
        catalog.update_product(products.keyboard, {"stock": 0})
    page = text_of(web.get("/cart"))
    assert "Sold out: it stays in your cart" in page and "kept in your cart" in page
    order_id = check_out(web)  # the tea alone
    assert "₩18,000" in text_of(web.get(f"/orders/{order_id}/checkout"))


def test_checkout_asks_for_a_delivery_and_remembers_it(shop_web, products, web):
    shop_web.sign_in()
    add_to_cart(web, products.tea, 2)
    order_id = check_out(web)
    page = text_of(web.get(f"/orders/{order_id}/checkout"))
    assert "Delivery" in page and "Pay ₩36,000" in page
    paid = pay(web, order_id, GOOD_CARD)
    assert paid.headers["Location"] == f"/orders/{order_id}"
    order_page = text_of(web.get(f"/orders/{order_id}"))
    assert "110 Sejong-daero" in order_page and "010-1234-5678" in order_page
    assert "Your cart is empty." in text_of(web.get("/cart"))  # bought lines leave the cart
    add_to_cart(web, products.mug, 1)
    next_checkout = text_of(web.get(f"/orders/{check_out(web)}/checkout"))
    assert f'value="{DELIVERY["address"]}"' in next_checkout and 'value="04524"' in next_checkout


def test_every_problem_of_the_checkout_form_is_shown_at_once(shop_web, products, web):
    shop_web.sign_in()
    add_to_cart(web, products.tea, 1)
    order_id = check_out(web)
    answer = pay(web, order_id, "1234", phone="12", postal_code="1234", address="", cvc="1")
    body = text_of(answer)
    assert answer.status_code == 422
    for field in ("card_number", "phone", "postal_code", "address", "cvc"):
        assert f'id="{field}-error"' in body, field
    assert "5-digit postal code" in body and "9 to 15 digits" in body


def test_the_card_form_has_no_expiry_chosen_and_refuses_a_past_month(shop_web, products, web):
    shop_web.sign_in()
    add_to_cart(web, products.tea, 1)
    order_id = check_out(web)
    page = text_of(web.get(f"/orders/{order_id}/checkout"))
    assert re.search(r'<option selected value="">MM</option>', page)
    assert re.search(r'<option selected value="">YYYY</option>', page)
    today = date.today()
    if today.month > 1:
        answer = pay(web, order_id, exp_month=str(today.month - 1), exp_year=str(today.year))
        assert "This card has expired" in text_of(answer)
    blank = pay(web, order_id, exp_month="", exp_year="")
    assert "Choose the month the card expires." in text_of(blank)


@pytest.mark.parametrize(
    ("card", "message"),
    [
        (DECLINED_CARD, "Payment declined — try another card."),
        (NO_FUNDS_CARD, "Your card has insufficient funds — use another card."),
    ],
)
def test_a_decline_says_why(shop_web, products, web, card, message):
    shop_web.sign_in()
    add_to_cart(web, products.tea, 1)
    order_id = check_out(web)
    body = text_of(pay(web, order_id, card))
    error_at = body.index('id="card_number-error"')
    assert message in body[error_at : error_at + 200]


def test_the_order_emails_arrive_with_both_parts_and_a_working_link(smtp_server, shop_web, products, web):
    ada = shop_web.sign_in(verified_over_smtp(shop_web, smtp_server))
    add_to_cart(web, products.tea, 1)
    order_id = check_out(web)
    pay(web, order_id, NO_FUNDS_CARD, key="a1")
    pay(web, order_id, GOOD_CARD, key="a2")
    declined, confirmed = mail_to(shop_web, smtp_server, ada.email)[-2:]
    assert declined["Subject"] == f"Payment for your Yakku order #{order_id} was declined"
    assert "insufficient funds" in declined.get_body(("plain",)).get_content()
    assert confirmed["Subject"] == f"Your Yakku order #{order_id} is confirmed"
    html = confirmed.get_body(("html",)).get_content()
    assert "Jeju Green Tea" in html and "110 Sejong-daero" in html and "₩18,000" in html
    [link] = set(links_in(confirmed))
    assert link.endswith(f"/orders/{order_id}")
    page = web.get(urlsplit(link).path)
    assert page.status_code == 200 and f"Order #{order_id}" in text_of(page)


def test_a_refund_is_written_to_the_shopper(smtp_server, shop_web, products, web, shop):
    ada = shop_web.sign_in(verified_over_smtp(shop_web, smtp_server))
    add_to_cart(web, products.mug, 1)
    order_id = check_out(web)
    pay(web, order_id, GOOD_CARD)
    assert shop.post(ada, f"/api/orders/{order_id}/cancel").status_code == 200
    refund = mail_to(shop_web, smtp_server, ada.email)[-1]
    assert refund["Subject"] == f"Your refund for Yakku order #{order_id}"
    assert "₩32,000 was refunded" in refund.get_body(("plain",)).get_content()


def test_no_address_link_or_card_appears_in_the_mail_jobs_description(shop_web, products, web, caplog):
    ada = shop_web.sign_in()
    add_to_cart(web, products.tea, 1)
    order_id = check_out(web)
    pay(web, order_id, GOOD_CARD)
    queue = shop_web.api_app.extensions["yakku.rq"]["mail"]
    [job] = [job for job in queue.get_jobs() if "order" in job.description]
    assert job.description == f"order mail: confirmed for order {order_id}"
    assert job.args == (order_id, "confirmed", None)
    with caplog.at_level("INFO", logger="rq.worker"):
        caplog.clear()
        drain_mail(shop_web.api_app)
    worker_lines = [record.getMessage() for record in caplog.records if record.name == "rq.worker"]
    assert any(f"order mail: confirmed for order {order_id}" in line for line in worker_lines)
    for line in worker_lines:
        assert "http" not in line and ada.email not in line and "4242" not in line, line
