"""Shopper and operator authentication: JWTs with separate access and refresh keys, revocable in Redis."""

import time
from collections.abc import Callable
from contextvars import ContextVar
from enum import StrEnum
from functools import wraps

import jwt as pyjwt
from flask import Flask, current_app, g, request
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    verify_jwt_in_request,
)

from yakku.errors import Forbidden, Unauthorized, error_body
from yakku.extensions import get_redis, jwt

REVOKED_KEY = "jwt:revoked:{jti}"

# flask-jwt-extended hands the encode-key callback only the identity, so the token type being
# signed travels beside it in a context variable.
_signing = ContextVar("jwt_signing_type", default="access")


class Role(StrEnum):
    SHOPPER = "shopper"
    OPERATOR = "operator"


def init_app(app: Flask) -> None:
    """Bind JWT handling: one key per token type, a Redis revocation list, JSON errors."""
    app.config.setdefault("JWT_SECRET_KEY", app.config["JWT_ACCESS_SECRET"])
    jwt.init_app(app)


def _secret_for(token_type: str) -> str:
    name = "JWT_REFRESH_SECRET" if token_type == "refresh" else "JWT_ACCESS_SECRET"
    return current_app.config[name]


@jwt.encode_key_loader
def _encode_key(identity) -> str:
    return _secret_for(_signing.get())


@jwt.decode_key_loader
def _decode_key(header: dict, payload: dict) -> str:
    return _secret_for(payload.get("type", "access"))


@jwt.token_in_blocklist_loader
def _is_revoked(header: dict, payload: dict) -> bool:
    return bool(get_redis().exists(REVOKED_KEY.format(jti=payload["jti"])))


def _json_error(code: str, status: int = 401) -> Callable:
    def answer(*args):
        messages = {
            "unauthorized": "Sign in first: this needs an access token.",
            "invalid_token": "The token is not valid.",
            "token_expired": "The token has expired; refresh it or sign in again.",
            "token_revoked": "The token has been revoked; sign in again.",
        }
        return error_body(code, messages[code]), status

    return answer


jwt.unauthorized_loader(_json_error("unauthorized"))
jwt.invalid_token_loader(_json_error("invalid_token"))
jwt.expired_token_loader(_json_error("token_expired"))
jwt.revoked_token_loader(_json_error("token_revoked"))


def issue_token_pair(identity: str, claims: dict) -> dict:
    """A fresh access token and refresh token, each signed with its own key."""
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


def revoke_once(payload: dict) -> bool:
    """Revoke a token unless it already was; False means someone used it before (a replay)."""
    ttl = max(int(payload["exp"] - time.time()), 1)
    return bool(get_redis().set(REVOKED_KEY.format(jti=payload["jti"]), "1", ex=ttl, nx=True))


def login_required(*roles: Role, refresh: bool = False) -> Callable:
    """Require a valid token; with roles, one of them."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            if roles and get_jwt().get("role") not in roles:
                raise Forbidden("Your account is not allowed to do that.")
            return view(*args, **kwargs)

        return guarded

    return decorate


operator_required = login_required(Role.OPERATOR)


def current_account_id() -> int:
    """The signed-in account's id, from the verified token."""
    return int(get_jwt_identity())


# Service-to-service authentication -------------------------------------------------------------

SERVICE_TOKEN_HEADER = "X-Service-Token"
SHOPPER_HEADER = "X-Shopper-Id"
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

    return guarded


def forwarded_account_id() -> int | None:
    """The shopper a verified service call acts for, if it forwarded one."""
    value = request.headers.get(SHOPPER_HEADER, "")
    return int(value) if value.isdigit() else None
