"""Login limits that nobody can turn against another shopper, and that Unicode spellings cannot dodge
(issue 12, item 5)."""

import pytest

LOGIN = "/api/accounts/login"


@pytest.fixture
def strict_login_limit(config):
    """Three login attempts a minute per address and client: request it before the apps are built."""
    config["AUTH_RATE_LIMIT"] = "3 per minute"


def browser_at(web_app, address: str):
    """A browser on its own client address (every one reaches the API through the one web host)."""
    browser = web_app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def log_in_form(browser, member, password: str | None = None):
    return browser.post(
        "/account/login", data={"email": member.email, "password": password or member.password}
    )


def test_an_attacker_cannot_lock_a_shopper_out_through_the_storefront(strict_login_limit, shop_web, web_app):
    ada = shop_web.shoppers.verified(email="ada@example.test")
    attacker = browser_at(web_app, "203.0.113.66")
    refused = [log_in_form(attacker, ada, "wrong password") for _ in range(5)]
    assert "Too many attempts" in refused[-1].get_data(as_text=True)  # the attacker is limited...

    owner = browser_at(web_app, "198.51.100.7")
    assert log_in_form(owner, ada).status_code == 302  # ...and Ada, elsewhere, still signs in


@pytest.mark.parametrize(
    "spelling", ["ada@ｅxample.test", "ada@example。test", "ＡＤＡ@example.test", " ADA@Example.TEST"]
)
def test_unicode_spellings_of_one_address_share_its_limit(strict_login_limit, client, shoppers, spelling):
    shoppers.verified(email="ada@example.test")
    for _ in range(3):
        client.post(LOGIN, json={"email": "ada@example.test", "password": "wrong password"})
    answer = client.post(LOGIN, json={"email": spelling, "password": "wrong password"})
    assert answer.status_code == 429
    assert answer.json["error"]["code"] == "too_many_requests"


def test_a_unicode_spelling_finds_the_account(client, shoppers):
    ada = shoppers.verified(email="ada@example.test")
    answer = client.post(LOGIN, json={"email": "ＡＤＡ@ｅxample。test", "password": ada.password})
    assert answer.status_code == 200


def test_a_client_address_is_believed_only_from_a_service(strict_login_limit, client, shoppers):
    shoppers.verified(email="ada@example.test")
    wrong = {"email": "ada@example.test", "password": "wrong password"}
    answers = [
        client.post(LOGIN, json=wrong, headers={"X-Client-Address": f"192.0.2.{n}"}).status_code
        for n in range(5)
    ]
    assert answers[-1] == 429  # a forged header without a service token is one client still
