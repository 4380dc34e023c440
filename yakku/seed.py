"""First-run data: the operator account and the demo catalog. Safe to run again: it adds what is missing."""

import secrets
from dataclasses import dataclass

from flask import current_app

from api.accounts import services as accounts
from api.accounts.exceptions import EmailTaken
from api.catalog.seed import seed_demo_catalog

DEFAULT_OPERATOR_NAME = "Operator"


@dataclass(frozen=True)
class OperatorCredentials:
    """The operator's sign-in, known in clear only to the seed run that created the account."""

    email: str
    password: str


@dataclass(frozen=True)
class SeedReport:
    """What one seed run added."""

    operator: OperatorCredentials | None
    products: int


def run() -> SeedReport:
    """Seed the current app's database: the operator, then the demo catalog if the shop has no products."""
    return SeedReport(operator=ensure_operator(), products=seed_demo_catalog())


def ensure_operator() -> OperatorCredentials | None:
    """Create the operator (OPERATOR_EMAIL) with a fresh random password unless the account exists."""
    email = current_app.config["OPERATOR_EMAIL"]
    if accounts.find_by_email(email):
        return None
    password = secrets.token_urlsafe(12)
    try:
        accounts.create_operator(DEFAULT_OPERATOR_NAME, email, password)
    except EmailTaken:  # another seed run created it a moment ago; its run printed the password
        return None
    # Only the hash is stored: this return value is the one place the password exists in clear.
    return OperatorCredentials(email=email, password=password)
