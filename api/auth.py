"""Shopper and operator authentication: JWTs with separate access and refresh keys, revocable in Redis."""

import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from enum import StrEnum
from functools import lru_cache, wraps

import jwt as pyjwt
from flask import Flask, current_app, g, request
from flask_jwt_extended import create_access_token, create_refresh_token

from yakku.errors import Forbidden, Unauthorized
from yakku.extensions import get_redis, jwt

REVOKED_KEY = "jwt:revoked:{jti}"
# Every token of one sign-in (its refresh tokens and the access tokens they were traded for) shares a
# family id: logging out, or presenting a spent refresh token (a stolen copy replayed), ends the family.
# Redis's copy of a revoked_token_families row, for the checks of every request.
FAMILY_REVOKED_KEY = "jwt:family:{family}:revoked"
# An account's session generation: its tokens carry the value they were issued under, and raising it
# (account deleted, password changed) ends every session the account had, on every device. Redis's
# copy of accounts.sessions_generation, for the checks of every request.
GENERATION_KEY = "jwt:account:{account_id}:generation"

# flask-jwt-extended hands the encode-key callback only the identity, so the token type being
# signed travels beside it in a context variable.
_signing = ContextVar("jwt_signing_type", default="access")


class Role(StrEnum):
    SHOPPER = "shopper"
    OPERATOR = "operator"


def init_app(app: Flask) -> None:
    """Bind JWT signing: one key per token type (verification is ours: verify_request_token)."""
    app.config.setdefault("JWT_SECRET_KEY", app.config["JWT_ACCESS_SECRET"])
    jwt.init_app(app)


def _secret_for(token_type: str) -> str:
    name = "JWT_REFRESH_SECRET" if token_type == "refresh" else "JWT_ACCESS_SECRET"
    return current_app.config[name]


@jwt.encode_key_loader
def _encode_key(identity) -> str:
    return _secret_for(_signing.get())


class NotSignedIn(Unauthorized):
    code = "unauthorized"
    message = "Sign in first: this needs an access token."


class InvalidToken(Unauthorized):
    code = "invalid_token"
    message = "The token is not valid."


class TokenExpired(Unauthorized):
    code = "token_expired"
    message = "The token has expired; refresh it or sign in again."


class TokenRevoked(Unauthorized):
    code = "token_revoked"
    message = "The token has been revoked; sign in again."


def decode_token(token: str, token_type: str = "access", allow_expired: bool = False) -> dict:
    """The claims of a token of `token_type`, signature checked with that type's key; raises if not valid."""
    try:
        claims = dict(_signed_claims(token, _secret_for(token_type), current_app.config["JWT_ALGORITHM"]))
    except pyjwt.PyJWTError:
        raise InvalidToken() from None
    if claims["type"] != token_type:
        raise InvalidToken()
    if not allow_expired and claims["exp"] <= time.time():
        raise TokenExpired()
    return claims


# A waiting shopper polls with the same access token every few seconds, and checking its signature
# (flask-jwt-extended decoded each token three times) was a fifth of a poll's time. A token whose
# signature was checked once is remembered, keyed by the whole token and the key (a changed token or a
# rotated key is a miss); expiry is checked on every use, and revocation is asked of Redis every time.
@lru_cache(maxsize=16_384)
def _signed_claims(token: str, secret: str, algorithm: str) -> dict:
    return pyjwt.decode(
        token,
        secret,
        algorithms=[algorithm],
        options={"require": ["exp", "sub", "jti", "type"], "verify_exp": False},
    )


def revocation_keys(claims: dict) -> list[str]:
    """The keys that say whether a token still works: its own, its family's, its account's generation."""
    return [
        REVOKED_KEY.format(jti=claims["jti"]),
        FAMILY_REVOKED_KEY.format(family=token_family(claims)),
        GENERATION_KEY.format(account_id=claims["sub"]),
    ]


