"""Signing in and out: credentials for a token pair, refresh-token rotation, revocation."""

from api.accounts.ended_sessions import end_all_sessions, end_family, generation_for, refuse_if_ended
from api.accounts.exceptions import (
    AccountGone,
    AccountUnverified,
    InvalidAccountData,
    InvalidCredentials,
    WrongPassword,
)
from api.accounts.models import Account
from api.accounts.passwords import check_password, hash_password, needs_rehash
from api.accounts.rules import PASSWORD_MAX, PASSWORD_MIN
from api.accounts.services import find_by_email, get_account
from api.auth import (
    TokenRevoked,
    decode_token,
    issue_token_pair,
    refuse_if_revoked,
    revocation_step,
    revoke,
    revoke_once,
)
from yakku.errors import Unauthorized
from yakku.extensions import db, get_redis


def _tokens_for(account: Account, family: str | None = None) -> dict:
    claims = {"role": account.role.value, "name": account.name}
    return issue_token_pair(str(account.id), claims, generation=generation_for(account), family=family)


def log_in(email: str, password: str) -> dict:
    """A token pair for the right e-mail and password of a verified account."""
    account = find_by_email(email)
    # An unknown address costs the same argon2 time and earns the same answer as a wrong password.
    if not check_password(account.password_hash if account else None, password):
        raise InvalidCredentials()
    if not account.verified:
        raise AccountUnverified()
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        db.session.commit()
    return _tokens_for(account)


def refresh(refresh_claims: dict) -> dict:
    """A new pair of the same family for a refresh token, which is spent: a second use ends the family.

    Only a thief or a bug presents a spent refresh token (the storefront shares one rotation between
    its concurrent requests), and we cannot tell which copy is the owner's: every token issued after
    the spent one stops working too, and the owner signs in again. Redis answers first, as for every
    request; the database then refuses what Redis forgot (ended_sessions.refuse_if_ended).
    """
    answer = get_redis().execute_command(*revocation_step())
    if answer[0]:
        end_family(refresh_claims)
    refuse_if_revoked(answer)
    if not revoke_once(refresh_claims):  # spent by a request that raced this one
        end_family(refresh_claims)
        raise TokenRevoked()
    # Read the account again: its role or name may have changed, it may be gone or unverified since.
    account = get_account(int(refresh_claims["sub"]))
    if account is None:
        raise AccountGone()
    if not account.verified:
        raise AccountUnverified()
    refuse_if_ended(refresh_claims, account, in_redis=int(answer[2] or 0))
    return _tokens_for(account, family=refresh_claims.get("fam"))


def log_out(refresh_claims: dict, access_token: str | None = None) -> None:
    """Revoke the refresh token and, if given, the same account's access token."""
    access_claims = _access_claims(access_token, refresh_claims["sub"]) if access_token else None
    revoke(refresh_claims)
    end_family(refresh_claims)  # the access tokens traded for earlier refresh tokens too
    if access_claims:
        revoke(access_claims)


def _access_claims(access_token: str, subject: str) -> dict:
    try:
        claims = decode_token(access_token, "access", allow_expired=True)
    except Unauthorized:
        claims = None
    if not claims or claims["sub"] != subject:
        raise InvalidAccountData(fields={"access_token": ["Not an access token of this account."]})
    return claims


def delete_account(account_id: int, password: str) -> None:
    """Delete the account once its password confirms it, and end every session it has.

    Its orders stay (the law keeps sales records) under an id that names nobody any more: they hold
    no name or address, and ids are never reused, so no later sign-up ever sees them.
    """
    account = get_account(account_id)
    if account is None:
        raise AccountGone()
    if not check_password(account.password_hash, password):
        raise WrongPassword()
    end_all_sessions(account_id)  # first: the generation is counted on the row about to go
    db.session.delete(account)
    db.session.commit()


def change_password(account_id: int, current: str, new: str) -> dict:
    """Set a new password once the current one confirms it; every session ends, and the answer is a fresh
    pair for the session that asked (so only the shopper's other devices sign in again)."""
    account = get_account(account_id)
    if account is None:
        raise AccountGone()
    if not check_password(account.password_hash, current):
        raise WrongPassword(field="current_password")
    if not PASSWORD_MIN <= len(new) <= PASSWORD_MAX:
        message = f"Choose a password of {PASSWORD_MIN} to {PASSWORD_MAX} characters."
        raise InvalidAccountData(fields={"new_password": [message]})
    account.password_hash = hash_password(new)
    db.session.commit()
    end_all_sessions(account_id)
    return _tokens_for(account)
