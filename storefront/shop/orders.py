"""My orders, an order's page with its history, and the checkout that pays an order with a card."""

import contextlib

from flask import flash, redirect, render_template, request, url_for
from htmx_flask import make_response

from api.client import orders, payments, wishlist
from api.client.errors import ServiceError, ServiceNotFound, ServiceRejected
from api.orders.states import OrderState
from api.payments.cards import as_card
from api.payments.states import PAYMENT_DECLINED, PAYMENT_METHOD_EXPIRED, DeclineCode
from storefront.delivery import DELIVERY_FIELDS
from storefront.errors import apply_card_errors
from storefront.session import as_shopper, current_shopper, shopper_required
from storefront.shop.blueprint import bp
from storefront.shop.cart import forget_bought
from storefront.shop.forms import CheckoutForm
from storefront.shop.wishlist import remember_count

PER_PAGE = 10
PAYABLE_STATES = frozenset({OrderState.CREATED, OrderState.PAYMENT_FAILED})
# The payments service's codes for a card the network refused: the shopper can try another card.
DECLINE_CODES = frozenset({PAYMENT_DECLINED, DeclineCode.CARD_DECLINED})
DECLINED = "Payment declined — try another card."
ENTER_AGAIN = "Your card details expired before the payment went through — enter the card again."
# What each decline code (docs/payments.md) tells the shopper; an unknown code reads as DECLINED.
DECLINE_MESSAGES = {
    "card_declined": DECLINED,
    "insufficient_funds": "Your card has insufficient funds — use another card.",
    "expired_card": "Your card has expired — use another card.",
    "incorrect_cvc": "The security code does not match this card — check it and try again.",
}


@bp.get("/orders")
@shopper_required
def my_orders():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = as_shopper(orders).list_orders(params={"page": page, "per_page": PER_PAGE})
    return render_template("storefront/shop/orders.html", result=result)


@bp.get("/orders/<int:order_id>")
@shopper_required
def order_page(order_id: int):
    order = as_shopper(orders).order(order_id)
    return render_template("storefront/shop/order.html", order=order)


@bp.get("/orders/<int:order_id>/checkout")
@shopper_required
def checkout(order_id: int):
    order = as_shopper(orders).order(order_id)
    if order["state"] not in PAYABLE_STATES:
        return redirect(url_for("shop.order_page", order_id=order_id))
    form = CheckoutForm(formdata=None, data=_known_delivery(order))
    return render_template("storefront/shop/checkout.html", order=order, form=form)


def _known_delivery(order: dict) -> dict:
    """The order's delivery if it has one, else the shopper's last, else just their name."""
    delivery = order.get("delivery")
    if not delivery:
        try:
            delivery = as_shopper(orders).latest_delivery()
        except ServiceNotFound:  # a first order: nothing to remember yet
            delivery = {"recipient": current_shopper()["name"]}
    return {name: delivery.get(name, "") for name in DELIVERY_FIELDS}


@bp.post("/orders/<int:order_id>/pay")
@shopper_required
def pay(order_id: int):
    form = CheckoutForm()
    if form.validate_on_submit():  # one pass: every field's problem is shown at once
        try:
            as_shopper(orders).set_delivery(order_id, json=form.details())
            order = as_shopper(orders).pay(order_id, json=_tokenised(form))
        except ServiceNotFound:
            raise
        except ServiceRejected as error:
            _card_refused(form, error)
        else:
            return _paid(order)
    order = as_shopper(orders).order(order_id)
    if order["state"] not in PAYABLE_STATES:  # paid in another tab meanwhile, or cancelled
        return _go(url_for("shop.order_page", order_id=order_id))
    # A new key for the next attempt: the declined one is spent, a retry must be a new charge.
    form.idempotency_key.data = CheckoutForm(formdata=None).idempotency_key.data
    template = "storefront/shop/_card_form.html" if request.htmx else "storefront/shop/checkout.html"
    return render_template(template, order=order, form=form), 422


def _tokenised(form: CheckoutForm) -> dict:
    """The card goes to the payments service first; the order is paid with the short-lived token it
    hands back, so no other service (nor any log of a request to one) ever sees the number or CVC."""
    card = {"card": as_card(form.card()), "account_id": current_shopper()["id"]}
    token = payments().tokenise(json=card)["token"]
    return {"payment_method": token, "idempotency_key": form.idempotency_key.data}


def _card_refused(form: CheckoutForm, error: ServiceRejected) -> None:
    if error.code in DECLINE_CODES or error.status == 402:
        code = (error.fields or {}).get("decline_code", error.code)
        form.card_number.errors = [*form.card_number.errors, DECLINE_MESSAGES.get(code, DECLINED)]
    elif error.code == PAYMENT_METHOD_EXPIRED:
        form.card_number.errors = [*form.card_number.errors, ENTER_AGAIN]
    else:
        apply_card_errors(form, error)


def _paid(order: dict):
    if order["state"] == OrderState.PAID:
        _forget_bought(order)
        forget_bought(order)
        flash("Thank you — your order is paid.", "success")
    else:  # the provider has not answered yet: the order page shows where it stands
        flash("Your payment is being confirmed. This page shows its state.", "info")
    return _go(url_for("shop.order_page", order_id=order["id"]))


def _forget_bought(order: dict) -> None:
    """Take what was just bought off the wishlist: it has done its job."""
    for line in order["lines"]:
        with contextlib.suppress(ServiceError):  # not on the wishlist: the order stands either way
            as_shopper(wishlist).remove_item(line["product_id"])
    remember_count(as_shopper(wishlist).items()["items"])


def _go(target: str):
    """Redirect a plain form post; ask htmx to load the page instead of swapping it into the form."""
    if request.htmx:
        return make_response("", 200, redirect=target)
    return redirect(target)
