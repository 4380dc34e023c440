"""Request and response bodies of the accounts service."""

from apiflask import Schema
from apiflask.fields import Boolean, Integer, String
from apiflask.validators import Length
from marshmallow import ValidationError

from api.accounts.rules import EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, normalise_email


def _valid_email(value: str) -> None:
    try:
        normalise_email(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _has_visible_characters(value: str) -> None:
    if not value.strip():
        raise ValidationError("Enter a name.")


def _email() -> String:
    return String(required=True, validate=[Length(max=EMAIL_MAX), _valid_email])


def _name() -> String:
    return String(required=True, validate=[Length(min=1, max=NAME_MAX), _has_visible_characters])


def _new_password() -> String:
    return String(required=True, validate=Length(min=PASSWORD_MIN, max=PASSWORD_MAX))


def _password() -> String:
    # No minimum: a short password is simply wrong, while the maximum bounds the hashing work.
    return String(required=True, validate=Length(min=1, max=PASSWORD_MAX))


class SignUpIn(Schema):
    name = _name()
    email = _email()
    password = _new_password()


class LogInIn(Schema):
    email = _email()
    password = _password()


class EmailIn(Schema):
    email = _email()


class VerifyIn(Schema):
    token = String(required=True, validate=Length(min=1, max=1000))


class ResetIn(Schema):
    token = String(required=True, validate=Length(min=1, max=1000))
    password = _new_password()


class DeleteAccountIn(Schema):
    password = _password()


class RenameIn(Schema):
    name = _name()


class EmailChangeIn(Schema):
    email = _email()
    password = _password()


class PasswordChangeIn(Schema):
    current_password = _password()
    new_password = _new_password()


class LogOutIn(Schema):
    access_token = String(validate=Length(min=1, max=4000))


class AccountOut(Schema):
    id = Integer()
    name = String()
    email = String()
    role = String()
    verified = Boolean()


class TokenPairOut(Schema):
    access_token = String()
    refresh_token = String()
    token_type = String()


class AcceptedOut(Schema):
    message = String()
