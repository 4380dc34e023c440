"""Bad input to every accounts endpoint answers the stable error shape and changes nothing."""

import pytest

from api.accounts.models import Account
from yakku.extensions import db

GOOD = {"name": "Ada", "email": "ada@example.test", "password": "correct horse battery"}
HUGE = "x" * 100_000

SIGNUP_CASES = [
    ({}, {"name", "email", "password"}),
    ({**GOOD, "name": None}, {"name"}),
    ({"email": GOOD["email"], "password": GOOD["password"]}, {"name"}),
    ({**GOOD, "name": 42}, {"name"}),
    ({**GOOD, "name": ""}, {"name"}),
    ({**GOOD, "name": "   "}, {"name"}),
    ({**GOOD, "name": "n" * 101}, {"name"}),
    ({**GOOD, "name": HUGE}, {"name"}),
    ({**GOOD, "email": "not-an-e-mail"}, {"email"}),
    ({**GOOD, "email": "ada@"}, {"email"}),
    ({**GOOD, "email": ["ada@example.test"]}, {"email"}),
    ({**GOOD, "email": "a" * 64 + "@" + "b" * 190 + ".test"}, {"email"}),
    ({**GOOD, "email": HUGE + "@example.test"}, {"email"}),
    ({**GOOD, "password": "short"}, {"password"}),
    ({**GOOD, "password": "p" * 129}, {"password"}),
    ({**GOOD, "password": 12345678}, {"password"}),
    ({**GOOD, "password": HUGE}, {"password"}),
    ({**GOOD, "role": "operator"}, {"role"}),
]


def assert_error_shape(answer, status=422, fields=None):
    assert answer.status_code == status, answer.json
    assert set(answer.json) == {"error"}
    error = answer.json["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]
    if status == 422:
        assert error["code"] == "validation_error"
    if fields is not None:
        assert set(error["fields"]) == fields


def account_count(app) -> int:
    with app.app_context():
        return db.session.query(Account).count()


@pytest.mark.parametrize(("body", "fields"), SIGNUP_CASES)
def test_signup_refuses_bad_input(app, client, body, fields):
    assert_error_shape(client.post("/api/accounts/signup", json=body), fields=fields)
    assert account_count(app) == 0


@pytest.mark.parametrize("path", ["/api/accounts/signup", "/api/accounts/login", "/api/accounts/verify"])
@pytest.mark.parametrize(
    "send",
    [
        {"data": "name=Ada", "content_type": "application/x-www-form-urlencoded"},
        {"data": "{not json", "content_type": "application/json"},
        {"json": ["a", "list"]},
        {"json": "a string"},
    ],
    ids=["form", "broken-json", "list", "string"],
)
def test_non_object_bodies_are_refused(app, client, path, send):
    answer = client.post(path, **send)
    assert_error_shape(answer, status=answer.status_code)
    assert 400 <= answer.status_code < 500
    assert account_count(app) == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "ada@example.test"},
        {"password": "whatever"},
        {"email": "not-an-e-mail", "password": "whatever"},
        {"email": 7, "password": "whatever"},
        {"email": "ada@example.test", "password": ""},
        {"email": "ada@example.test", "password": "p" * 129},
        {"email": "ada@example.test", "password": HUGE},
        {"email": "ada@example.test", "password": ["a"]},
    ],
)
def test_login_refuses_bad_input(client, shoppers, body):
    shoppers.verified(email="ada@example.test")
    assert_error_shape(client.post("/api/accounts/login", json=body))


@pytest.mark.parametrize("body", [{}, {"token": 5}, {"token": ""}, {"token": HUGE}, {"token": None}])
def test_verify_refuses_bad_input(client, body):
    assert_error_shape(client.post("/api/accounts/verify", json=body), fields={"token"})


@pytest.mark.parametrize("body", [{}, {"email": "nope"}, {"email": 1}, {"email": HUGE}])
def test_resend_refuses_bad_input(client, body):
    assert_error_shape(client.post("/api/accounts/verification/resend", json=body), fields={"email"})


@pytest.mark.parametrize("body", [{"access_token": 5}, {"access_token": ""}, {"access_token": HUGE}])
def test_logout_refuses_bad_input_and_keeps_the_session(client, shoppers, body):
    ada = shoppers.verified()
    assert_error_shape(client.post("/api/accounts/logout", json=body, headers=ada.refresh_headers))
    assert client.post("/api/accounts/token/refresh", headers=ada.refresh_headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**GOOD, "name": " "}, {"name"}),
        ({**GOOD, "email": "bad"}, {"email"}),
        ({**GOOD, "password": "short"}, {"password"}),
    ],
)
def test_create_operator_checks_its_input_too(app, body, fields):
    from api.accounts import create_operator
    from api.accounts.exceptions import InvalidAccountData

    with app.app_context(), pytest.raises(InvalidAccountData) as raised:
        create_operator(body["name"], body["email"], body["password"])
    assert set(raised.value.fields) == fields
    assert account_count(app) == 0


@pytest.fixture
def strict_rate_limit(config):
    """Three tries a minute; request it before `app` so the app is built with it."""
    config["AUTH_RATE_LIMIT"] = "3 per minute"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/accounts/login", {"email": "ada@example.test", "password": "wrong password"}),
        ("/api/accounts/signup", GOOD),
        ("/api/accounts/verification/resend", {"email": "ada@example.test"}),
    ],
)
def test_auth_endpoints_are_rate_limited(strict_rate_limit, app, client, path, body):
    assert app.config["AUTH_RATE_LIMIT"] == "3 per minute"
    statuses = [client.post(path, json=body).status_code for _ in range(3)]
    assert 429 not in statuses
    limited = client.post(path, json=body)
    assert_error_shape(limited, status=429)
    assert limited.json["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    # Other endpoints keep their own allowance.
    assert client.post("/api/accounts/verify", json={"token": "x"}).status_code == 400


def test_one_shoppers_failed_logins_do_not_lock_out_another(strict_rate_limit, app, client, shoppers):
    # Through the storefront every login comes from the web host's address: counted per e-mail too.
    member = shoppers.verified()
    for _ in range(4):
        client.post("/api/accounts/login", json={"email": "mallory@example.test", "password": "guess guess"})
    answer = client.post("/api/accounts/login", json={"email": member.email, "password": member.password})
    assert answer.status_code == 200
