"""The shop's forms; the services check quantities, stock and cards again and have the last word."""

import uuid
from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from api.wishlist.models import MAX_QUANTITY, MIN_QUANTITY
from storefront.delivery import DeliveryForm


def _quantity(**kwargs) -> IntegerField:
    return IntegerField(
        "Quantity",
        default=MIN_QUANTITY,
        validators=[
            InputRequired("Enter a quantity."),
            NumberRange(MIN_QUANTITY, MAX_QUANTITY, f"Choose {MIN_QUANTITY} to {MAX_QUANTITY}."),
        ],
        render_kw={"min": MIN_QUANTITY, "max": MAX_QUANTITY, "inputmode": "numeric"},
        **kwargs,
    )


def _idempotency_key() -> HiddenField:
    # A fresh key per rendered form: a double click or a resubmitted page makes one order, one charge.
    return HiddenField(default=lambda: uuid.uuid4().hex, validators=[DataRequired(), Length(max=100)])


class AddToWishlistForm(FlaskForm):
    quantity = _quantity()


class AddToCartForm(FlaskForm):
    quantity = _quantity(id="cart-quantity")  # beside the wishlist's quantity on a product page
    next = HiddenField()  # where a plain post goes back to: the product page, or the wishlist


class QuantityForm(FlaskForm):
    quantity = _quantity()


class RemoveForm(FlaskForm):
    """No fields: only the CSRF token."""


class BuyForm(FlaskForm):
    idempotency_key = _idempotency_key()


class CardForm(FlaskForm):
    card_number = StringField(
        "Card number",
        validators=[
            DataRequired("Enter the card number."),
            Regexp(r"^[\d ]{12,23}$", message="Enter the 12 to 19 digits of the card number."),
        ],
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "4242 4242 4242 4242"},
    )
    # No expiry is chosen for the shopper: a preselected first month of this year was already past.
    exp_month = SelectField(
        "Month",
        choices=[("", "MM")] + [(f"{m}", f"{m:02d}") for m in range(1, 13)],
        default="",
        validators=[DataRequired("Choose the month the card expires.")],
        render_kw={"autocomplete": "cc-exp-month"},
    )
    exp_year = SelectField(
        "Year",
        default="",
        validators=[DataRequired("Choose the year the card expires.")],
        render_kw={"autocomplete": "cc-exp-year"},
    )
    cvc = StringField(
        "CVC",
        validators=[
            DataRequired("Enter the security code."),
            Regexp(r"^\d{3,4}$", message="Enter 3 or 4 digits."),
        ],
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123", "maxlength": 4},
    )
    idempotency_key = _idempotency_key()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this_year = date.today().year
        self.exp_year.choices = [("", "YYYY")] + [(f"{y}", f"{y}") for y in range(this_year, this_year + 12)]

    def validate_exp_month(self, field) -> None:
        today = date.today()
        if self.exp_year.data == str(today.year) and field.data and int(field.data) < today.month:
            raise ValidationError("This card has expired: check the month, or use another card.")

    def card(self) -> dict:
        """The card as the shopper entered it (CardFields' shape), for the payments service to tokenise."""
        return {
            "card_number": self.card_number.data.replace(" ", ""),
            "exp_month": int(self.exp_month.data),
            "exp_year": int(self.exp_year.data),
            "cvc": self.cvc.data,
        }


class CheckoutForm(DeliveryForm, CardForm):
    """Delivery and card in one form, checked in one pass so every problem shows at once."""
