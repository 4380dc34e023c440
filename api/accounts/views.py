"""The accounts service's endpoints: parse, call a service function, answer."""

from flask import current_app, request

from api.accounts import profile, resets, services, sessions
from api.accounts.blueprint import bp
from api.accounts.exceptions import AccountNotFound
from api.accounts.rules import EMAIL_MAX, normalise_email
from api.accounts.schemas import (
    AcceptedOut,
    AccountOut,
    DeleteAccountIn,
    EmailIn,
    LogInIn,
    LogOutIn,
    ResetIn,
    SignUpIn,
    TokenPairOut,
    VerifyIn,
)
from api.auth import Role, client_address, current_account_id, current_claims, login_required
from yakku.extensions import limiter

RESEND_ANSWER = {"message": "If an unverified account uses this address, a new link is on its way."}
SIGN_UP_ANSWER = {"message": "Check your e-mail: we sent a message to this address about your account."}
RESET_ANSWER = {"message": "If an account uses this address, a link to choose a new password is on its way."}


def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def auth_limit():
    """The sign-in forms' limit, counted per e-mail address and client (see _per_address_and_caller)."""
    return limiter.limit(_auth_rate_limit, key_func=_per_address_and_caller)


def _per_address_and_caller() -> str:
    # Counted per e-mail address and per client: the address spelled as the account lookup reads it
    # (every Unicode spelling of one address is one counter), the client as the storefront forwards it
    # (the web host's own address is every shopper's). An attacker exhausts only their own counter,
    # never the account's owner's; the storefront also limits each client at its own edge.
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"{_limit_key_of(email)}|{client_address()}"


def _limit_key_of(email) -> str:
    if not isinstance(email, str):
        return ""
    try:
        return normalise_email(email)
    except ValueError:
        return email.strip().casefold()[:EMAIL_MAX]  # refused by the schema anyway; still counted


@bp.post("/signup")
@auth_limit()
@bp.input(SignUpIn, arg_name="body")
@bp.output(AcceptedOut, status_code=202)
@bp.doc(responses={429: "Too many requests"})
def sign_up(body: dict):
    """Create a shopper account and send the verification e-mail; the answer never tells whether the
    address had an account already (its owner is told by e-mail)."""
    services.sign_up(body["name"], body["email"], body["password"])
    return SIGN_UP_ANSWER


@bp.post("/verify")
@bp.input(VerifyIn, arg_name="body")
@bp.output(AccountOut)
@bp.doc(responses={400: "Invalid link", 409: "Used link", 410: "Expired"})
def verify(body: dict):
    """Confirm an e-mail address with the token from the verification link."""
    return services.verify_email(body["token"])


@bp.post("/verification/resend")
@auth_limit()
@bp.input(EmailIn, arg_name="body")
@bp.output(AcceptedOut, status_code=202)
def resend_verification(body: dict):
    """Send a new verification link; the answer never tells whether the address has an account."""
    services.resend_verification(body["email"])
    return RESEND_ANSWER


@bp.post("/login")
@auth_limit()
@bp.input(LogInIn, arg_name="body")
@bp.output(TokenPairOut)
@bp.doc(responses={401: "Wrong credentials", 403: "Unverified"})
def log_in(body: dict):
    """Exchange e-mail and password for an access token and a refresh token."""
    return sessions.log_in(body["email"], body["password"])


@bp.post("/token/refresh")
@login_required(refresh=True, revocation_in_view=True)
@bp.output(TokenPairOut)
@bp.doc(security="BearerAuth", responses={401: "Invalid, expired or spent refresh token"})
def refresh():
    """Trade a refresh token (as Bearer) for a new pair; the old one stops working."""
    return sessions.refresh(current_claims())


@bp.post("/logout")
@login_required(refresh=True)
@bp.input(LogOutIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(security="BearerAuth", responses={401: "Invalid, expired or revoked refresh token"})
def log_out(body: dict):
    """Revoke the refresh token (as Bearer) and, if given, the access token."""
    sessions.log_out(current_claims(), body.get("access_token"))
    return ""


@bp.get("/me")
@login_required(Role.SHOPPER, Role.OPERATOR)
@bp.output(AccountOut)
@bp.doc(security="BearerAuth", responses={401: "Not signed in"})
def me():
    """The signed-in account."""
    account = services.get_account(current_account_id())
    if account is None:
        raise AccountNotFound()
    return account


@bp.post("/me/delete")
@login_required(Role.SHOPPER)
@bp.input(DeleteAccountIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(security="BearerAuth", responses={401: "Not signed in", 403: "Not a shopper", 422: "Wrong password"})
def delete_me(body: dict):
    """Delete my account (confirmed by its password); every session it has ends."""
    sessions.delete_account(current_account_id(), body["password"])
    return ""


@bp.post("/password/forgot")
@auth_limit()
@bp.input(EmailIn, arg_name="body")
@bp.output(AcceptedOut, status_code=202)
@bp.doc(responses={429: "Too many requests"})
def forgot_password(body: dict):
    """Send a link to choose a new password; the answer never tells whether the address has an account."""
    resets.request_reset(body["email"])
    return RESET_ANSWER


@bp.post("/password/reset/check")
@auth_limit()
@bp.input(VerifyIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(responses={400: "Invalid link", 409: "Used link", 410: "Expired", 429: "Too many requests"})
def check_reset_link(body: dict):
    """Whether a reset link still works, so its page can say so before a new password is typed."""
    resets.check_reset(body["token"])
    return ""


@bp.post("/password/reset")
@auth_limit()
@bp.input(ResetIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(responses={400: "Invalid link", 409: "Used link", 410: "Expired", 429: "Too many requests"})
def reset_password(body: dict):
    """Set a new password with a reset link's token (once); every session of the account ends."""
    resets.reset_password(body["token"], body["password"])
    return ""


@bp.post("/email/confirm")
@bp.input(VerifyIn, arg_name="body")
@bp.output(AccountOut)
@bp.doc(responses={400: "Invalid link", 409: "Used link or address taken", 410: "Expired"})
def confirm_email_change(body: dict):
    """Move an account to the new address its change link was sent to."""
    return profile.confirm_email_change(body["token"])
