"""Action helpers for the cart and the checkout through the storefront, and for mail over real SMTP.

def test_something(smtp_server, shop_web, web):
    shop_web.sign_in(verified_over_smtp(shop_web, smtp_server))
    add_to_cart(web, tea, 2)
    order_id = check_out(web)
    pay(web, order_id, GOOD_CARD)
    [mail] = mail_to(shop_web, smtp_server, "shopper1@example.test")
"""

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

from accounts_helpers import LINK, drain_mail

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
NO_FUNDS_CARD = "4000 0000 0000 9995"
DELIVERY = {
    "recipient": "Ada Lovelace",
    "phone": "010-1234-5678",
    "postal_code": "04524",
    "address": "110 Sejong-daero, Jung-gu, Seoul",
    "address_detail": "Apt 1203",
}


def text_of(answer) -> str:
    return answer.get_data(as_text=True)


def hidden_key(page: str) -> str:
    """The fresh idempotency key a rendered form carries."""
    return re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)


def add_to_cart(web, product_id: int, quantity: int = 1, **headers):
    """Post the product page's "Add to cart" form."""
    return web.post(f"/cart/items/{product_id}", data={"quantity": quantity}, headers=headers)


def check_out(web) -> int:
    """Press "Check out" on the cart page; the id of the order it made."""
    key = hidden_key(text_of(web.get("/cart")))
    answer = web.post("/cart/checkout", data={"idempotency_key": key})
    assert answer.status_code == 302, text_of(answer)
    return int(re.fullmatch(r"/orders/(\d+)/checkout", answer.headers["Location"]).group(1))


def checkout_form(number: str, key: str = "attempt1", **changes) -> dict:
    """The checkout form filled in: delivery, then a card valid until next year."""
    card = {"card_number": number, "exp_month": "12", "exp_year": str(date.today().year + 1), "cvc": "123"}
    return {**DELIVERY, **card, "idempotency_key": key, **changes}


def pay(web, order_id: int, number: str = GOOD_CARD, **changes):
    """Submit the order's checkout form."""
    return web.post(f"/orders/{order_id}/pay", data=checkout_form(number, **changes))


def verified_over_smtp(shop_web, smtp_server):
    """A verified shopper whose verification mail went through the SMTP server (not the file outbox)."""
    shoppers = shop_web.shoppers
    member = shoppers.unverified()
    link = links_in(mail_to(shop_web, smtp_server, member.email)[-1])[0]
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert shoppers.client.post("/api/accounts/verify", json={"token": token}).status_code == 200
    return shoppers.log_in(member)


def mail_to(shop_web, smtp_server, address: str) -> list:
    """Deliver the queued mail as a worker would; the messages the SMTP server got for `address`."""
    drain_mail(shop_web.api_app)
    return [m for m in smtp_server.messages if m["To"].lower() == address.lower()]


def links_in(message) -> list[str]:
    """The URLs in a message's plain-text part."""
    return LINK.findall(message.get_body(preferencelist=("plain",)).get_content())
