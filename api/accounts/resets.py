"""Forgotten passwords: a link that works once, for PASSWORD_RESET_MAX_AGE, sets a new password and ends
every session of the account.

The link carries a random token; the database keeps only its SHA-256, so a copy of the table opens no
account. Following a link also proves the address, so an unverified account becomes verified.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import func, select, update

from api.accounts.ended_sessions import end_all_sessions
from api.accounts.exceptions import InvalidAccountData, ResetLinkExpired, ResetLinkInvalid, ResetLinkUsed
from api.accounts.models import Account, PasswordReset, utcnow
from api.accounts.passwords import hash_password
from api.accounts.rules import PASSWORD_MAX, PASSWORD_MIN
from api.accounts.services import MAIL_RETRY, find_by_email
from workers.mail import enqueue_email
from yakku.extensions import db

# The storefront page a reset link opens; the storefront mounts its route from this.
RESET_PAGE_PATH = "/account/reset"
RESET_SUBJECT = "Reset your Yakku password"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def request_reset(email: str) -> None:
    """Send a reset link to the account with this address; nothing (and no sign of it) when there is none."""
    account = find_by_email(email)
    if account is None:
        return
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(seconds=int(current_app.config["PASSWORD_RESET_MAX_AGE"]))
    db.session.add(
        PasswordReset(account_id=account.id, token_hash=_digest(token), expires_at=utcnow() + lifetime)
    )
    db.session.commit()
    _send_link(account, token, lifetime)


def _send_link(account: Account, token: str, lifetime: timedelta) -> None:
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}{RESET_PAGE_PATH}?{urlencode({'token': token})}"
    minutes = int(lifetime.total_seconds() // 60)
    body = (
        f"Hello {account.name},\n\n"
        "Someone (we hope you) asked to reset the password of your Yakku account. Choose a new one here:\n\n"
        f"{link}\n\n"
        f"The link works once, for {minutes} minutes. Setting a new password signs you out everywhere.\n"
        "If you did not ask, ignore this message: your password stays as it is.\n"
    )
    # enqueue_email describes the job by its subject alone: the link never reaches the worker's log.
    enqueue_email(account.email, RESET_SUBJECT, body, retry=MAIL_RETRY)


def check_reset(token: str) -> PasswordReset:
    """The unused, unexpired reset a token names; else ResetLinkInvalid, ResetLinkUsed or ResetLinkExpired."""
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _digest(token)))
    if reset is None:
        raise ResetLinkInvalid()
    if reset.used_at is not None:
        raise ResetLinkUsed()
    if _aware(reset.expires_at) <= utcnow():
        raise ResetLinkExpired()
    return reset


def reset_password(token: str, password: str) -> None:
    """Set the password of the account a reset link names, spend every link it has, end its sessions."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        message = f"Choose a password of {PASSWORD_MIN} to {PASSWORD_MAX} characters."
        raise InvalidAccountData(fields={"password": [message]})
    reset = check_reset(token)
    password_hash = hash_password(password)
    now = utcnow()
    # Plain SQL updates: the session holds the reset row, whose naive SQLite times Python cannot compare.
    plain = {"synchronize_session": False}
    # Conditional, so two posts of one link racing set the password once and refuse the other.
    spent = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now),
        execution_options=plain,
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise ResetLinkUsed()
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.account_id == reset.account_id, PasswordReset.used_at.is_(None))
        .values(used_at=now),
        execution_options=plain,
    )
    db.session.execute(
        update(Account)
        .where(Account.id == reset.account_id)
        .values(password_hash=password_hash, verified_at=func.coalesce(Account.verified_at, now)),
        execution_options=plain,
    )
    db.session.commit()
    end_all_sessions(reset.account_id)
