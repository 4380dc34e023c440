"""The cart: add from a product page or the wishlist, change quantities, remove, and check out as one order.

Like the wishlist, every form works without JavaScript (post, redirect); with htmx the same endpoints
answer the fragment that replaces the changed part, and refresh the header count and the totals out of
band. Stock is shown as the catalog has it now; the order's reservation has the last word.
"""

import contextlib

from flask import flash, redirect, render_template, request, session, url_for
from htmx_flask import make_response

from api.client import cart, catalog, orders
from api.client.errors import ServiceError, ServiceNotFound, ServiceRejected
from storefront.errors import apply_field_errors, readable
from storefront.session import as_shopper, current_shopper, safe_next, shopper_required
from storefront.shop.blueprint import bp
from storefront.shop.forms import AddToCartForm, BuyForm, QuantityForm, RemoveForm


@bp.app_context_processor
def _cart_count():
    return {"cart_count": cart_count()}


def cart_count() -> int | None:
    """Units in the cart for the header badge: read once a session, then kept up to date by every change."""
    if current_shopper() is None:
        return None
    if "cart_count" not in session:
        with contextlib.suppress(ServiceError):  # the badge is a nicety: a page never fails for it
            session["cart_count"] = as_shopper(cart).items()["units"]
    return session.get("cart_count")


def line_stock(line: dict) -> str:
    """Whether a line can be bought as it is: ok, short (fewer left than asked), sold_out, or gone."""
    product = line["product"]
    if product is None:
        return "gone"
    left = product["stock"] if product["in_stock"] else 0
    if left <= 0:
        return "sold_out"
    return "short" if line["quantity"] > left else "ok"


def cart_lines() -> list[dict]:
    """The shopper's cart, each line with its product (None when no longer sold) and its stock verdict."""
    answer = as_shopper(cart).items()
    session["cart_count"] = answer["units"]
    lines = []
    for entry in answer["items"]:
        try:
            product = catalog().product(entry["product_id"])
        except ServiceNotFound:
            product = None
        line = {**entry, "product": product, "form": QuantityForm(quantity=entry["quantity"], formdata=None)}
        line["stock"] = line_stock(line)
        lines.append(line)
    return lines


def totals(lines: list[dict]) -> dict:
    """What checking out buys now: the lines in stock as asked, their units and total."""
    buyable = [line for line in lines if line["stock"] == "ok"]
    return {
        "units": sum(line["quantity"] for line in buyable),
        "total": sum(line["quantity"] * line["product"]["price"] for line in buyable),
        "currency": buyable[0]["product"]["currency"] if buyable else "KRW",
        "buyable": buyable,
        "short": [line for line in lines if line["stock"] == "short"],
        "left_behind": [line for line in lines if line["stock"] in ("sold_out", "gone")],
    }


def _page(lines: list[dict], buy_form: BuyForm | None = None, status: int = 200):
    context = {"lines": lines, "totals": totals(lines), "buy_form": buy_form or BuyForm(formdata=None)}
    return render_template("storefront/shop/cart.html", remove_form=RemoveForm(), **context), status


@bp.get("/cart")
@shopper_required
def show_cart():
    return _page(cart_lines())


@bp.post("/cart/items/<int:product_id>")
@shopper_required
def add_to_cart(product_id: int):
    form = AddToCartForm()
    back = safe_next(request.form.get("next"), url_for("shop.product", product_id=product_id))
    if form.validate_on_submit():
        try:
            as_shopper(cart).add(product_id, json={"quantity": form.quantity.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            session["cart_count"] = as_shopper(cart).items()["units"]
            if request.htmx:
                added = {"quantity": form.quantity.data, "target_id": request.htmx.target}
                return render_template("storefront/shop/_cart_added.html", **added)
            flash(f"Added {form.quantity.data} to your cart.", "success")
            return redirect(back)
    if request.htmx:
        product = {"id": product_id}
        return render_template("storefront/shop/_cart_form.html", form=form, product=product), 422
    flash(" ".join(form.quantity.errors or form.form_errors) or "Could not add that.", "error")
    return redirect(back)


@bp.post("/cart/items/<int:product_id>/quantity")
@shopper_required
def change_cart_quantity(product_id: int):
    form = QuantityForm()
    if form.validate_on_submit():
        try:
            as_shopper(cart).set_quantity(product_id, json={"quantity": form.quantity.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
    failed = bool(form.errors or form.form_errors)
    if not request.htmx:
        if failed:
            flash(" ".join(form.quantity.errors or form.form_errors), "error")
        return redirect(url_for("shop.show_cart"))
    lines = cart_lines()
    line = next((line for line in lines if line["product_id"] == product_id), None)
    if line is None:
        return _after_removal(lines)
    if failed:
        line["form"] = form
    body = render_template(
        "storefront/shop/_cart_row.html", line=line, remove_form=RemoveForm(), totals=totals(lines), oob=True
    )
    return body, 422 if failed else 200


@bp.post("/cart/items/<int:product_id>/remove")
@shopper_required
def remove_from_cart(product_id: int):
    RemoveForm().validate_on_submit()  # CSRF is checked before the view; this form has nothing else
    with contextlib.suppress(ServiceNotFound):  # already gone, which is what the shopper wanted
        as_shopper(cart).remove(product_id)
    if request.htmx:
        return _after_removal(cart_lines())
    flash("Removed from your cart.", "success")
    return redirect(url_for("shop.show_cart"))


def _after_removal(lines: list[dict]):
    if not lines:
        # The last line went: the whole cart becomes the "empty" message.
        body = render_template("storefront/shop/_cart_empty.html", oob=True)
        return make_response(body, 200, retarget="#cart", reswap="outerHTML")
    return render_template("storefront/shop/_cart_summary.html", totals=totals(lines), oob=True)


@bp.post("/cart/checkout")
@shopper_required
def check_out():
    form = BuyForm()
    lines = cart_lines()
    summary = totals(lines)
    if not form.validate_on_submit() or not summary["buyable"] or summary["short"]:
        flash(_why_not(summary), "error")
        return redirect(url_for("shop.show_cart"))
    items = [{"product_id": line["product_id"], "quantity": line["quantity"]} for line in summary["buyable"]]
    try:
        order = as_shopper(orders).create_order(
            json={"items": items, "idempotency_key": form.idempotency_key.data}
        )
    except ServiceRejected as error:
        form.form_errors.append(readable(error))
        return _page(cart_lines(), form, 409 if error.status == 409 else 422)
    return redirect(url_for("shop.checkout", order_id=order["id"]))


def _why_not(summary: dict) -> str:
    if summary["short"]:
        names = ", ".join(line["product"]["name"] for line in summary["short"])
        return f"Fewer units are left than you asked for of {names}: lower the quantity first."
    return "There is nothing in your cart that can be bought now."


def forget_bought(order: dict) -> None:
    """Take what an order bought out of the cart; a paid order has done the cart's job."""
    for line in order["lines"]:
        with contextlib.suppress(ServiceError):  # not in the cart: the order stands either way
            as_shopper(cart).remove(line["product_id"])
    session.pop("cart_count", None)
