"""The delivery-address form, one for the checkout and the account page's default address."""

from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, Length, Optional, Regexp

from api.orders.delivery import POSTAL_CODE, phone_problem


class DeliveryForm(FlaskForm):
    """Where the order goes; filled with the details of the shopper's last order."""

    recipient = StringField(
        "Recipient",
        validators=[DataRequired("Enter who receives the parcel."), Length(max=100)],
        render_kw={"autocomplete": "shipping name"},
    )
    phone = StringField(
        "Contact phone",
        validators=[DataRequired("Enter a phone number the courier can call.")],
        description="The courier calls it if nobody answers the door.",
        render_kw={"autocomplete": "shipping tel", "inputmode": "tel", "placeholder": "010-1234-5678"},
    )
    postal_code = StringField(
        "Postal code",
        validators=[
            DataRequired("Enter the postal code."),
            Regexp(POSTAL_CODE, message="Enter the 5-digit postal code."),
        ],
        render_kw={"autocomplete": "shipping postal-code", "inputmode": "numeric", "maxlength": 5},
    )
    address = StringField(
        "Address",
        validators=[DataRequired("Enter the street address."), Length(max=200)],
        render_kw={"autocomplete": "shipping address-line1", "placeholder": "Street and building number"},
    )
    address_detail = StringField(
        "Apartment, floor, unit (optional)",
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "shipping address-line2"},
    )

    def validate_phone(self, field) -> None:
        problem = phone_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

    def details(self) -> dict:
        """The delivery as the orders service takes it."""
        return {name: (getattr(self, name).data or "").strip() for name in DELIVERY_FIELDS}


DELIVERY_FIELDS = ("recipient", "phone", "postal_code", "address", "address_detail")
