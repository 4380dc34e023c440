"""Shopper accounts in bulk, for load tests: one password hash shared by all, inserted in chunks."""

from sqlalchemy import insert, select

from api.accounts.exceptions import InvalidAccountData
from api.accounts.models import Account, utcnow
from api.accounts.passwords import hash_password
from api.accounts.rules import account_problems
from api.auth import Role
from yakku.extensions import db

# .example (RFC 2606) rather than .test: the validator refuses .test outside test runs, so a .test
# buyer could not log in to a real deployment under load.
LOAD_DOMAIN = "load.yakku.example"
CHUNK = 1000


def shopper_email(prefix: str, number: int) -> str:
    """The address of the bulk shopper `number` (1-based): buyer17@load.yakku.example."""
    return f"{prefix}{number}@{LOAD_DOMAIN}"


def create_verified_shoppers(count: int, password: str, prefix: str = "buyer") -> int:
    """Make shoppers 1..count, verified, logging in with `password`; existing kept; the number made."""
    problems = account_problems("Load Buyer", shopper_email(prefix, 1), password)
    if problems:
        raise InvalidAccountData(fields=problems)
    # argon2 is deliberately slow (~250 ms of CPU a hash here at the default profile); one hash for
    # everyone makes 10,000 accounts take seconds.
    password_hash = hash_password(password)
    created = 0
    for start in range(1, count + 1, CHUNK):
        emails = [shopper_email(prefix, n) for n in range(start, min(start + CHUNK, count + 1))]
        existing = set(db.session.scalars(select(Account.email).where(Account.email.in_(emails))))
        now = utcnow()
        rows = [
            {
                "name": email.split("@")[0].capitalize(),
                "email": email,
                "password_hash": password_hash,
                "role": Role.SHOPPER,
                "verified_at": now,
                "verification_round": 0,
                "created_at": now,
            }
            for email in emails
            if email not in existing
        ]
        if rows:
            db.session.execute(insert(Account), rows)
            db.session.commit()
            created += len(rows)
    return created
