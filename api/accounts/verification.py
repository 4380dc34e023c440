"""E-mail links that prove an address: signed, time-limited, and bound to one verification round.

Two kinds, each signed with its own salt so one is never taken for the other: a new account's
confirmation, and a signed-in shopper's change to a new address (which takes effect only once the new
address's link is followed).
"""

from urllib.parse import urlencode

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from api.accounts.exceptions import LinkExpired, LinkInvalid

# The storefront pages the links open; the storefront mounts its routes from these.
VERIFY_PAGE_PATH = "/account/verify"
EMAIL_CHANGE_PAGE_PATH = "/account/email/confirm"

_SALT = "verify-email"
_CHANGE_SALT = "change-email"


def _serializer(salt: str = _SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(account_id: int, email: str, round_: int) -> str:
    """A signed token naming the account, its e-mail and the verification round it belongs to."""
    return _serializer().dumps({"id": account_id, "email": email, "round": round_})


def make_change_token(account_id: int, email: str, new_email: str, round_: int) -> str:
    """A signed token that moves the account from `email` to `new_email`, in this verification round."""
    claims = {"id": account_id, "email": email, "new": new_email, "round": round_}
    return _serializer(_CHANGE_SALT).dumps(claims)


def read_token(token: str) -> dict:
    """The claims of a confirmation token; raises LinkExpired or LinkInvalid."""
    return _read(token, _SALT, {"id", "email", "round"})


def read_change_token(token: str) -> dict:
    """The claims of an address-change token; raises LinkExpired or LinkInvalid."""
    return _read(token, _CHANGE_SALT, {"id", "email", "new", "round"})


def _read(token: str, salt: str, keys: set[str]) -> dict:
    max_age = int(current_app.config["VERIFICATION_MAX_AGE"])
    try:
        claims = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    if not isinstance(claims, dict) or not keys <= claims.keys():
        raise LinkInvalid()
    return claims


def verification_link(token: str, path: str = VERIFY_PAGE_PATH) -> str:
    """The absolute storefront URL the shopper follows to confirm an address."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}{path}?{urlencode({'token': token})}"
