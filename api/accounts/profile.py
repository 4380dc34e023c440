"""A signed-in shopper's own details: the name, and a new e-mail address that counts once it is proved."""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from api.accounts import verification
from api.accounts.exceptions import (
    AccountGone,
    EmailTaken,
    InvalidAccountData,
    LinkInvalid,
    LinkUsed,
    SameEmail,
    WrongPassword,
)
from api.accounts.models import Account
from api.accounts.passwords import check_password
from api.accounts.rules import NAME_MAX, normalise_email
from api.accounts.services import MAIL_RETRY, find_by_email, get_account, next_round
from workers.mail import enqueue_email
from yakku.extensions import db

CHANGE_SUBJECT = "Confirm your new e-mail address for Yakku"
TAKEN_SUBJECT = "Someone tried to move a Yakku account to this address"
CHANGED_SUBJECT = "The e-mail address of your Yakku account changed"


def _account(account_id: int) -> Account:
    account = get_account(account_id)
    if account is None:
        raise AccountGone()
    return account


def rename(account_id: int, name: str) -> Account:
    """Give the account a new name (what the shop greets it with and the order e-mails use)."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidAccountData(fields={"name": [f"Enter a name of 1 to {NAME_MAX} characters."]})
    account = _account(account_id)
    account.name = name
    db.session.commit()
    return account


def request_email_change(account_id: int, password: str, new_email: str) -> None:
    """Send a link to the new address that moves the account there; the old address stays until then.

    Confirmed by the password. An address another account has is told of the attempt by e-mail, and the
    answer is the same as for a free one, so the form never tells which addresses have accounts.
    """
    account = _account(account_id)
    if not check_password(account.password_hash, password):
        raise WrongPassword()
    try:
        new = normalise_email(new_email)
    except ValueError as exc:
        raise InvalidAccountData(fields={"email": [str(exc)]}) from None
    if new == account.email:
        raise SameEmail()
    if find_by_email(new) is not None:
        _tell(
            new,
            TAKEN_SUBJECT,
            "Someone (perhaps you) asked to move another Yakku account to this address,\n"
            "which has an account already. Nothing has changed. If it was not you, ignore this message.\n",
        )
        return
    next_round(account)  # an earlier change link (or confirmation link) stops working
    token = verification.make_change_token(account.id, account.email, new, account.verification_round)
    link = verification.verification_link(token, verification.EMAIL_CHANGE_PAGE_PATH)
    _tell(
        new,
        CHANGE_SUBJECT,
        f"Hello {account.name},\n\nTo use this address for your Yakku account from now on,\n"
        f"open this link:\n\n{link}\n\nUntil you do, your account keeps its old address.\n"
        "If you did not ask for this, ignore this message.\n",
    )


def confirm_email_change(token: str) -> Account:
    """Move the account a change link names to its new address; each link works once."""
    claims = verification.read_change_token(token)
    account = get_account(claims["id"])
    if account is None:
        raise LinkInvalid()
    if account.email != claims["email"] or account.verification_round != claims["round"]:
        raise LinkUsed()
    # Conditional on the round, so two clicks racing on one link move the account once.
    try:
        moved = db.session.execute(
            update(Account)
            .where(Account.id == account.id, Account.verification_round == claims["round"])
            .values(email=claims["new"], verification_round=Account.verification_round + 1)
        )
        if moved.rowcount != 1:
            raise LinkUsed()
        db.session.commit()
    except IntegrityError:  # another account took the address since the link was sent
        db.session.rollback()
        raise EmailTaken() from None
    except LinkUsed:
        db.session.rollback()
        raise
    db.session.refresh(account)
    _tell(
        claims["email"],
        CHANGED_SUBJECT,
        f"Hello {account.name},\n\nYour Yakku account now uses the address "
        f"{account.email}; this one gets no more mail from us.\nIf you did not make this change, someone "
        "may know your password: write to us at once, from this address.\n",
    )
    return account


def _tell(to: str, subject: str, body: str) -> None:
    enqueue_email(to, subject, body, retry=MAIL_RETRY)
