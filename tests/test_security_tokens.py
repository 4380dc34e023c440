"""Refresh-token families, account ids that are never reused, tokens of deleted accounts (issue 12, 6-7)."""

from sqlalchemy import delete, text, update

from api.accounts.models import Account
from yakku.extensions import db


def test_presenting_a_spent_refresh_token_ends_its_whole_family(shoppers):
    ada = shoppers.verified()
    stolen = ada.refresh_token
    assert shoppers.refresh(ada).status_code == 200  # the owner rotates: `stolen` is spent
    assert shoppers.refresh(ada).status_code == 200  # and again: the family grows

    replay = shoppers.refresh(ada, token=stolen)
    assert (replay.status_code, replay.json["error"]["code"]) == (401, "token_revoked")
    # Every token issued after the spent one stops working, the thief's and the owner's alike.
    assert shoppers.refresh(ada).status_code == 401
    assert shoppers.me(ada).status_code == 401


def test_a_family_ends_only_its_own_sign_in(shoppers):
    ada = shoppers.verified()
    phone = shoppers.log_in(type(ada)(**{**ada.__dict__}))  # a second sign-in: a family of its own
    laptop_stolen = ada.refresh_token
    shoppers.refresh(ada)
    shoppers.refresh(ada, token=laptop_stolen)
    assert shoppers.me(ada).status_code == 401
    assert shoppers.me(phone).status_code == 200


def test_logging_out_ends_the_access_tokens_of_earlier_rotations_too(shoppers, client):
    ada = shoppers.verified()
    old_access = ada.access_token
    shoppers.refresh(ada)
    answer = client.post(
        "/api/accounts/logout", json={"access_token": ada.access_token}, headers=ada.refresh_headers
    )
    assert answer.status_code == 204
    assert (
        client.get("/api/accounts/me", headers={"Authorization": f"Bearer {old_access}"}).status_code == 401
    )


def test_a_deleted_accounts_id_is_never_given_to_the_next_sign_up(app, shoppers):
    ada = shoppers.verified()
    with app.app_context():  # deleted by hand, as before the shop could delete accounts itself
        db.session.execute(delete(Account).where(Account.id == ada.id))
        db.session.commit()
    bob = shoppers.verified()
    assert bob.id != ada.id
    answer = shoppers.refresh(ada)
    assert (answer.status_code, answer.json["error"]["code"]) == (401, "account_gone")


def test_the_accounts_table_autoincrements_on_sqlite(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return  # MySQL's AUTO_INCREMENT never goes back
        schema = db.session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'accounts'")).scalar()
    assert "AUTOINCREMENT" in schema


def test_refresh_refuses_an_account_no_longer_verified(app, shoppers):
    ada = shoppers.verified()
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == ada.id).values(verified_at=None))
        db.session.commit()
    answer = shoppers.refresh(ada)
    assert (answer.status_code, answer.json["error"]["code"]) == (403, "account_unverified")


def test_deleting_an_account_ends_every_session_it_has(shoppers):
    ada = shoppers.verified()
    phone = shoppers.log_in(type(ada)(**{**ada.__dict__}))
    assert shoppers.delete(ada, password="not the password").status_code == 422
    assert shoppers.delete(ada).status_code == 204
    for session in (ada, phone):
        assert shoppers.me(session).status_code == 401
        assert shoppers.refresh(session).status_code == 401
    again = shoppers.verified(email=ada.email)  # the address is free again, under a new id
    assert again.id != ada.id
