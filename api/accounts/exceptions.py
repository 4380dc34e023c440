"""What the accounts service refuses, and why."""

from yakku.errors import Conflict, Forbidden, NotFound, Unauthorized, YakkuError


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this e-mail address already exists."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The e-mail address or the password is wrong."


class AccountUnverified(Forbidden):
    code = "account_unverified"
    message = "Confirm your e-mail address first: follow the link we sent you."


class LinkInvalid(YakkuError):
    status = 400
    code = "link_invalid"
    message = "This confirmation link is not valid."


class LinkExpired(YakkuError):
    status = 410
    code = "link_expired"
    message = "This confirmation link has expired; ask for a new one."


class LinkUsed(Conflict):
    code = "link_used"
    message = "This confirmation link has already been used or replaced by a newer one."


class ResetLinkInvalid(LinkInvalid):
    message = "This password-reset link is not valid."


class ResetLinkExpired(LinkExpired):
    message = "This password-reset link has expired; ask for a new one."


class ResetLinkUsed(LinkUsed):
    message = "This password-reset link has already been used."


class SameEmail(YakkuError):
    status = 422
    code = "validation_error"
    message = "This is already your e-mail address."

    def __init__(self, message: str | None = None, *, fields: dict | None = None):
        super().__init__(message, fields=fields or {"email": [self.message]})


class AccountNotFound(NotFound):
    code = "account_not_found"
    message = "This account no longer exists."


class AccountGone(Unauthorized):
    code = "account_gone"
    message = "The account this token was issued for no longer exists."


class WrongPassword(YakkuError):
    """A signed-in shopper confirmed an act with the wrong password (not 401: the session is fine)."""

    status = 422
    code = "wrong_password"
    message = "The password is wrong."

    def __init__(self, message: str | None = None, *, fields: dict | None = None, field: str = "password"):
        super().__init__(message, fields=fields or {field: [self.message]})


class InvalidAccountData(YakkuError):
    """Bad input reaching a service function directly (the API's schemas catch it earlier)."""

    status = 422
    code = "validation_error"
    message = "Some fields are not valid."
