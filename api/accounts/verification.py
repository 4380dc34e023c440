"""E-mail verification links: signed, time-limited, and bound to one verification round."""

from urllib.parse import urlencode

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from api.accounts.exceptions import LinkExpired, LinkInvalid

# The storefront page a verification link opens; the storefront mounts its route from this.
VERIFY_PAGE_PATH = "/account/verify"

_SALT = "verify-email"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_token(account_id: int, email: str, round_: int) -> str:
    """A signed token naming the account, its e-mail and the verification round it belongs to."""
    return _serializer().dumps({"id": account_id, "email": email, "round": round_})


def read_token(token: str) -> dict:
    """The token's claims; raises LinkExpired or LinkInvalid."""
    max_age = int(current_app.config["VERIFICATION_MAX_AGE"])
    try:
        claims = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    if not isinstance(claims, dict) or not {"id", "email", "round"} <= claims.keys():
        raise LinkInvalid()
    return claims


def verification_link(token: str) -> str:
    """The absolute storefront URL the shopper follows to confirm their address."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}{VERIFY_PAGE_PATH}?{urlencode({'token': token})}"
