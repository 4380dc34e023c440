"""Small things a shopper notices: every sign-up problem at once, the greeting, the wishlist's badge."""

import re

from cart_helpers import text_of


def test_sign_up_shows_every_problem_in_one_pass(shop_web, web):
    answer = web.post("/account/signup", data={"name": "", "email": "not-an-address", "password": "short"})
    body = text_of(answer)
    assert answer.status_code == 422
    for field in ("name", "email", "password"):
        assert f'id="{field}-error"' in body, field
    assert "An e-mail address must have an @-sign." in body  # one spelling, also in the library's words


def test_a_first_login_says_welcome_and_the_next_one_welcome_back(shop_web, web):
    ada = shop_web.shoppers.verified(name="Ada")
    shop_web.sign_in(ada)
    assert "Welcome, Ada." in text_of(web.get("/"))
    web.post("/account/logout")
    shop_web.sign_in(ada)
    assert "Welcome back, Ada." in text_of(web.get("/"))


def test_the_wishlist_badge_counts_units(shop_web, web):
    shop_web.sign_in()
    web.post(f"/wishlist/items/{shop_web.ids['Jeju']}", data={"quantity": 2})
    web.post(f"/wishlist/items/{shop_web.ids['Linen']}", data={"quantity": 1})
    page = text_of(web.get("/wishlist"))
    assert re.search(r'id="wishlist-count"[^>]*><span class="visually-hidden"> \(</span>3<', page)


def test_the_phone_header_keeps_the_catalog_link(shop_web, web):
    page = text_of(web.get("/"))
    assert 'class="nav-link nav-catalog"' in page
    css = text_of(web.get("/static/css/yakku.css"))
    assert ".nav-catalog { display: none" not in css
