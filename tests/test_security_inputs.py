"""Inputs that used to crash or cost: JSON nested deep, bodies of many megabytes (issue 12, item 4)."""

import pytest

DEEP = "[" * 20_000 + "]" * 20_000
JSON_ENDPOINTS = [
    "/api/accounts/login",
    "/api/accounts/signup",
    "/api/accounts/verify",
    "/api/orders",
    "/api/wishlist/items",
]


def posted(client, path: str, body: bytes | str, headers: dict | None = None):
    return client.post(path, data=body, content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_json_nested_20000_deep_is_a_bad_request_not_a_crash(client, shoppers, path, caplog):
    ada = shoppers.verified()
    answer = posted(client, path, DEEP, ada.headers)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "bad_request"
    assert "Traceback" not in caplog.text


def test_json_a_little_too_deep_is_refused_too(client):
    answer = posted(client, "/api/accounts/login", '{"email": ' + "[" * 40 + "]" * 40 + "}")
    assert (answer.status_code, answer.json["error"]["code"]) == (400, "bad_request")


@pytest.mark.parametrize("body", [b"\xff\xfe{", b'{"email": "a@b.test", ', b"nan"], ids=repr)
def test_malformed_json_is_a_bad_request(client, body):
    answer = posted(client, "/api/accounts/login", body)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "bad_request"


def test_a_20_mb_body_is_refused_unread(client):
    body = b'{"email": "' + b"a" * (20 * 1024 * 1024) + b'"}'
    answer = posted(client, "/api/accounts/login", body)
    assert answer.status_code == 413
    assert set(answer.json["error"]) == {"code", "message", "fields"}


def test_a_20_mb_form_is_refused_by_the_storefront(web):
    answer = web.post("/account/login", data={"email": "a" * (20 * 1024 * 1024), "password": "x"})
    assert answer.status_code == 413
