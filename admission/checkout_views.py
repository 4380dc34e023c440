"""The sale's checkout API: an admitted shopper submits, then polls the outcome the worker writes."""

from apiflask import Schema
from apiflask.fields import Boolean, Float, Integer, Nested, String
from apiflask.validators import Length, Range

from admission import checkout
from admission.audit import audit_sale
from admission.views import bp
from api.auth import Role, current_account_id, login_required, operator_required
from api.common import error_responses
from api.payments.cards import CardFields

GUARDS = error_responses(400, 401, 403, 409, 422)


class CheckoutIn(Schema):
    ticket = String(required=True, validate=Length(min=1, max=1000))
    quantity = Integer(required=True, strict=True, validate=Range(min=1, max=100))
    card = Nested(CardFields, required=True)


class TicketQuery(Schema):
    ticket = String(required=True, validate=Length(min=1, max=1000))


class CheckoutOut(Schema):
    ticket_id = String()
    state = String(metadata={"enum": [state.value for state in checkout.CheckoutState]})
    final = Boolean()
    attempt = Integer()
    quantity = Integer()
    order_id = Integer(allow_none=True)
    message = String()
    updated_at = Float()
    # With state fewer_left: the units that were left; submit again for at most that many.
    units_left = Integer(allow_none=True)


@bp.post("/<int:sale_id>/checkout")
@login_required(Role.SHOPPER, Role.OPERATOR)
@bp.input(CheckoutIn)
@bp.output(CheckoutOut, status_code=202)
@bp.doc(security="BearerAuth", responses=GUARDS)
def submit_checkout(sale_id: int, json_data: dict):
    """Queue the checkout of an admitted shopper's ticket; answers at once, poll for the outcome.

    After a `declined` outcome, `interrupted` (the platform stopped before finishing; nothing was
    charged), or `fewer_left` (fewer units were left than asked: ask again for at most `units_left`),
    the same ticket may be submitted again while its window lasts."""
    card = json_data["card"]
    return checkout.submit(
        sale_id, current_account_id(), json_data["ticket"], json_data["quantity"], card
    ).to_dict()


@bp.get("/<int:sale_id>/checkout")
@login_required(Role.SHOPPER, Role.OPERATOR)
@bp.input(TicketQuery, location="query")
@bp.output(CheckoutOut)
@bp.doc(security="BearerAuth", responses=GUARDS)
def checkout_status(sale_id: int, query_data: dict):
    """Where the checkout of the shopper's own ticket stands."""
    return checkout.status(sale_id, current_account_id(), query_data["ticket"]).to_dict()


@bp.get("/<int:sale_id>/audit")
@operator_required
@bp.doc(
    security="BearerAuth", responses={200: "The sale's figures and invariants", **error_responses(401, 403)}
)
def audit(sale_id: int):
    """The sale's audit: its figures and every invariant, each held or broken."""
    return audit_sale(sale_id).to_dict()