def token_family(claims: dict) -> str:
    """The sign-in a token belongs to (a token from before families is a family of its own)."""
    return claims.get("fam") or claims["jti"]


def revoked_by(claims: dict, answer: list) -> bool:
    """Whether the MGET of revocation_keys(claims) says the token no longer works."""
    spent, family_ended, generation = answer
    return bool(spent or family_ended) or int(generation or 0) > int(claims.get("gen", 0))


def session_ended(claims: dict) -> bool:
    """Whether the token's family or its account's sessions were ended (not whether it was spent)."""
    _, family_ended, generation = get_redis().mget(revocation_keys(claims))
    return revoked_by(claims, [None, family_ended, generation])


def is_revoked(claims: dict) -> bool:
    return revoked_by(claims, get_redis().mget(revocation_keys(claims)))


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedIn()
    return token.strip()


def verify_request_token(token_type: str = "access", revocation_in_view: bool = False) -> dict:
    """Check the request's bearer token (signature, expiry, type, revocation); its claims, kept in g.

    revocation_in_view: the view asks Redis whether the token is revoked itself, in the same round trip
    as its own work (revocation_step, then refuse_if_revoked).
    """
    claims = decode_token(_bearer_token(), token_type)
    g.token_claims = claims
    if revocation_in_view:
        g.revocation_owed = True
    elif is_revoked(claims):
        raise TokenRevoked()
    return claims


def revocation_step() -> tuple[str, ...]:
    """The command that asks whether the request's token is revoked, for a view's own round trip."""
    return ("MGET", *revocation_keys(current_claims()))


def refuse_if_revoked(answer: list) -> None:
    """Settle the revocation check a view made with revocation_step: raise if the token is revoked."""
    g.revocation_owed = False
    if revoked_by(current_claims(), answer):
        raise TokenRevoked()


def current_claims() -> dict:
    """The verified token's claims (inside a view guarded by login_required)."""
    return g.token_claims


def issue_token_pair(identity: str, claims: dict, *, generation: int, family: str | None = None) -> dict:
    """A fresh access token and refresh token, each signed with its own key; a new family unless given.

    generation: the account's session generation, from its row (Redis's copy may have been lost).
    """
    claims = {**claims, "fam": family or uuid.uuid4().hex, "gen": generation}
    access = create_access_token(identity, additional_claims=claims)
    marker = _signing.set("refresh")
    try:
        refresh = create_refresh_token(identity, additional_claims=claims)
    finally:
        _signing.reset(marker)
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer"}


def revoke(payload: dict) -> None:
    """Put a token on the revocation list for exactly as long as it would have lived."""
    ttl = max(int(payload["exp"] - time.time()), 1)
    get_redis().set(REVOKED_KEY.format(jti=payload["jti"]), "1", ex=ttl)


def revoke_family(payload: dict) -> None:
    """End the token's whole family in Redis: every refresh and access token of that sign-in stops working
    (api.accounts.ended_sessions.end_family records it in the database first)."""
    ttl = int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())
    get_redis().set(FAMILY_REVOKED_KEY.format(family=token_family(payload)), "1", ex=ttl)


def generation_in_redis(account_id: int | str) -> int:
    """The account's session generation as Redis has it (0 once lost or expired)."""
    return int(get_redis().get(GENERATION_KEY.format(account_id=account_id)) or 0)


def raise_generation(account_id: int | str, generation: int) -> None:
    """Raise the account's session generation in Redis to `generation`, never lower it: every token
    issued under an older one stops working.

    The database counts generations; Redis gets the count, not an increment, so a Redis that lost the
    key learns the real value. Never lowered, so a slow writer of an older value cannot bring back
    the tokens a newer one ended.
    """
    key = GENERATION_KEY.format(account_id=account_id)
    ttl = int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())

    def raise_unless_higher(pipe) -> None:
        current = int(pipe.get(key) or 0)
        pipe.multi()
        if generation > current:
            # Older tokens have all expired by the key's expiry: a key gone then ends nothing.
            pipe.set(key, generation, ex=ttl)

    get_redis().transaction(raise_unless_higher, key)


