"""The accounts service's rules: sign-up, e-mail verification, operators."""

from flask import current_app
from rq import Retry
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.accounts import verification
from api.accounts.exceptions import EmailTaken, InvalidAccountData, LinkInvalid, LinkUsed
from api.accounts.models import Account, utcnow
from api.accounts.passwords import hash_password
from api.accounts.rules import account_problems, normalise_email
from api.auth import Role
from workers.mail import enqueue_email
from yakku.extensions import db

VERIFICATION_SUBJECT = "Confirm your e-mail address for Yakku"
ALREADY_REGISTERED_SUBJECT = "You already have a Yakku account"

# A mail server that is down for a moment should delay the link, not lose it.
MAIL_RETRY = Retry(max=3, interval=[10, 60, 300])


def find_by_email(email: str) -> Account | None:
    """The account with this address (any case), if there is one."""
    try:
        normalised = normalise_email(email)
    except ValueError:
        return None
    return db.session.scalar(select(Account).where(Account.email == normalised))


def get_account(account_id: int) -> Account | None:
    """The account with this id, if it exists."""
    return db.session.get(Account, account_id)


def sign_up(name: str, email: str, password: str) -> Account | None:
    """Create an unverified shopper and send the verification e-mail; None when the address is taken.

    The caller answers both the same way, so sign-up never tells whether an address has an account:
    the owner of a taken address learns of the attempt by e-mail instead, and the refusal costs the
    same argon2 time as an account made.
    """
    try:
        account = _create(name, email, password, Role.SHOPPER, verified=False)
    except EmailTaken:
        hash_password(password)
        send_already_registered(normalise_email(email))
        return None
    send_verification(account)
    return account


def create_operator(name: str, email: str, password: str) -> Account:
    """Create an operator account, verified at once (the launcher's seed calls this)."""
    return _create(name, email, password, Role.OPERATOR, verified=True)


def _create(name: str, email: str, password: str, role: Role, *, verified: bool) -> Account:
    problems = account_problems(name, email, password)
    if problems:
        raise InvalidAccountData(fields=problems)
    normalised = normalise_email(email)
    if find_by_email(normalised):
        raise EmailTaken()
    account = Account(
        name=name.strip(),
        email=normalised,
        password_hash=hash_password(password),
        role=role,
        verified_at=utcnow() if verified else None,
        verification_round=0,
    )
    db.session.add(account)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent sign-up took the address between our check and insert
        db.session.rollback()
        raise EmailTaken() from None
    return account


def send_verification(account: Account) -> None:
    """Enqueue the e-mail carrying the link for the account's current verification round."""
    token = verification.make_token(account.id, account.email, account.verification_round)
    link = verification.verification_link(token)
    body = (
        f"Hello {account.name},\n\n"
        "Please confirm your e-mail address for your Yakku account by opening this link:\n\n"
        f"{link}\n\n"
        "If you did not sign up, ignore this message.\n"
    )
    enqueue_email(account.email, VERIFICATION_SUBJECT, body, retry=MAIL_RETRY)


def send_already_registered(email: str) -> None:
    """Tell the owner of an address that someone tried to sign up with it again."""
    login = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/account/login"
    body = (
        "Hello,\n\n"
        "Someone (perhaps you) tried to create a Yakku account with this e-mail address, which already\n"
        f"has one. To use it, log in at {login}\n"
        "If you never confirmed the address, the log-in page sends you a new confirmation link.\n\n"
        "If it was not you, ignore this message: nothing has changed.\n"
    )
    enqueue_email(email, ALREADY_REGISTERED_SUBJECT, body, retry=MAIL_RETRY)


def resend_verification(email: str) -> None:
    """Send a fresh link to an unverified account; earlier links stop working. Silent otherwise."""
    account = find_by_email(email)
    if account is None or account.verified:
        return
    next_round(account)
    send_verification(account)


def next_round(account: Account) -> None:
    """Start a new verification round: every link sent before it stops working."""
    db.session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(verification_round=Account.verification_round + 1)
    )
    db.session.commit()
    db.session.refresh(account)


def verify_email(token: str) -> Account:
    """Mark the account named by a verification token as verified; each link works once."""
    claims = verification.read_token(token)
    account = get_account(claims["id"])
    if account is None or account.email != claims["email"]:
        raise LinkInvalid()
    if account.verified or account.verification_round != claims["round"]:
        raise LinkUsed()
    # Conditional on the round, so two clicks racing on one link verify once and refuse the other.
    result = db.session.execute(
        update(Account)
        .where(
            Account.id == account.id,
            Account.verification_round == claims["round"],
            Account.verified_at.is_(None),
        )
        .values(verified_at=utcnow(), verification_round=Account.verification_round + 1)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise LinkUsed()
    db.session.commit()
    db.session.refresh(account)
    return account
