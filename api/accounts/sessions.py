"""Signing in and out: credentials for a token pair, refresh-token rotation, revocation."""

from api.accounts.exceptions import (
    AccountGone,
    AccountUnverified,
    InvalidAccountData,
    InvalidCredentials,
)
from api.accounts.models import Account
from api.accounts.passwords import check_password, hash_password, needs_rehash
from api.accounts.services import find_by_email, get_account
from api.auth import TokenRevoked, decode_token, issue_token_pair, revoke, revoke_once
from yakku.errors import Unauthorized
from yakku.extensions import db


def _tokens_for(account: Account) -> dict:
    return issue_token_pair(str(account.id), {"role": account.role.value, "name": account.name})


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
    """A new token pair for a refresh token, which is spent: a second use is refused."""
    if not revoke_once(refresh_claims):
        raise TokenRevoked()
    # Read the account again: its role or name may have changed since the token was issued.
    account = get_account(int(refresh_claims["sub"]))
    if account is None:
        raise AccountGone()
    return _tokens_for(account)


def log_out(refresh_claims: dict, access_token: str | None = None) -> None:
    """Revoke the refresh token and, if given, the same account's access token."""
    access_claims = _access_claims(access_token, refresh_claims["sub"]) if access_token else None
    revoke(refresh_claims)
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