def revoke_once(payload: dict) -> bool:
    """Revoke a token unless it already was; False means someone used it before (a replay)."""
    ttl = max(int(payload["exp"] - time.time()), 1)
    return bool(get_redis().set(REVOKED_KEY.format(jti=payload["jti"]), "1", ex=ttl, nx=True))


def login_required(*roles: Role, refresh: bool = False, revocation_in_view: bool = False) -> Callable:
    """Require a valid token; with roles, one of them.

    revocation_in_view: the view checks the revocation list itself, in the round trip it makes to Redis
    anyway (the waiting room's polls do: one trip instead of two was a third more polls a second through
    gunicorn). A view that forgets fails loudly instead of serving a revoked token.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            claims = verify_request_token("refresh" if refresh else "access", revocation_in_view)
            if roles and claims.get("role") not in roles:
                raise Forbidden("Your account is not allowed to do that.")
            answer = view(*args, **kwargs)
            if g.get("revocation_owed"):
                raise RuntimeError(f"{view.__name__} did not check the token's revocation")
            return answer

        return guarded

    return decorate


operator_required = login_required(Role.OPERATOR)


def current_account_id() -> int:
    """The signed-in account's id, from the verified token."""
    return int(current_claims()["sub"])


# Service-to-service authentication -------------------------------------------------------------

SERVICE_TOKEN_HEADER = "X-Service-Token"
# The address of the client a service call serves (the shopper's, as the storefront saw it).
CLIENT_ADDRESS_HEADER = "X-Client-Address"
SERVICE_AUDIENCE = "yakku-internal"
SERVICE_TOKEN_LIFETIME = 60


class ServiceTokenRequired(Unauthorized):
    code = "service_token_required"
    message = "This endpoint is internal: it needs a valid service token."


def sign_service_token(secret: str, caller: str) -> str:
    """A short-lived token one service shows another, signed with the deployment's service key."""
    now = int(time.time())
    claims = {"iss": caller, "aud": SERVICE_AUDIENCE, "iat": now, "exp": now + SERVICE_TOKEN_LIFETIME}
    return pyjwt.encode(claims, secret, algorithm="HS256")


def service_token(caller: str) -> str:
    """A service token signed with the current app's service key."""
    return sign_service_token(current_app.config["SERVICE_SECRET"], caller)


def calling_service() -> str:
    """The verified name of the service making this request; raises unless the token is valid."""
    token = request.headers.get(SERVICE_TOKEN_HEADER, "")
    try:
        claims = pyjwt.decode(
            token,
            current_app.config["SERVICE_SECRET"],
            algorithms=["HS256"],
            audience=SERVICE_AUDIENCE,
            options={"require": ["exp", "iss", "aud"]},
        )
    except pyjwt.PyJWTError:
        raise ServiceTokenRequired() from None
    return claims["iss"]


def service_required(view: Callable) -> Callable:
    """Only another Yakku service may call this view; a shopper's token is never enough."""

    @wraps(view)
    def guarded(*args, **kwargs):
        g.calling_service = calling_service()
        return view(*args, **kwargs)

    guarded.service_only = True  # the service client declares its calls to it internal (a test checks)
    return guarded


def client_address() -> str:
    """The address of the client this request serves: forwarded by a verified service, else the peer's.

    Behind the storefront every shopper's request comes from the web host: limits keyed on the peer
    alone would be shared by every shopper. The forwarded address is believed only beside a valid
    service token, so a caller reaching the API directly cannot pick someone else's.
    """
    forwarded = request.headers.get(CLIENT_ADDRESS_HEADER, "")
    if forwarded and _from_a_service():
        return forwarded[:64]
    return request.remote_addr or ""


def _from_a_service() -> bool:
    try:
        calling_service()
    except ServiceTokenRequired:
        return False
    return True
