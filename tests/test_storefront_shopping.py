"""Wishlist, buying and paying through the storefront: plain posts redirect, htmx posts get fragments."""

import re
from datetime import date
from types import SimpleNamespace

import pytest

from api.orders import lifecycle

HX = {"HX-Request": "true"}
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
DELIVERY = {
    "recipient": "Ada Lovelace",
    "phone": "010-1234-5678",
    "postal_code": "04524",
    "address": "110 Sejong-daero, Jung-gu, Seoul",
    "address_detail": "",
}


@pytest.fixture
def products(shop_web) -> SimpleNamespace:
    """Ids of the demo products these tests buy (₩18,000 tea, ₩32,000 mug, apron, 25 keyboards)."""
    ids = shop_web.ids
    return SimpleNamespace(
        tea=ids["Jeju"], mug=ids["Hand-thrown"], apron=ids["Linen"], keyboard=ids["Mechanical"]
    )


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def _card(number: str, key: str) -> dict:
    """The checkout form: a delivery address (asked since checkout ships the order) and a card."""
    return {
        **DELIVERY,
        "card_number": number,
        "exp_month": "12",
        "exp_year": str(date.today().year + 1),
        "cvc": "123",
        "idempotency_key": key,
    }


def _buy(web) -> int:
    page = _text(web.get("/wishlist"))
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)
    answer = web.post("/wishlist/buy", data={"idempotency_key": key})
    assert answer.status_code == 302, _text(answer)
    return int(re.fullmatch(r"/orders/(\d+)/checkout", answer.headers["Location"]).group(1))


def test_adding_without_javascript_redirects_back_with_a_message(shop_web, products, web):
    shop_web.sign_in()
    answer = web.post(f"/wishlist/items/{products.tea}", data={"quantity": 2})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/products/{products.tea}"
    page = _text(web.get(f"/products/{products.tea}"))
    assert "Added 2 to your wishlist." in page
    wishlist = _text(web.get("/wishlist"))
    assert "Jeju Green Tea, 50 g" in wishlist and "₩36,000" in wishlist


def test_adding_with_htmx_answers_the_confirmation_and_the_new_count(shop_web, products, web):
    shop_web.sign_in()
    answer = web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1}, headers=HX)
    body = _text(answer)
    assert answer.status_code == 200 and "<html" not in body
    assert 'id="wishlist-form"' in body and "Added 1 to your wishlist." in body
    assert re.search(r'id="wishlist-count"[^>]*hx-swap-oob="true"[^>]*>.*1', body)
    assert "HX-Request" in answer.headers["Vary"]


@pytest.mark.parametrize("quantity", ["0", "100", "", "two"])
def test_a_bad_quantity_is_explained_next_to_the_field(shop_web, products, web, quantity):
    shop_web.sign_in()
    answer = web.post(f"/wishlist/items/{products.tea}", data={"quantity": quantity}, headers=HX)
    assert answer.status_code == 422
    assert 'id="quantity-error"' in _text(answer)
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1})
    changed = web.post(f"/wishlist/items/{products.tea}/quantity", data={"quantity": quantity}, headers=HX)
    assert changed.status_code == 422
    assert f'id="quantity-error-{products.tea}"' in _text(changed) and 'aria-invalid="true"' in _text(changed)


def test_changing_a_quantity_inline_swaps_the_line_and_the_total(shop_web, products, web):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1})
    web.post(f"/wishlist/items/{products.mug}", data={"quantity": 1})
    answer = web.post(f"/wishlist/items/{products.tea}/quantity", data={"quantity": 3}, headers=HX)
    body = _text(answer)
    assert answer.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<li id="line-{products.tea}"')
    assert "₩54,000" in body  # the line: 3 × ₩18,000
    assert re.search(r'id="wishlist-summary"[^>]*hx-swap-oob="true"', body)
    assert "₩86,000" in body  # the total: ₩54,000 + ₩32,000
    plain = web.post(f"/wishlist/items/{products.tea}/quantity", data={"quantity": 2})
    assert plain.status_code == 302 and plain.headers["Location"] == "/wishlist"


def test_removing_lines_with_htmx_and_the_last_one_empties_the_list(shop_web, products, web):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1})
    web.post(f"/wishlist/items/{products.mug}", data={"quantity": 1})
    first = web.post(f"/wishlist/items/{products.tea}/remove", headers=HX)
    assert first.status_code == 200
    assert f'id="line-{products.tea}"' not in _text(first) and "₩32,000" in _text(first)
    last = web.post(f"/wishlist/items/{products.mug}/remove", headers=HX)
    assert last.headers["HX-Retarget"] == "#wishlist"
    assert "Your wishlist is empty." in _text(last)
    assert "Your wishlist is empty." in _text(web.get("/wishlist"))


