"""Signing in and out: one answer for every bad credential, rotating refresh tokens, revocation."""

import time
from dataclasses import replace
from datetime import timedelta

import jwt as pyjwt
import pytest
from argon2 import PasswordHasher, extract_parameters
from flask_jwt_extended import decode_token
from sqlalchemy import select, update

from admission.checkout.jobs import sweep
from api.accounts.models import Account, RevokedFamily, utcnow
from api.accounts.passwords import hasher_for, needs_rehash
from api.auth import GENERATION_KEY, Role
from yakku.extensions import db
from yakku.factory import create_api_app

LOGIN = "/api/accounts/login"
REFRESH = "/api/accounts/token/refresh"
LOGOUT = "/api/accounts/logout"
ME = "/api/accounts/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.test", "correct horse battery"),
        ("ada@example.test", "wrong password"),
        ("ADA@EXAMPLE.TEST", "Correct horse battery"),
    ],
    ids=["unknown-email", "wrong-password", "wrong-password-case"],
)
def test_bad_credentials_get_one_answer(client, shoppers, email, password):
    shoppers.verified(email="ada@example.test", password="correct horse battery")
    answer = client.post(LOGIN, json={"email": email, "password": password})
    assert answer.status_code == 401
    assert answer.json == {
        "error": {
            "code": "invalid_credentials",
            "message": "The e-mail address or the password is wrong.",
            "fields": {},
        }
    }


def test_an_unknown_email_costs_one_argon2_verification_at_the_profile_s_cost(
    default_deployment, client, shoppers, app, monkeypatch
):
    shoppers.verified(email="ada@example.test")
    hasher = hasher_for(app.config["PASSWORD_HASH_PROFILE"])
    verified = []
    real_verify = PasswordHasher.verify

    def spy(self, password_hash, password):
        verified.append(extract_parameters(password_hash))
        return real_verify(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    for email in ("nobody@example.test", "ada@example.test"):
        answer = client.post(LOGIN, json={"email": email, "password": "not the password"})
        assert answer.status_code == 401
    # Checked by what is spent, not by a clock: an unknown address runs one verification of a decoy
    # hash made at the deployment's parameters, as a known one does, so both take the same time.
    own = extract_parameters(hasher.hash("x"))
    assert verified == [own, own]


def test_unverified_accounts_cannot_sign_in_but_only_with_the_right_password(client, shoppers):
    ada = shoppers.unverified(email="ada@example.test")
    right = client.post(LOGIN, json={"email": ada.email, "password": ada.password})
    assert (right.status_code, right.json["error"]["code"]) == (403, "account_unverified")
    wrong = client.post(LOGIN, json={"email": ada.email, "password": "not the password"})
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_duplicate_sign_up_is_refused_whatever_the_case(client, shoppers, app):
    shoppers.unverified(email="ada@example.test")
    again = client.post(
        "/api/accounts/signup", json={"name": "Ada 2", "email": " ADA@Example.Test", "password": "p" * 8}
    )
    # Refused without saying so (issue 12, item 8): the answer of a new address, no 409 email_taken.
    assert again.status_code == 202
    with app.app_context():
        assert db.session.query(Account).count() == 1


def test_a_refresh_token_works_once(client, shoppers):
    ada = shoppers.verified()
    first = client.post(REFRESH, headers=ada.refresh_headers)
    assert first.status_code == 200
    replay = client.post(REFRESH, headers=ada.refresh_headers)
    assert (replay.status_code, replay.json["error"]["code"]) == (401, "token_revoked")
    # The replay ends the family: the pair issued after the spent token stops working too (issue 12, 6).
    assert client.post(REFRESH, headers=bearer(first.json["refresh_token"])).status_code == 401


def test_refresh_reads_the_account_again(app, client, shoppers):
    ada = shoppers.verified(name="Ada")
    with app.app_context():
        promote = update(Account).where(Account.id == ada.id).values(role=Role.OPERATOR, name="Ada L")
        db.session.execute(promote)
        db.session.commit()
    pair = client.post(REFRESH, headers=ada.refresh_headers).json
    with app.app_context():
        claims = decode_token(pair["access_token"])
    assert (claims["sub"], claims["role"], claims["name"]) == (str(ada.id), "operator", "Ada L")


def _wrong_key_token(kind: str, member) -> str:
    now = int(time.time())
    claims = {"sub": str(member.id), "type": kind, "jti": f"forged-{kind}", "iat": now, "nbf": now}
    claims |= {"exp": now + 600, "fresh": False, "role": "operator"}
    return pyjwt.encode(claims, "a-key-that-is-not-ours-but-long-enough-to-sign", algorithm="HS256")


@pytest.mark.parametrize(
    ("method", "path", "token_of"),
    [
        ("post", REFRESH, lambda m: m.access_token),
        ("post", LOGOUT, lambda m: m.access_token),
        ("get", ME, lambda m: m.refresh_token),
        ("post", REFRESH, lambda m: _wrong_key_token("refresh", m)),
        ("get", ME, lambda m: _wrong_key_token("access", m)),
        ("post", REFRESH, lambda m: "not-a-jwt"),
    ],
    ids=[
        "access-as-refresh",
        "access-to-logout",
        "refresh-as-access",
        "forged-refresh",
        "forged-access",
        "junk",
    ],
)
def test_the_wrong_token_is_refused(client, shoppers, method, path, token_of):
    ada = shoppers.verified()
    answer = getattr(client, method)(path, headers=bearer(token_of(ada)))
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("path", [REFRESH, LOGOUT, ME])
def test_no_token_is_refused(client, path):
    answer = client.get(path) if path == ME else client.post(path)
    assert (answer.status_code, answer.json["error"]["code"]) == (401, "unauthorized")


def test_logout_revokes_refresh_and_access(client, shoppers):
    ada = shoppers.verified()
    assert client.get(ME, headers=ada.headers).status_code == 200
    out = client.post(LOGOUT, headers=ada.refresh_headers, json={"access_token": ada.access_token})
    assert out.status_code == 204
    assert client.get(ME, headers=ada.headers).json["error"]["code"] == "token_revoked"
    refused = client.post(REFRESH, headers=ada.refresh_headers)
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "token_revoked")


