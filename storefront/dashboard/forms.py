"""The operator's forms: a new sale, and the live rate and cap. The sales API checks them again."""

from datetime import UTC, datetime, timedelta

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from admission.models import DECLINE_GRACE_S
from storefront.formatting import shop_zone


def _in_ten_minutes() -> datetime:
    return (datetime.now(shop_zone()) + timedelta(minutes=10)).replace(tzinfo=None, second=0, microsecond=0)


def shop_instant(local: datetime) -> datetime:
    """A wall-clock time read in the shop's zone, as an aware instant; refused if the zone skips it.

    A time the clocks pass twice (when daylight saving ends) is taken at its first passing.
    """
    zone = shop_zone()
    moment = local.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise ValidationError(f"{local:%H:%M} does not exist in {zone.key} that day (the clocks skip it).")
    return moment


def _whole(label: str, low: int, high: int, default: int, description: str = "") -> IntegerField:
    return IntegerField(
        label,
        default=default,
        description=description,
        validators=[
            InputRequired(f"Enter the {label.lower()}."),
            NumberRange(low, high, f"{low} to {high:,}."),
        ],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


def _rate(default=None) -> DecimalField:
    return DecimalField(
        "Admission rate (shoppers a second)",
        default=default,
        places=None,
        validators=[InputRequired("Enter the rate."), NumberRange(0.01, 100_000, "0.01 to 100,000.")],
        render_kw={"step": "any", "inputmode": "decimal"},
    )


class SaleForm(FlaskForm):
    name = StringField(
        "Name", validators=[Optional(), Length(max=200)], render_kw={"placeholder": "Hoodie drop"}
    )
    product_id = SelectField("Product", coerce=int, validators=[InputRequired("Choose a product.")])
    units = _whole("Units", 1, 10_000_000, 100, "Taken from the product's stock when the sale is armed.")
    opens_at = DateTimeLocalField(
        "Opens at",
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired("Enter the opening time.")],
        default=_in_ten_minutes,
    )
    admission_rate = _rate(10)
    admitted_cap = _whole("Cap (admitted, not finished)", 1, 1_000_000, 100)
    checkout_window_s = _whole("Checkout window (seconds)", 10, 86_400, 300)
    per_shopper_limit = _whole("Per-shopper limit", 1, 1000, 1)
    decline_grace_s = IntegerField(
        "Decline grace (seconds)",
        default=DECLINE_GRACE_S,
        description="How long a declined card's units wait for another card before they go back to the line.",
        validators=[Optional(), NumberRange(5, 3600, "5 to 3,600.")],
        render_kw={"min": 5, "max": 3600, "inputmode": "numeric"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opens_at.label.text = f"Opens at ({shop_zone().key})"

    def validate_opens_at(self, field: DateTimeLocalField) -> None:
        if field.data:
            shop_instant(field.data)

    def sale(self) -> dict:
        """The sale as the sales API takes it: the opening time read in the shop's zone, with its offset."""
        opens = shop_instant(self.opens_at.data)
        data = {name: getattr(self, name).data for name in ("product_id", "units", "admitted_cap")}
        return {
            **data,
            "name": self.name.data or "",
            "opens_at": opens.isoformat(),
            "admission_rate": float(self.admission_rate.data),
            "checkout_window_s": self.checkout_window_s.data,
            "per_shopper_limit": self.per_shopper_limit.data,
            "decline_grace_s": self.decline_grace_s.data or DECLINE_GRACE_S,
        }


class LiveSettingsForm(FlaskForm):
    admission_rate = _rate()
    admitted_cap = _whole("Cap (admitted, not finished)", 1, 1_000_000, 100)

    def changes(self) -> dict:
        return {"admission_rate": float(self.admission_rate.data), "admitted_cap": self.admitted_cap.data}


class ActionForm(FlaskForm):
    """The CSRF token of a lifecycle button, and whether the operator confirmed it (closing asks)."""

    confirmed = HiddenField()
