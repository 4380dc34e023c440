"""Card checks every caller can make before a card reaches a provider: Luhn, expiry, shape.

A card number is only ever held in memory for the one call that needs it: it is never stored
(payments keep the last four digits) and never logged.
"""

from datetime import UTC, datetime

from apiflask import Schema
from apiflask.fields import Integer, String
from apiflask.validators import Range, Regexp
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


def expired(exp_month: int, exp_year: int, now: datetime | None = None) -> bool:
    """Whether a card's expiry (valid through the end of its month) is in the past."""
    now = now or datetime.now(UTC)
    return (exp_year, exp_month) < (now.year, now.month)


def _luhn(number: str) -> None:
    if not luhn_valid(number):
        raise ValidationError("This card number is not valid.")


_NUMBER = [Regexp(r"^\d{12,19}$", error="A card number has 12 to 19 digits."), _luhn]
_CVC = Regexp(r"^\d{3,4}$", error="The security code has 3 or 4 digits.")


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
        if isinstance(data, dict) and isinstance(data.get("number"), str):
            data = {**data, "number": digits_only(data["number"])}
        return data


class CardFields(_Expiry):
    """A card as a shopper's form sends it: card_number, exp_month, exp_year, cvc."""

    card_number = String(required=True, validate=_NUMBER, load_only=True)
    cvc = String(required=True, validate=_CVC, load_only=True)

    @pre_load
    def _strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("card_number"), str):
            data = {**data, "card_number": digits_only(data["card_number"])}
        return data
