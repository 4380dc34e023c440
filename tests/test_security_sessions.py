"""Logging out (or deleting the account) ends every copy of the storefront session (issue 12, item 2)."""

import pytest
from security_helpers import copy_of_cookie, open_sale, rotate_tokens, sent_to_log_in

from admission import lookup

SHOPPER_PAGES = [
    ("GET", "/orders"),
    ("GET", "/orders/1"),
    ("GET", "/orders/1/checkout"),
    ("POST", "/orders/1/pay"),
    ("GET", "/wishlist"),
    ("POST", "/wishlist/items/{product}"),
    ("POST", "/wishlist/buy"),
    ("POST", "/sales/{sale}/join"),
    ("GET", "/sales/{sale}/wait"),
    ("POST", "/sales/{sale}/checkout"),
    ("GET", "/account/delete"),
]
OPS_PAGES = [
    ("GET", "/ops"),
    ("GET", "/ops/queues"),
    ("GET", "/ops/sales/new"),
    ("POST", "/ops/sales/{sale}/close"),
]


def visit(browser, method: str, path: str):
    return browser.open(path, method=method)


@pytest.mark.parametrize(("method", "path"), SHOPPER_PAGES, ids=[f"{m} {p}" for m, p in SHOPPER_PAGES])
def test_a_copied_cookie_is_refused_after_logout(app, web_app, web, shop_web, method, path):
    sale_id = open_sale(app, shop_web)
    ada = shop_web.sign_in()
    thief = copy_of_cookie(web, web_app)
    assert web.post("/account/logout").status_code == 302

    answer = visit(thief, method, path.format(sale=sale_id, product=shop_web.ids["Canvas"]))
    assert sent_to_log_in(answer), answer.get_data(as_text=True)[:300]
    with app.app_context():
        assert lookup.waiter_state(sale_id, ada.id) is None  # the copy joined nothing
    assert "Log out" not in thief.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), OPS_PAGES, ids=[f"{m} {p}" for m, p in OPS_PAGES])
def test_a_copied_operator_cookie_is_refused_by_the_dashboard_after_logout(
    app, web_app, web, shop_web, operator, method, path
):
    sale_id = open_sale(app, shop_web)
    shop_web.sign_in(operator)
    thief = copy_of_cookie(web, web_app)
    assert web.get("/ops/queues").status_code == 200
    web.post("/account/logout")

    assert sent_to_log_in(visit(thief, method, path.format(sale=sale_id)))


def test_the_copy_of_a_session_that_rotated_its_tokens_is_refused_too(web_app, web, shop_web):
    shop_web.sign_in()
    thief = copy_of_cookie(web, web_app)  # holds the first access token, which logout does not name
    rotate_tokens(web, web_app)
    web.post("/account/logout")

    assert sent_to_log_in(thief.get("/orders"))


def test_deleting_the_account_ends_its_sessions_on_every_device(web_app, web, shop_web):
    ada = shop_web.sign_in()
    phone = web_app.test_client()
    phone.post("/account/login", data={"email": ada.email, "password": ada.password})
    assert phone.get("/orders").status_code == 200

    wrong = web.post("/account/delete", data={"password": "not the password"})
    assert wrong.status_code == 422 and "The password is wrong." in wrong.get_data(as_text=True)
    answer = web.post("/account/delete", data={"password": ada.password})
    assert answer.status_code == 302
    assert "Your account is deleted" in web.get("/").get_data(as_text=True)

    assert sent_to_log_in(phone.get("/orders"))
    again = web.post("/account/login", data={"email": ada.email, "password": ada.password})
    assert again.status_code == 422  # no such account any more


def test_the_role_comes_from_the_token_not_from_the_cookie(web, shop_web):
    shop_web.sign_in()
    with web.session_transaction() as cookie:
        cookie["account"] = {**cookie["account"], "role": "operator"}
    answer = web.get("/ops")
    assert answer.status_code == 403
