"""Sign-up, the e-mail link, login and logout through the storefront's forms; tokens refreshed once."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from accounts_helpers import DEFAULT_PASSWORD, drain_mail, link_in, outbox_messages
from flask_jwt_extended import create_access_token


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def _verify_path(app, email: str) -> str:
    drain_mail(app)
    link = urlsplit(link_in(outbox_messages(app, to=email)[-1]))
    return f"{link.path}?{link.query}"


def test_sign_up_check_mail_verify_and_log_in(shop_web, app, web):
    answer = web.post(
        "/account/signup", data={"name": "Ada", "email": "ada@example.test", "password": DEFAULT_PASSWORD}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/check-email"
    assert "ada@example.test" in _text(web.get("/account/check-email"))

    verify = _verify_path(app, "ada@example.test")
    assert verify.startswith("/account/verify?token=")
    confirmed = web.get(verify)
    assert confirmed.status_code == 200 and "Your address is confirmed" in _text(confirmed)
    again = web.get(verify)
    assert again.status_code == 400 and "already been used" in _text(again)

    login = web.post("/account/login", data={"email": "ada@example.test", "password": DEFAULT_PASSWORD})
    assert login.status_code == 302 and login.headers["Location"] == "/"
    home = _text(web.get("/"))
    assert "Welcome, Ada." in home and "Log out" in home  # a first login: not "Welcome back"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "email": "a@example.test", "password": DEFAULT_PASSWORD}, "name", "Enter your name."),
        ({"name": "Bo", "email": "a@example.test", "password": "short"}, "password", "8 to 128 characters"),
        ({"name": "Bo", "email": "not-an-address", "password": DEFAULT_PASSWORD}, "email", "@"),
    ],
)
def test_sign_up_shows_each_problem_next_to_its_field(shop_web, web, data, field, message):
    answer = web.post("/account/signup", data=data)
    body = _text(answer)
    assert answer.status_code == 422
    error_at = body.index(f'id="{field}-error"')
    assert message in body[error_at : error_at + 300]
    assert f'aria-describedby="{field}-error"' in body or f"{field}-hint {field}-error" in body


def test_a_taken_address_is_not_told_apart_from_a_new_one(shop_web, shoppers, web):
    # It used to be refused in words ("already exists"): that told anyone which addresses have an
    # account (issue 12, item 8). Both now go to "check your e-mail"; the owner is told by mail.
    taken = shoppers.verified()
    answer = web.post(
        "/account/signup", data={"name": "X", "email": taken.email, "password": DEFAULT_PASSWORD}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/account/check-email")


@pytest.fixture
def expiring_links(config):
    """Every verification link is already out of date."""
    config["VERIFICATION_MAX_AGE"] = -1


@pytest.mark.parametrize(
    ("token", "message"),
    [("", "not valid"), ("forged.token.value", "not valid")],
)
def test_bad_links_explain_and_offer_a_new_one(shop_web, web, token, message):
    answer = web.get(f"/account/verify?token={token}")
    assert answer.status_code == 400
    assert message in _text(answer) and "Send a new link" in _text(answer)


def test_an_expired_link_says_so_and_a_new_one_can_be_sent(expiring_links, shop_web, app, shoppers, web):
    member = shoppers.unverified()
    answer = web.get(_verify_path(app, member.email))
    assert answer.status_code == 400 and "expired" in _text(answer)
    resent = web.post("/account/verification/resend", data={"email": member.email})
    assert resent.status_code == 302 and resent.headers["Location"] == "/account/check-email"
    drain_mail(app)
    assert len(outbox_messages(app, to=member.email)) == 2


def test_wrong_password_and_unverified_account_are_told_apart(shop_web, shoppers, web):
    verified = shoppers.verified()
    wrong = web.post("/account/login", data={"email": verified.email, "password": "not the password"})
    assert wrong.status_code == 422
    assert 'id="password-error"' in _text(wrong) and "is wrong" in _text(wrong)

    pending = shoppers.unverified()
    unverified = web.post("/account/login", data={"email": pending.email, "password": pending.password})
    assert unverified.status_code == 422
    assert "Confirm your e-mail address first" in _text(unverified)
    assert "Send a new link" in _text(unverified)


@pytest.mark.parametrize(("next_path", "landing"), [("/wishlist", "/wishlist"), ("https://evil.test/", "/")])
def test_login_returns_to_the_page_asked_for_and_only_on_this_site(
    shop_web, shoppers, web, next_path, landing
):
    member = shoppers.verified()
    data = {"email": member.email, "password": member.password, "next": next_path}
    assert web.post("/account/login", data=data).headers["Location"] == landing


def test_log_out_revokes_the_tokens(shop_web, client, web):
    shop_web.sign_in()
    with web.session_transaction() as session:
        refresh = session["tokens"]["refresh"]
    answer = web.post("/account/logout")
    assert answer.status_code == 302
    assert "You are logged out." in _text(web.get("/"))
    with web.session_transaction() as session:
        assert "tokens" not in session
    refused = client.post("/api/accounts/token/refresh", headers={"Authorization": f"Bearer {refresh}"})
    assert refused.status_code == 401


def _expire_access_token(live_api, web, member) -> None:
    with live_api.test_request_context():
        expired = create_access_token(
            str(member.id), additional_claims={"role": "shopper"}, expires_delta=timedelta(seconds=-10)
        )
    with web.session_transaction() as session:
        session["tokens"] = {**session["tokens"], "access": expired}


def test_an_expired_access_token_is_refreshed_once_and_the_page_served(shop_web, live_api, web):
    member = shop_web.sign_in()
    with web.session_transaction() as session:
        old_refresh = session["tokens"]["refresh"]
    _expire_access_token(live_api, web, member)
    answer = web.get("/wishlist")
    assert answer.status_code == 200 and "Your wishlist" in _text(answer)
    with web.session_transaction() as session:
        assert session["tokens"]["refresh"] != old_refresh


def test_a_session_that_cannot_be_refreshed_ends_with_a_message(shop_web, live_api, web):
    member = shop_web.sign_in()
    _expire_access_token(live_api, web, member)
    with web.session_transaction() as session:
        session["tokens"] = {**session["tokens"], "refresh": "not-a-token"}
    answer = web.get("/wishlist")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/account/login?next=/wishlist")
    assert "Your session has ended" in _text(web.get(answer.headers["Location"]))
    assert "Log out" not in _text(web.get("/"))


def test_htmx_requests_with_an_ended_session_are_sent_to_log_in(shop_web, live_api, web):
    member = shop_web.sign_in()
    _expire_access_token(live_api, web, member)
    with web.session_transaction() as session:
        session["tokens"] = {**session["tokens"], "refresh": "not-a-token"}
    answer = web.post("/wishlist/items/1", data={"quantity": 1}, headers={"HX-Request": "true"})
    assert answer.headers["HX-Redirect"].startswith("/account/login")


def test_the_storefront_limits_login_attempts_per_client_with_a_readable_page(live_api, config, web_app):
    web_app.config["WEB_AUTH_RATE_LIMIT"] = "2 per minute"
    browser = web_app.test_client()
    form = {"email": "someone@example.test", "password": "not the password"}
    first = [browser.post("/account/login", data=form).status_code for _ in range(2)]
    assert 429 not in first
    limited = browser.post("/account/login", data=form)
    assert limited.status_code == 429
    assert b"Slow down" in limited.data and b'{"error"' not in limited.data
    assert browser.get("/account/login").status_code == 200  # looking at the form is never limited
