"""Card checks every caller can make before a card reaches a provider: Luhn, expiry, shape.

A card number is only ever held in memory for the one call that needs it: it is never stored
(payments keep the last four digits) and never logged.
"""

from datetime import UTC, datetime

from apiflask import Schema
from apiflask.fields import Integer, String
from apiflask.validators import Length, Range, Regexp
from marshmallow import ValidationError, pre_load, validates_schema


def digits_only(number: str) -> str:
    """The number without the spaces and dashes people type between digit groups."""
    return "".join(ch for ch in number if ch not in " -")


def luhn_valid(number: str) -> bool:
    """Whether a card number passes the Luhn check (the last digit checks the others)."""
    if not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    """The card's network as its first digits tell it (what a receipt shows beside the last four)."""
    if number.startswith(("34", "37")):
        return "amex"
    for prefix, brand in (("4", "visa"), ("5", "mastercard"), ("2", "mastercard"), ("6", "discover")):
        if number.startswith(prefix):
            return brand
    return "unknown"


def as_card(fields: dict) -> dict:
    """A card as a shopper's form sends it (CardFields) in the shape payments reads (CardIn)."""
    return {
        "number": fields["card_number"],
        "exp_month": fields["exp_month"],
        "exp_year": fields["exp_year"],
        "cvc": fields["cvc"],
    }


def expired(exp_month: int, exp_year: int, now: datetime | None = None) -> bool:
    """Whether a card's expiry (valid through the end of its month) is in the past."""
    now = now or datetime.now(UTC)
    return (exp_year, exp_month) < (now.year, now.month)


def _luhn(number: str) -> None:
    if not luhn_valid(number):
        raise ValidationError("This card number is not valid.")


_NUMBER = [Regexp(r"^\d{12,19}$", error="A card number has 12 to 19 digits."), _luhn]
_CVC = Regexp(r"^\d{3,4}$", error="The security code has 3 or 4 digits.")
# A payment-method token as the provider makes it (the sandbox's: sbx_pm_ and 32 URL-safe characters).
MAX_TOKEN, TOKEN_PATTERN = 100, r"^[A-Za-z0-9_-]+$"
TOKEN = [Length(min=1, max=MAX_TOKEN), Regexp(TOKEN_PATTERN, error="Not a payment-method token.")]


def _digits_in(data, name: str):
    """A body with its card number's spaces and dashes taken out (anything else is left to validation)."""
    if isinstance(data, dict) and isinstance(data.get(name), str):
        return {**data, name: digits_only(data[name])}
    return data


class _Expiry(Schema):
    exp_month = Integer(required=True, strict=True, validate=Range(min=1, max=12))
    exp_year = Integer(required=True, strict=True, validate=Range(min=2000, max=2199))

    @validates_schema
    def _not_expired(self, data, **kwargs):
        if "exp_month" in data and "exp_year" in data and expired(data["exp_month"], data["exp_year"]):
            raise ValidationError("This card has expired.", field_name="exp_year")


class CardIn(_Expiry):
    """A card as payments receives it: {number, exp_month, exp_year, cvc}."""

    number = String(required=True, validate=_NUMBER, load_only=True)
    cvc = String(required=True, validate=_CVC, load_only=True)

    @pre_load
    def _strip(self, data, **kwargs):
        return _digits_in(data, "number")


class CardFields(_Expiry):
    """A card as a shopper's form sends it: card_number, exp_month, exp_year, cvc."""

    card_number = String(required=True, validate=_NUMBER, load_only=True)
    cvc = String(required=True, validate=_CVC, load_only=True)

    @pre_load
    def _strip(self, data, **kwargs):
        return _digits_in(data, "card_number")


CARD_FIELDS = ("card_number", "exp_month", "exp_year", "cvc")


class PayWith(Schema):
    """What pays an order: a `payment_method` token (what the storefront sends), or a card's fields
    (card_number, exp_month, exp_year, cvc) for API callers, which payments tokenises at once."""

    payment_method = String(validate=TOKEN, metadata={"description": "A token from the payments service."})
    card_number = String(validate=_NUMBER, load_only=True)
    exp_month = Integer(strict=True, validate=Range(min=1, max=12))
    exp_year = Integer(strict=True, validate=Range(min=2000, max=2199))
    cvc = String(validate=_CVC, load_only=True)

    @pre_load
    def _strip(self, data, **kwargs):
        return _digits_in(data, "card_number")

    @validates_schema
    def _one_way_to_pay(self, data, **kwargs):
        given = [name for name in CARD_FIELDS if name in data]
        if "payment_method" in data:
            if given:
                raise ValidationError(
                    "Send a payment_method or a card, not both.", field_name="payment_method"
                )
            return
        missing = {name: ["Missing data for required field."] for name in CARD_FIELDS if name not in data}
        if missing:
            raise ValidationError(missing)
        if expired(data["exp_month"], data["exp_year"]):
            raise ValidationError("This card has expired.", field_name="exp_year")


def payment_of(body: dict) -> dict:
    """What a PayWith body pays with, as payments' charge reads it: {payment_method} or {card}."""
    if body.get("payment_method"):
        return {"payment_method": body["payment_method"]}
    return {"card": as_card(body)}
