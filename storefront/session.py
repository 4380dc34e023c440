"""The shopper's session: the token pair in the signed session cookie, refreshed once when it expires.

from api.client import wishlist
as_shopper(wishlist).items()      # calls with the access token; on "token_expired" refreshes and retries
"""

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for

from api.auth import decode_token, session_ended
from api.client import accounts
from api.client.errors import ServiceAuthError, ServiceError
from yakku.errors import Unauthorized
from yakku.extensions import get_redis

# Refresh tokens are single use, so two requests refreshing the same pair at once would end the
# session: the first one keeps the new pair here for a moment and the second one reuses it.
REFRESHED_KEY = "storefront:refreshed:{digest}"
REFRESH_LOCK_KEY = "storefront:refreshing:{digest}"
REFRESHED_TTL_SECONDS = 30


class SessionEnded(Unauthorized):
    """The shopper's tokens no longer work: they must sign in again."""

    code = "session_ended"
    message = "Your session has ended. Please sign in again."


def configure(app: Flask) -> None:
    """Cookie settings for a session that carries tokens: not readable by scripts, not sent cross-site."""
    ours = {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": app.config["PUBLIC_URL"].startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    }
    for name, value in ours.items():
        # Flask fills these with its own defaults, so only a value still equal to Flask's is replaced.
        if app.config.get(name) == Flask.default_config.get(name):
            app.config[name] = value

    @app.context_processor
    def _shopper():
        return {"shopper": current_shopper(), "wishlist_count": session.get("wishlist_count")}


def check_session() -> bool:
    """Forget a session whose tokens no longer work, before any page, action or /ops reads it; False then.

    The cookie is signed but it is not the session: a copy made before logout (or before the account
    was deleted) must not keep joining sales, paying or opening the dashboard. One MGET per request
    asks whether the sign-in's token family, or every session of the account, was ended; the role
    comes from the verified token (re-read from the database at every refresh), never from the cookie.
    """
    tokens = session.get("tokens")
    if not tokens or request.endpoint == "static":
        return True
    try:
        claims = decode_token(tokens["refresh"], "refresh")
        ended = session_ended(claims)
    except Unauthorized:  # bad signature (rotated keys) or expired: the session is over either way
        claims, ended = None, True
    if ended:
        session.clear()
        return False
    g.session_claims = claims
    return True


def sign_in(pair: dict, account: dict) -> None:
    """Keep a fresh token pair and who it belongs to."""
    session.clear()
    session.permanent = True
    session["tokens"] = {"access": pair["access_token"], "refresh": pair["refresh_token"]}
    session["account"] = {key: account[key] for key in ("id", "name", "email")}
    g.session_claims = decode_token(pair["refresh_token"], "refresh")


def sign_out() -> None:
    """Revoke the tokens (best effort: the session ends here either way) and forget them."""
    tokens = session.get("tokens")
    session.clear()
    if not tokens:
        return
    try:
        accounts(token=tokens["refresh"]).logout(json={"access_token": tokens["access"]})
    except ServiceError:
        pass  # already revoked or expired: nothing left to revoke
    except Exception:  # noqa: BLE001  an unreachable service must not keep the shopper signed in
        current_app.logger.warning("could not revoke tokens at logout", exc_info=True)


def current_shopper() -> dict | None:
    """The signed-in account ({id, name, email, role}) of a session check_session let through, or None."""
    claims = g.get("session_claims")
    account = session.get("account")
    if claims is None or not account or not session.get("tokens"):
        return None
    return {**account, "id": int(claims["sub"]), "role": claims.get("role")}


def shopper_required(view: Callable) -> Callable:
    """Send a visitor who is not signed in to the login page, and back here afterwards."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if current_shopper() is None:
            return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return guarded


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after signing in; anything pointing off-site becomes `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


class as_shopper:  # noqa: N801  (reads as a function at the call site)
    """A service client whose calls carry the shopper's access token and survive its expiry once."""

    def __init__(self, client_factory: Callable[..., Any]):
        self.client_factory = client_factory

    def __getattr__(self, name: str) -> Callable:
        def call(*args, **kwargs):
            return with_fresh_token(
                lambda token: getattr(self.client_factory(token=token), name)(*args, **kwargs)
            )

        return call


def with_fresh_token(call: Callable[[str], Any]) -> Any:
    """Run call(access_token); when the service says the token expired, refresh the pair and run it again."""
    tokens = session.get("tokens")
    if not tokens:
        raise SessionEnded("Sign in first.")
    try:
        return call(tokens["access"])
    except ServiceAuthError as error:
        if error.code != "token_expired":
            if error.status == 401:
                raise SessionEnded() from error
            raise
    # A request refused for an expired token was not carried out, so running it again is safe.
    return call(refresh_tokens())


def refresh_tokens() -> str:
    """Trade the refresh token for a new pair, keep it in the session, and return the new access token."""
    refresh_token = session["tokens"]["refresh"]
    digest = hashlib.sha256(refresh_token.encode()).hexdigest()
    redis = get_redis()
    with redis.lock(REFRESH_LOCK_KEY.format(digest=digest), timeout=10, blocking_timeout=10):
        cached = redis.get(REFRESHED_KEY.format(digest=digest))
        if cached:
            pair = json.loads(cached)
        else:
            try:
                pair = accounts(token=refresh_token).refresh()
            except ServiceAuthError as error:
                session.clear()
                raise SessionEnded() from error
            redis.set(REFRESHED_KEY.format(digest=digest), json.dumps(pair), ex=REFRESHED_TTL_SECONDS)
    session["tokens"] = {"access": pair["access_token"], "refresh": pair["refresh_token"]}
    g.session_claims = decode_token(pair["refresh_token"], "refresh")  # a changed role shows from here
    return pair["access_token"]
