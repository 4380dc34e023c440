"""The sale's checkout form: the shop's card fields, a quantity up to the sale's limit, and the ticket."""

from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from storefront.shop.forms import CardForm


class SaleCheckoutForm(CardForm):
    # The ticket is signed and bound to the shopper and the sale, so carrying it in the page is safe.
    ticket = HiddenField(validators=[DataRequired("Your ticket is missing. Reload the page.")])
    quantity = IntegerField(
        "Quantity",
        default=1,
        validators=[InputRequired("Enter a quantity.")],
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    idempotency_key = None  # the ticket (and the attempt) key the sale's order and charge

    def limit_quantity(self, limit: int, left: int | None = None) -> "SaleCheckoutForm":
        """Allow 1 to `limit` units, the sale's per-shopper limit, or to `left` if fewer are left."""
        if left and left < limit:
            limit, message = left, f"Only {left} left: choose 1 to {left}." if left > 1 else "Only 1 left."
        else:
            message = f"Choose 1 to {limit}." if limit > 1 else "One per shopper."
        self.quantity.validators = [*self.quantity.validators, NumberRange(1, limit, message)]
        self.quantity.render_kw = {**self.quantity.render_kw, "max": limit}
        return self
