"""What a valid account looks like: limits and e-mail normalisation, shared by schemas and services."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context

NAME_MAX = 100
EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 128


def normalise_email(email: str) -> str:
    """The address as we store, look up and rate-limit it; raises ValueError.

    NFKC first (full-width ＡＤＡ is ADA), checked, then case-folded; the validator maps the domain
    through IDNA (ｅxample。com is example.com). Every spelling of one address is one string here.
    """
    if not isinstance(email, str) or len(email) > EMAIL_MAX:
        raise ValueError(f"Enter an e-mail address of at most {EMAIL_MAX} characters.")
    folded = unicodedata.normalize("NFKC", email.strip())
    try:
        checked = validate_email(folded, check_deliverability=False, test_environment=_testing())
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return f"{checked.local_part.casefold()}@{checked.domain.casefold()}"


def _testing() -> bool:
    # Test suites use the reserved .test domain (RFC 2606), which real sign-ups may not.
    return has_app_context() and bool(current_app.config["TESTING"])


def account_problems(name: str, email: str, password: str) -> dict[str, list[str]]:
    """Per-field messages for a new account's data; empty when it is fine."""
    problems: dict[str, list[str]] = {}
    if not 1 <= len(name.strip()) <= NAME_MAX:
        problems["name"] = [f"Enter a name of 1 to {NAME_MAX} characters."]
    try:
        normalise_email(email)
    except ValueError as exc:
        problems["email"] = [str(exc)]
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        problems["password"] = [f"Choose a password of {PASSWORD_MIN} to {PASSWORD_MAX} characters."]
    return problems
