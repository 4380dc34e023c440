"""The account forms. The accounts service has the last word on every field; these only catch the obvious."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, Length

from api.accounts.rules import EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, normalise_email


def _email() -> EmailField:
    return EmailField(
        "E-mail address",
        validators=[DataRequired("Enter your e-mail address."), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


def _name() -> StringField:
    return StringField(
        "Name",
        validators=[DataRequired("Enter your name."), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )


def _new_password(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Choose a password."),
            Length(
                PASSWORD_MIN,
                PASSWORD_MAX,
                f"Choose a password of {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
        description=f"At least {PASSWORD_MIN} characters.",
    )


def _password(label: str = "Password", message: str = "Enter your password.") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(message), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


def _check_address(field) -> None:
    # The service's own address check, here too: a shopper sees every field's problem in one
    # pass rather than the address's only after fixing the others.
    try:
        normalise_email(field.data or "")
    except ValueError as exc:  # the validator's own words, in the shop's one spelling
        raise ValidationError(str(exc).replace("email", "e-mail")) from None


class SignUpForm(FlaskForm):
    name = _name()
    email = _email()
    password = _new_password()

    def validate_email(self, field) -> None:
        _check_address(field)


class LogInForm(FlaskForm):
    email = _email()
    password = _password()
    next = HiddenField()


class ResendForm(FlaskForm):
    email = _email()


class DeleteAccountForm(FlaskForm):
    password = _password("Your password", "Enter your password to confirm.")


class ForgotPasswordForm(FlaskForm):
    email = _email()


class ResetPasswordForm(FlaskForm):
    token = HiddenField()
    password = _new_password("New password")


class NameForm(FlaskForm):
    name = _name()


class EmailChangeForm(FlaskForm):
    email = EmailField(
        "New e-mail address",
        validators=[DataRequired("Enter the new e-mail address."), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
        description="We send a link there; your account moves once you open it.",
    )
    password = _password("Your password", "Enter your password to confirm.")

    def validate_email(self, field) -> None:
        _check_address(field)


class PasswordChangeForm(FlaskForm):
    current_password = _password("Current password", "Enter your current password.")
    new_password = _new_password("New password")


class LogOutForm(FlaskForm):
    """No fields: the CSRF token is what makes logging out a deliberate act."""
