"""A shopper's whole journey: sign up, get the mail, confirm, sign in, refresh, sign out."""

from urllib.parse import parse_qs, urlsplit

from accounts_helpers import drain_mail, link_in, outbox_messages

from api.accounts import VERIFY_PAGE_PATH


def test_sign_up_to_log_out_over_real_smtp(smtp_server, app, client):
    assert app.config["MAIL_URL"].startswith("smtp://")
    answer = client.post(
        "/api/accounts/signup",
        json={"name": "Ada Lovelace", "email": "Ada@Example.TEST", "password": "analytical engine"},
    )
    # The same answer whether the address is new or taken (issue 12, item 8): no account data in it.
    assert answer.status_code == 202
    assert answer.json == {
        "message": "Check your e-mail: we sent a message to this address about your account."
    }
    assert smtp_server.messages == []  # the mail is a job: nothing is sent inside the request

    drain_mail(app)
    [message] = smtp_server.messages
    assert smtp_server.envelopes[0].rcpt_tos == ["ada@example.test"]
    assert message["To"] == "ada@example.test"
    assert message["From"] == app.config["MAIL_SENDER"]
    link = urlsplit(link_in(message))
    assert f"{link.scheme}://{link.netloc}" == "http://shop.test"
    token = parse_qs(link.query)["token"][0]

    credentials = {"email": "ada@example.test", "password": "analytical engine"}
    assert client.post("/api/accounts/login", json=credentials).json["error"]["code"] == "account_unverified"

    verified = client.post("/api/accounts/verify", json={"token": token})
    assert verified.status_code == 200
    assert verified.json["verified"] is True

    login = client.post("/api/accounts/login", json={**credentials, "email": "ADA@example.test"})
    assert login.status_code == 200
    assert login.json["token_type"] == "Bearer"
    me = client.get("/api/accounts/me", headers={"Authorization": f"Bearer {login.json['access_token']}"})
    assert me.status_code == 200 and me.json["email"] == "ada@example.test"

    refreshed = client.post(
        "/api/accounts/token/refresh", headers={"Authorization": f"Bearer {login.json['refresh_token']}"}
    )
    assert refreshed.status_code == 200
    assert refreshed.json["refresh_token"] != login.json["refresh_token"]
    new_refresh = {"Authorization": f"Bearer {refreshed.json['refresh_token']}"}

    assert client.post("/api/accounts/logout", headers=new_refresh).status_code == 204
    refused = client.post("/api/accounts/token/refresh", headers=new_refresh)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "token_revoked"


def test_the_link_opens_the_storefront_verify_page(app, client):
    client.post("/api/accounts/signup", json={"name": "Bo", "email": "bo@example.test", "password": "p" * 8})
    drain_mail(app)
    link = urlsplit(link_in(outbox_messages(app, to="bo@example.test")[-1]))
    assert VERIFY_PAGE_PATH == "/account/verify"
    assert link.path == "/account/verify"
    assert set(parse_qs(link.query)) == {"token"}


def test_helpers_make_verified_shoppers_and_an_operator(client, shoppers, operator):
    ada = shoppers.verified(name="Ada", email="ada@example.test")
    assert client.get("/api/accounts/me", headers=ada.headers).json == {
        "id": ada.id,
        "name": "Ada",
        "email": "ada@example.test",
        "role": "shopper",
        "verified": True,
    }
    assert client.get("/api/accounts/me", headers=operator.headers).json["role"] == "operator"
    assert shoppers.verified().email != shoppers.verified().email


def test_the_accounts_service_serves_alone_with_its_openapi_document(config):
    from yakku.factory import create_api_app

    client = create_api_app(config, services=("accounts",)).test_client()
    spec = client.get("/api/accounts/openapi.json")
    assert spec.status_code == 200
    assert {"/api/accounts/signup", "/api/accounts/login", "/api/accounts/me"} <= set(spec.json["paths"])
    assert "401" in spec.json["paths"]["/api/accounts/login"]["post"]["responses"]