def test_buy_then_a_declined_card_then_a_good_one(shop_web, products, web):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 2})
    order_id = _buy(web)
    checkout = _text(web.get(f"/orders/{order_id}/checkout"))
    assert "Pay ₩36,000" in checkout

    declined = web.post(f"/orders/{order_id}/pay", data=_card(DECLINED_CARD, "attempt1"))
    body = _text(declined)
    assert declined.status_code == 422
    error_at = body.index('id="card_number-error"')
    assert "Payment declined — try another card." in body[error_at : error_at + 200]
    assert 'value="attempt1"' not in body  # the next attempt gets a fresh key

    paid = web.post(f"/orders/{order_id}/pay", data=_card(GOOD_CARD, "attempt2"))
    assert paid.status_code == 302 and paid.headers["Location"] == f"/orders/{order_id}"
    page = _text(web.get(f"/orders/{order_id}"))
    assert "your order is paid" in page and 'class="state state-paid"' in page
    assert "Payment failed" in page  # the history keeps the declined attempt
    assert "Your wishlist is empty." in _text(web.get("/wishlist"))  # bought items leave it
    assert f"Order #{order_id}" in _text(web.get("/orders"))
    assert web.get(f"/orders/{order_id}/checkout").status_code == 302  # nothing left to pay


def test_the_shop_hands_the_card_to_payments_and_pays_the_order_with_its_token(
    shop_web, products, web, monkeypatch
):
    # The orders service never sees the card: the storefront tokenises it first (docs/security.md).
    paid_with = []
    real_pay = lifecycle.pay
    monkeypatch.setattr(
        lifecycle,
        "pay",
        lambda order_id, pay_with, *a, **kw: (
            paid_with.append(pay_with) or real_pay(order_id, pay_with, *a, **kw)
        ),
    )
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1})
    order_id = _buy(web)
    paid = web.post(f"/orders/{order_id}/pay", data=_card(GOOD_CARD, "attempt1"))
    assert paid.status_code == 302 and paid.headers["Location"] == f"/orders/{order_id}"
    [pay_with] = paid_with
    assert list(pay_with) == ["payment_method"] and pay_with["payment_method"].startswith("sbx_pm_")


def test_paying_with_htmx_redirects_the_browser_to_the_order(shop_web, products, web):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.apron}", data={"quantity": 1})
    order_id = _buy(web)
    declined = web.post(f"/orders/{order_id}/pay", data=_card(DECLINED_CARD, "a1"), headers=HX)
    assert declined.status_code == 422
    assert _text(declined).lstrip().startswith('<form id="card-form"')
    paid = web.post(f"/orders/{order_id}/pay", data=_card(GOOD_CARD, "a2"), headers=HX)
    assert paid.headers["HX-Redirect"] == f"/orders/{order_id}"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("card_number", "4242 4242 4242 4241", "not valid"),
        ("cvc", "12", "3 or 4 digits"),
        ("exp_year", "2001", "Not a valid choice"),
    ],
)
def test_card_problems_are_shown_next_to_their_field(shop_web, products, web, field, value, message):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1})
    order_id = _buy(web)
    answer = web.post(f"/orders/{order_id}/pay", data={**_card(GOOD_CARD, "k1"), field: value})
    body = _text(answer)
    assert answer.status_code == 422
    error_at = body.index(f'id="{field}-error"')
    assert message in body[error_at : error_at + 200]


def test_buying_more_than_is_left_is_refused_in_words(shop_web, products, web, live_api):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.keyboard}", data={"quantity": 26})  # the keyboard: 25 in stock
    page = _text(web.get("/wishlist"))
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)
    answer = web.post("/wishlist/buy", data={"idempotency_key": key})
    assert answer.status_code == 409
    assert "Not enough units are left" in _text(answer)


def test_another_shoppers_order_is_not_found(shop_web, products, web, shoppers):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{products.tea}", data={"quantity": 1})
    order_id = _buy(web)
    web.post("/account/logout")
    shop_web.sign_in(shoppers.verified())
    assert web.get(f"/orders/{order_id}").status_code == 404
    assert web.post(f"/orders/{order_id}/pay", data=_card(GOOD_CARD, "x1")).status_code == 404
