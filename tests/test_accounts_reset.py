"""A forgotten password: the same answer for any address, a link by e-mail that works once and not for
long, a new password, and every session of the account ended."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from accounts_helpers import drain_mail, latest_message, link_in, outbox_messages
from cart_helpers import links_in, mail_to, verified_over_smtp
from sqlalchemy import select, update

from api.accounts.models import PasswordReset
from yakku.extensions import db
from yakku.queues import QueueName

NEW_PASSWORD = "a brand new passphrase"


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def _reset_path(app, email: str) -> str:
    """The path and query of the newest reset link mailed to `email`."""
    drain_mail(app)
    link = urlsplit(link_in(latest_message(app, email)))
    return f"{link.path}?{link.query}"


def test_a_reset_request_answers_the_same_for_a_known_and_an_unknown_address(app, client, shoppers):
    ada = shoppers.verified()
    known = client.post("/api/accounts/password/forgot", json={"email": ada.email.upper()})
    unknown = client.post("/api/accounts/password/forgot", json={"email": "nobody@example.test"})
    assert (known.status_code, known.json) == (unknown.status_code, unknown.json)
    assert known.status_code == 202
    with app.app_context():
        jobs = app.extensions["yakku.rq"][QueueName.MAIL].get_jobs()
        assert [job.description for job in jobs] == ["send_email: Reset your Yakku password"]  # no link
    path = _reset_path(app, ada.email)
    token = path.partition("token=")[2]
    assert path.startswith("/account/reset?token=") and len(token) >= 40
    assert outbox_messages(app, to="nobody@example.test") == []
    with app.app_context():  # the database keeps the token's hash, never the token
        stored = db.session.scalars(select(PasswordReset.token_hash)).all()
        assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


def test_a_reset_link_works_once_and_ends_every_session(shop_web, app, web, web_app, client, shoppers):
    ada = shop_web.sign_in()
    other_device = web_app.test_client()
    shop_web.web = other_device
    shop_web.sign_in(ada)
    shoppers.log_in(ada)  # and a pair held by an API client
    asked = web.post("/account/password/forgot", data={"email": ada.email})
    assert asked.status_code == 302 and ada.email in _text(web.get(asked.headers["Location"]))

    link = _reset_path(app, ada.email)
    form = web.get(link)
    assert form.status_code == 200 and "Choose a new password" in _text(form)
    assert form.headers["Cache-Control"] == "no-store"
    token = link.partition("token=")[2]
    done = web.post("/account/reset", data={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/account/login"
    assert "signed out everywhere" in _text(web.get("/account/login"))

    # every session ended: the other browser is sent to log in, the API pair is refused
    assert other_device.get("/account").headers["Location"].startswith("/account/login")
    assert shoppers.refresh(ada).status_code == 401
    assert shoppers.me(ada).status_code == 401
    # the link is spent, and says so readably; the new password is the one that works
    again = web.get(link)
    assert again.status_code == 400 and "used already" in _text(again)
    reused = web.post("/account/reset", data={"token": token, "password": "yet another passphrase"})
    assert reused.status_code == 400 and "used already" in _text(reused)
    old = client.post("/api/accounts/login", json={"email": ada.email, "password": ada.password})
    assert old.status_code == 401
    ada.password = NEW_PASSWORD
    assert shoppers.log_in(ada).access_token


def test_an_expired_reset_link_is_refused_and_offers_a_new_one(shop_web, app, web, client, shoppers):
    ada = shoppers.verified()
    client.post("/api/accounts/password/forgot", json={"email": ada.email})
    link = _reset_path(app, ada.email)
    with app.app_context():  # sent longer ago than PASSWORD_RESET_MAX_AGE
        db.session.execute(update(PasswordReset).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    page = web.get(link)
    assert page.status_code == 400 and "expired" in _text(page) and "Send me a new link" in _text(page)
    token = link.partition("token=")[2]
    refused = client.post("/api/accounts/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert refused.status_code == 410 and refused.json["error"]["code"] == "link_expired"
    assert (
        client.post("/api/accounts/login", json={"email": ada.email, "password": ada.password}).status_code
        == 200
    )


def test_a_made_up_reset_link_is_not_valid(shop_web, web, client):
    assert "not valid" in _text(web.get("/account/reset?token=made-up"))
    assert "not valid" in _text(web.get("/account/reset"))
    answer = client.post("/api/accounts/password/reset", json={"token": "made-up", "password": NEW_PASSWORD})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "link_invalid"


def test_following_a_reset_link_confirms_an_unverified_address(app, client, shoppers):
    bo = shoppers.unverified()
    client.post("/api/accounts/password/forgot", json={"email": bo.email})
    token = _reset_path(app, bo.email).partition("token=")[2]
    assert (
        client.post(
            "/api/accounts/password/reset", json={"token": token, "password": NEW_PASSWORD}
        ).status_code
        == 204
    )
    bo.password = NEW_PASSWORD
    assert shoppers.log_in(bo).access_token


def test_reset_requests_are_limited_per_address_and_client_like_login(config, app, client):
    app.config["AUTH_RATE_LIMIT"] = "2 per minute"
    ask = lambda email: client.post("/api/accounts/password/forgot", json={"email": email}).status_code  # noqa: E731
    assert [ask("ada@example.test") for _ in range(3)] == [202, 202, 429]
    assert ask("ADA@example.test") == 429  # one counter for every spelling of the address
    assert ask("bo@example.test") == 202


def test_a_reset_link_arrives_over_smtp_and_opens_the_reset_page(smtp_server, shop_web, web):
    ada = shop_web.sign_in(verified_over_smtp(shop_web, smtp_server))
    web.post("/account/password/forgot", data={"email": ada.email})
    message = mail_to(shop_web, smtp_server, ada.email)[-1]
    assert message["Subject"] == "Reset your Yakku password"
    link = urlsplit(links_in(message)[0])
    page = web.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and "Choose a new password" in _text(page)