def test_logout_without_a_body_ends_the_access_token_too(client, shoppers):
    ada = shoppers.verified()
    assert client.post(LOGOUT, headers=ada.refresh_headers).status_code == 204
    # Logging out ends the sign-in's whole family, access tokens included (issue 12, item 2).
    assert client.get(ME, headers=ada.headers).status_code == 401
    assert client.post(REFRESH, headers=ada.refresh_headers).status_code == 401


def test_logout_refuses_someone_elses_access_token(client, shoppers):
    ada, bo = shoppers.verified(), shoppers.verified()
    answer = client.post(LOGOUT, headers=ada.refresh_headers, json={"access_token": bo.access_token})
    assert answer.status_code == 422
    assert answer.json["error"]["fields"] == {"access_token": ["Not an access token of this account."]}
    assert client.get(ME, headers=bo.headers).status_code == 200
    assert client.post(REFRESH, headers=ada.refresh_headers).status_code == 200  # nothing was revoked


def stored_hash(app, member) -> str:
    with app.app_context():
        return db.session.get(Account, member.id).password_hash


@pytest.fixture
def load_test_deployment(config):
    """Ask for it before `app`: the apps of the test hash at the cheap load-test profile."""
    config["PASSWORD_HASH_PROFILE"] = "load-test"


@pytest.fixture
def default_deployment(config):
    """Ask for it before `app`: the apps of the test hash at the default cost, as every real one does."""
    config["PASSWORD_HASH_PROFILE"] = "default"


@pytest.mark.parametrize(
    "old_hasher",
    [PasswordHasher(time_cost=1, memory_cost=8192), hasher_for("load-test")],
    ids=["older-parameters", "load-test-profile"],
)
def test_login_rehashes_a_password_made_with_old_parameters(
    default_deployment, app, client, shoppers, old_hasher
):
    ada = shoppers.verified()
    old_hash = old_hasher.hash(ada.password)
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == ada.id).values(password_hash=old_hash))
        db.session.commit()
    assert client.post(LOGIN, json={"email": ada.email, "password": ada.password}).status_code == 200
    new_hash = stored_hash(app, ada)
    with app.app_context():
        assert new_hash != old_hash and not needs_rehash(new_hash)
    assert extract_parameters(new_hash) == extract_parameters(PasswordHasher().hash("x"))
    assert PasswordHasher().verify(new_hash, ada.password)


def test_a_load_test_deployment_hashes_cheaply_and_keeps_its_hashes_at_login(
    load_test_deployment, app, client, shoppers
):
    ada = shoppers.verified()
    made = stored_hash(app, ada)
    cheap = extract_parameters(made)
    assert (cheap.time_cost, cheap.memory_cost, cheap.parallelism) == (1, 1024, 1)
    assert client.post(LOGIN, json={"email": ada.email, "password": "not the password"}).status_code == 401
    assert client.post(LOGIN, json={"email": ada.email, "password": ada.password}).status_code == 200
    assert stored_hash(app, ada) == made  # not rehashed: it already has the deployment's parameters


