"""The account page: name, e-mail address (moved only once the new one is proved), password, addresses,
recent orders and the way to delete the account."""

from urllib.parse import urlsplit

from accounts_helpers import drain_mail, latest_message, link_in
from cart_helpers import DELIVERY, text_of


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _delivered_order(shop, member) -> dict:
    """An order of the member's that says where it goes."""
    lamp = shop.product(price=12_000)
    order = shop.order(member, {lamp["id"]: 1}).json()
    answer = shop.http.put(
        f"{shop.url}/api/orders/{order['id']}/delivery", json=DELIVERY, headers=member.headers
    )
    assert answer.status_code == 200, answer.text
    return order


def test_the_account_page_shows_details_addresses_orders_and_the_way_out(shop_web, shop, web):
    ada = shop_web.sign_in()
    order = _delivered_order(shop, ada)
    page = web.get("/account")
    assert page.status_code == 200
    text = text_of(page)
    assert ada.email in text and f'value="{ada.name}"' in text
    assert "Change my e-mail address" in text and "Change my password" in text
    assert DELIVERY["address"] in text and "Make default" in text
    assert f'href="/orders/{order["id"]}"' in text and f"Order #{order['id']}" in text
    assert 'href="/account/delete"' in text
    assert web.get("/").status_code == 200 and 'href="/account"' in text_of(web.get("/"))


def test_the_account_page_is_for_signed_in_shoppers(shop_web, web):
    answer = web.get("/account")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/account/login?next=/account")


def test_a_new_name_is_kept_and_greets_at_once(shop_web, shoppers, web):
    ada = shop_web.sign_in()
    assert web.post("/account/name", data={"name": "   "}).status_code == 422
    assert web.post("/account/name", data={"name": "Ada King"}).status_code == 302
    assert 'title="Log out Ada King"' in text_of(web.get("/account"))
    assert shoppers.me(ada).json["name"] == "Ada King"


def test_a_new_email_address_counts_only_once_its_link_is_followed(shop_web, app, client, shoppers, web):
    ada = shop_web.sign_in()
    new = "ada.king@example.test"
    wrong = web.post("/account/email", data={"email": new, "password": "not the password"})
    assert wrong.status_code == 422 and "The password is wrong." in text_of(wrong)
    asked = web.post("/account/email", data={"email": new, "password": ada.password})
    assert asked.status_code == 302 and f"We sent a link to {new}" in text_of(web.get("/account"))
    # until the new address proves itself, the account keeps the old one
    assert shoppers.me(ada).json["email"] == ada.email
    drain_mail(app)
    link = _path(link_in(latest_message(app, new)))
    assert link.startswith("/account/email/confirm?token=")

    confirmed = web.get(link)
    assert confirmed.status_code == 200 and f"Your account now uses <strong>{new}</strong>" in text_of(
        confirmed
    )
    assert new in text_of(web.get("/account"))
    drain_mail(app)
    assert "changed" in latest_message(app, ada.email)["Subject"]  # the old address is told
    assert web.get(link).status_code == 400  # once
    logins = [
        client.post("/api/accounts/login", json={"email": email, "password": ada.password}).status_code
        for email in (ada.email, new)
    ]
    assert logins == [401, 200]


def test_moving_to_an_address_with_an_account_looks_the_same_and_tells_its_owner(
    shop_web, app, shoppers, web
):
    ada, bo = shop_web.sign_in(), shoppers.verified()
    asked = web.post("/account/email", data={"email": bo.email, "password": ada.password})
    assert asked.status_code == 302 and f"We sent a link to {bo.email}" in text_of(web.get("/account"))
    drain_mail(app)
    assert latest_message(app, bo.email)["Subject"] == "Someone tried to move a Yakku account to this address"
    assert shoppers.me(ada).json["email"] == ada.email
    same = web.post("/account/email", data={"email": ada.email.upper(), "password": ada.password})
    assert same.status_code == 422 and "already your e-mail address" in text_of(same)


def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(
    shop_web, client, shoppers, web, web_app
):
    ada = shop_web.sign_in()
    phone = web_app.test_client()
    shop_web.web = phone
    shop_web.sign_in(ada)
    form = {"current_password": "not the password", "new_password": "a brand new passphrase"}
    wrong = web.post("/account/password", data=form)
    assert wrong.status_code == 422 and "The password is wrong." in text_of(wrong)
    short = web.post("/account/password", data={"current_password": ada.password, "new_password": "short"})
    assert short.status_code == 422 and "8 to 128 characters" in text_of(short)

    changed = web.post("/account/password", data={**form, "current_password": ada.password})
    assert changed.status_code == 302
    here = web.get("/account")
    assert here.status_code == 200 and "Your other devices are signed out." in text_of(here)  # this one stays
    assert phone.get("/account").headers["Location"].startswith("/account/login")
    assert shoppers.refresh(ada).status_code == 401
    logins = [
        client.post("/api/accounts/login", json={"email": ada.email, "password": password}).status_code
        for password in (ada.password, form["new_password"])
    ]
    assert logins == [401, 200]


def test_a_default_address_is_kept_for_the_next_checkout_and_can_be_forgotten(shop_web, shop, web):
    ada = shop_web.sign_in()
    _delivered_order(shop, ada)
    home = {**DELIVERY, "address": "24 Jahamun-ro, Jongno-gu, Seoul", "address_detail": ""}
    bad = web.post("/account/addresses/default", data={**home, "postal_code": "123"})
    assert bad.status_code == 422 and "5-digit postal code" in text_of(bad)
    assert web.post("/account/addresses/default", data=home).status_code == 302
    assert "Default address" in text_of(web.get("/account")) and "Forget this default" in text_of(
        web.get("/account")
    )
    assert shop.get(ada, "/api/orders/delivery/latest").json() == home
    # the next order's checkout starts from it, not from the last order's address
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    assert home["address"] in text_of(web.get(f"/orders/{order['id']}/checkout"))
    used = shop.get(ada, "/api/orders/delivery/addresses").json()
    assert used == {"default": home, "used": [DELIVERY]}

    assert web.post("/account/addresses/default/forget").status_code == 302
    assert shop.get(ada, "/api/orders/delivery/latest").json() == DELIVERY
    assert "None yet" in text_of(web.get("/account"))
