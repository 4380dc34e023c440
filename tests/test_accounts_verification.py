"""Verification links: signed, time-limited, single-use, replaced by a resend; resend reveals no one."""

import time

import pytest
from accounts_helpers import drain_mail, outbox_messages, token_in
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from api.accounts.models import Account
from yakku.extensions import db

PASSWORD = "correct horse battery"
RESEND = "/api/accounts/verification/resend"


def newest_token(app, email: str) -> str:
    drain_mail(app)
    return token_in(outbox_messages(app, to=email)[-1])


class PastSigner(TimestampSigner):
    """Signs as if three days ago."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 3 * 24 * 3600


def forged_token(app, member, *, secret: str | None = None, salt: str = "verify-email", past=False, **claims):
    signer = PastSigner if past else TimestampSigner
    serializer = URLSafeTimedSerializer(secret or app.config["SECRET_KEY"], salt=salt, signer=signer)
    return serializer.dumps({"id": member.id, "email": member.email, "round": 0, **claims})


def test_a_link_verifies_once(app, client, shoppers):
    ada = shoppers.unverified(email="ada@example.test")
    token = newest_token(app, ada.email)
    assert client.post("/api/accounts/verify", json={"token": token}).status_code == 200
    again = client.post("/api/accounts/verify", json={"token": token})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "link_used"


@pytest.mark.parametrize(
    ("forge", "status", "code"),
    [
        (dict(past=True), 410, "link_expired"),
        (dict(secret="another-deployments-key"), 400, "link_invalid"),
        (dict(salt="another-purpose"), 400, "link_invalid"),
        (dict(email="someone.else@example.test"), 400, "link_invalid"),
        (dict(id=999_999), 400, "link_invalid"),
        (dict(round=1), 409, "link_used"),
    ],
    ids=["expired", "wrong-key", "wrong-salt", "other-email", "no-such-account", "future-round"],
)
def test_forged_or_stale_links_are_refused(app, client, shoppers, forge, status, code):
    ada = shoppers.unverified(email="ada@example.test")
    answer = client.post("/api/accounts/verify", json={"token": forged_token(app, ada, **forge)})
    assert answer.status_code == status
    assert answer.json["error"]["code"] == code
    with app.app_context():
        assert db.session.get(Account, ada.id).verified_at is None


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJpZCI6MX0.AAAA.BBBB"])
def test_malformed_tokens_are_invalid(client, token):
    answer = client.post("/api/accounts/verify", json={"token": token})
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "link_invalid"


def test_tiny_max_age_expires_a_real_link(app, client, shoppers, config):
    ada = shoppers.unverified(email="ada@example.test")
    token = newest_token(app, ada.email)
    app.config["VERIFICATION_MAX_AGE"] = -1  # any age is now too old
    answer = client.post("/api/accounts/verify", json={"token": token})
    assert (answer.status_code, answer.json["error"]["code"]) == (410, "link_expired")


def test_a_resend_replaces_the_older_link(app, client, shoppers):
    ada = shoppers.unverified(email="ada@example.test")
    first = newest_token(app, ada.email)
    assert client.post(RESEND, json={"email": "ADA@example.test"}).status_code == 202
    second = newest_token(app, ada.email)
    assert second != first
    old = client.post("/api/accounts/verify", json={"token": first})
    assert (old.status_code, old.json["error"]["code"]) == (409, "link_used")
    assert client.post("/api/accounts/verify", json={"token": second}).json["verified"] is True


def test_resend_answers_alike_whoever_asks(app, client, shoppers):
    waiting = shoppers.unverified(email="waiting@example.test")
    done = shoppers.verified(email="done@example.test")
    drain_mail(app)
    before = {address: len(outbox_messages(app, to=address)) for address in (waiting.email, done.email)}

    answers = [
        client.post(RESEND, json={"email": address})
        for address in (waiting.email, done.email, "nobody@example.test")
    ]
    assert {a.status_code for a in answers} == {202}
    assert answers[0].json == answers[1].json == answers[2].json
    drain_mail(app)
    assert len(outbox_messages(app, to=waiting.email)) == before[waiting.email] + 1
    assert len(outbox_messages(app, to=done.email)) == before[done.email]
    assert outbox_messages(app, to="nobody@example.test") == []


def test_verifying_an_already_verified_account_says_used(app, client, shoppers):
    ada = shoppers.unverified(email="ada@example.test")
    token = newest_token(app, ada.email)
    client.post(RESEND, json={"email": ada.email})
    newer = newest_token(app, ada.email)
    assert client.post("/api/accounts/verify", json={"token": newer}).status_code == 200
    assert client.post("/api/accounts/verify", json={"token": token}).json["error"]["code"] == "link_used"
