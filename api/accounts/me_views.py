"""The signed-in shopper's own account: a new name, a new e-mail address (proved first), a new password."""

from api.accounts import profile, sessions
from api.accounts.blueprint import bp
from api.accounts.schemas import (
    AcceptedOut,
    AccountOut,
    EmailChangeIn,
    PasswordChangeIn,
    RenameIn,
    TokenPairOut,
)
from api.accounts.views import auth_limit
from api.auth import Role, current_account_id, login_required

EMAIL_CHANGE_ANSWER = {"message": "Check the new address: a link there makes the change."}
SHOPPER = {"security": "BearerAuth"}
signed_in = login_required(Role.SHOPPER, Role.OPERATOR)


@bp.patch("/me")
@signed_in
@bp.input(RenameIn, arg_name="body")
@bp.output(AccountOut)
@bp.doc(**SHOPPER, responses={401: "Not signed in", 422: "Not a name"})
def rename_me(body: dict):
    """Change my name."""
    return profile.rename(current_account_id(), body["name"])


@bp.post("/me/email")
@auth_limit()
@signed_in
@bp.input(EmailChangeIn, arg_name="body")
@bp.output(AcceptedOut, status_code=202)
@bp.doc(**SHOPPER, responses={401: "Not signed in", 422: "Wrong password or same address", 429: "Too many"})
def change_my_email(body: dict):
    """Ask to move my account to a new address (confirmed by my password); it moves once the link sent
    there is followed. The answer never tells whether the new address has an account."""
    profile.request_email_change(current_account_id(), body["password"], body["email"])
    return EMAIL_CHANGE_ANSWER


@bp.post("/me/password")
@auth_limit()
@signed_in
@bp.input(PasswordChangeIn, arg_name="body")
@bp.output(TokenPairOut)
@bp.doc(**SHOPPER, responses={401: "Not signed in", 422: "Wrong current password", 429: "Too many"})
def change_my_password(body: dict):
    """Change my password (confirmed by the current one): every other session ends, and the answer is a
    fresh token pair for this one."""
    return sessions.change_password(current_account_id(), body["current_password"], body["new_password"])