def test_an_unknown_hash_profile_stops_the_app_at_start(config, monkeypatch):
    config.pop("PASSWORD_HASH_PROFILE")  # the suite's own choice would win over the environment
    monkeypatch.setenv("YAKKU_PASSWORD_HASH_PROFILE", "cheapest")
    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE must be one of default, load-test"):
        create_api_app(config)


def test_me_answers_the_account_of_the_token(client, shoppers, operator):
    ada = shoppers.verified(name="Ada", email="ada@example.test")
    assert client.get(ME, headers=ada.headers).json["email"] == "ada@example.test"
    assert client.get(ME, headers=operator.headers).json["role"] == "operator"


# Redis loses data (docs/reliability.md): a restart without persistence, or a flush. Revocations are
# recorded in the database too, so an ended session stays ended.


def redis_loses_everything(app) -> None:
    """Redis restarted without persistence: every key is gone, the revocations with them."""
    app.extensions["yakku.redis"].flushdb()


def test_a_logged_out_refresh_token_stays_refused_after_redis_loses_its_data(app, client, shoppers):
    ada = shoppers.verified()
    assert client.post(LOGOUT, headers=ada.refresh_headers).status_code == 204
    redis_loses_everything(app)

    refused = client.post(REFRESH, headers=ada.refresh_headers)
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "token_revoked")
    # The refusal told Redis again: the sign-in's access token stops now, not at its expiry.
    assert client.get(ME, headers=ada.headers).json["error"]["code"] == "token_revoked"


def test_a_family_ended_by_a_replayed_refresh_token_stays_ended_after_redis_loses_its_data(
    client, shoppers, app
):
    ada = shoppers.verified()
    spent = ada.refresh_token
    assert shoppers.refresh(ada).status_code == 200
    assert shoppers.refresh(ada, token=spent).status_code == 401  # the replay ends the family
    redis_loses_everything(app)

    assert shoppers.refresh(ada).json["error"]["code"] == "token_revoked"


def test_a_password_change_ends_the_other_sessions_even_after_redis_loses_its_data(app, client, shoppers):
    ada = shoppers.verified()
    laptop = shoppers.log_in(replace(ada))  # the same shopper signed in on another device
    change = {"current_password": ada.password, "new_password": "a brand new passphrase"}
    changed = client.post("/api/accounts/me/password", headers=ada.headers, json=change)
    assert changed.status_code == 200
    ada.access_token, ada.refresh_token = changed.json["access_token"], changed.json["refresh_token"]
    redis_loses_everything(app)
    fresh = shoppers.log_in(replace(ada, password="a brand new passphrase"))

    refused = shoppers.refresh(laptop)
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "token_revoked")
    # Redis has the account's generation again: the laptop's access token stops now, not at its expiry,
    assert shoppers.me(laptop).json["error"]["code"] == "token_revoked"
    # while the pair the change answered and a sign-in since carry the generation they were issued at.
    for member in (ada, fresh):
        assert shoppers.me(member).status_code == 200
        assert shoppers.refresh(member).status_code == 200
        assert shoppers.me(member).status_code == 200


def test_a_generation_redis_counted_before_the_database_did_is_kept(app, client, shoppers):
    ada = shoppers.verified()
    # Before revision 5a80f0a0c240 ending every session raised the generation in Redis alone.
    app.extensions["yakku.redis"].set(GENERATION_KEY.format(account_id=ada.id), 2)
    shoppers.log_in(ada)
    assert shoppers.me(ada).status_code == 200 and shoppers.refresh(ada).status_code == 200
    before = replace(ada)

    change = {"current_password": ada.password, "new_password": "a brand new passphrase"}
    assert client.post("/api/accounts/me/password", headers=ada.headers, json=change).status_code == 200
    assert shoppers.me(before).status_code == 401
    assert shoppers.refresh(before).status_code == 401


def test_the_sweep_forgets_an_ended_sign_in_once_its_tokens_have_all_expired(app, client, shoppers):
    ada, bo = shoppers.verified(), shoppers.verified()
    for member in (ada, bo):
        assert client.post(LOGOUT, headers=member.refresh_headers).status_code == 204
    with app.app_context():  # ada logged out over a refresh token's lifetime ago
        week_ago = utcnow() - app.config["JWT_REFRESH_TOKEN_EXPIRES"] - timedelta(seconds=1)
        long_ago = {"revoked_at": week_ago, "expires_at": utcnow() - timedelta(seconds=1)}
        db.session.execute(update(RevokedFamily).where(RevokedFamily.account_id == ada.id).values(**long_ago))
        db.session.commit()
        assert sweep() == {"ended_sign_ins_forgotten": 1}
        assert db.session.scalars(select(RevokedFamily.account_id)).all() == [bo.id]  # still ended
