"""The wishlist: add from a product page, change quantities inline, remove, and buy it as one order.

Every form posts and redirects without JavaScript; with htmx the same endpoints answer the fragment
that replaces the changed part (and refresh the header count and the total out of band).
"""

import contextlib

from flask import flash, redirect, render_template, request, session, url_for
from htmx_flask import make_response

from api.client import catalog, orders, wishlist
from api.client.errors import ServiceNotFound, ServiceRejected
from storefront.errors import apply_field_errors, readable
from storefront.session import as_shopper, shopper_required
from storefront.shop.blueprint import bp
from storefront.shop.forms import AddToWishlistForm, BuyForm, QuantityForm, RemoveForm


def wishlist_lines() -> list[dict]:
    """The shopper's wishlist, each entry with its product (None when it is no longer sold)."""
    entries = as_shopper(wishlist).items()["items"]
    lines = []
    for entry in entries:
        try:
            product = catalog().product(entry["product_id"])
        except ServiceNotFound:
            product = None
        lines.append(
            {**entry, "product": product, "form": QuantityForm(quantity=entry["quantity"], formdata=None)}
        )
    remember_count(entries)
    return lines


def remember_count(entries: list[dict]) -> None:
    """Keep the header badge's number: units on the wishlist, as its summary counts them, not lines."""
    session["wishlist_count"] = sum(entry["quantity"] for entry in entries)


def summary(lines: list[dict]) -> dict:
    """Units and total of the lines that can still be bought."""
    buyable = [line for line in lines if line["product"] and line["product"]["in_stock"]]
    return {
        "units": sum(line["quantity"] for line in buyable),
        "total": sum(line["quantity"] * line["product"]["price"] for line in buyable),
        "currency": buyable[0]["product"]["currency"] if buyable else "KRW",
        "buyable": len(buyable),
    }


def _page(lines: list[dict], buy_form: BuyForm | None = None, status: int = 200):
    context = {"lines": lines, "summary": summary(lines), "buy_form": buy_form or BuyForm(formdata=None)}
    return render_template("storefront/shop/wishlist.html", remove_form=RemoveForm(), **context), status


@bp.get("/wishlist")
@shopper_required
def show_wishlist():
    return _page(wishlist_lines())


@bp.post("/wishlist/items/<int:product_id>")
@shopper_required
def add_to_wishlist(product_id: int):
    form = AddToWishlistForm()
    if form.validate_on_submit():
        try:
            as_shopper(wishlist).put_item(product_id, json={"quantity": form.quantity.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            remember_count(as_shopper(wishlist).items()["items"])
            if request.htmx:
                return render_template("storefront/shop/_wishlist_added.html", quantity=form.quantity.data)
            flash(f"Added {form.quantity.data} to your wishlist.", "success")
            return redirect(url_for("shop.product", product_id=product_id))
    if request.htmx:
        product = {"id": product_id}
        return render_template("storefront/shop/_wishlist_form.html", form=form, product=product), 422
    flash(" ".join(form.quantity.errors or form.form_errors) or "Could not add that.", "error")
    return redirect(url_for("shop.product", product_id=product_id))


@bp.post("/wishlist/items/<int:product_id>/quantity")
@shopper_required
def change_quantity(product_id: int):
    form = QuantityForm()
    if form.validate_on_submit():
        try:
            as_shopper(wishlist).change_quantity(product_id, json={"quantity": form.quantity.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
    if not request.htmx:
        if form.errors or form.form_errors:
            flash(" ".join(form.quantity.errors or form.form_errors), "error")
        return redirect(url_for("shop.show_wishlist"))
    lines = wishlist_lines()
    line = next((line for line in lines if line["product_id"] == product_id), None)
    if line is None:
        return _fragment_after_removal(lines)
    if form.errors or form.form_errors:
        line["form"] = form
    body = render_template(
        "storefront/shop/_wishlist_row.html",
        line=line,
        remove_form=RemoveForm(),
        summary=summary(lines),
        oob=True,
    )
    return body, 422 if form.errors or form.form_errors else 200


@bp.post("/wishlist/items/<int:product_id>/remove")
@shopper_required
def remove_from_wishlist(product_id: int):
    RemoveForm().validate_on_submit()  # CSRF is checked before the view; this form has nothing else
    with contextlib.suppress(ServiceNotFound):  # already gone, which is what the shopper wanted
        as_shopper(wishlist).remove_item(product_id)
    if request.htmx:
        return _fragment_after_removal(wishlist_lines())
    flash("Removed from your wishlist.", "success")
    return redirect(url_for("shop.show_wishlist"))


def _fragment_after_removal(lines: list[dict]):
    if not lines:
        # The last line went: the whole list becomes the "empty" message.
        body = render_template("storefront/shop/_wishlist_empty.html", oob=True)
        return make_response(body, 200, retarget="#wishlist", reswap="outerHTML")
    return render_template("storefront/shop/_wishlist_summary.html", summary=summary(lines), oob=True)


@bp.post("/wishlist/buy")
@shopper_required
def buy_wishlist():
    form = BuyForm()
    lines = wishlist_lines()
    items = [
        {"product_id": line["product_id"], "quantity": line["quantity"]}
        for line in lines
        if line["product"] and line["product"]["in_stock"]
    ]
    if not form.validate_on_submit() or not items:
        flash("There is nothing on your wishlist that can be bought now.", "error")
        return redirect(url_for("shop.show_wishlist"))
    try:
        order = as_shopper(orders).create_order(
            json={"items": items, "idempotency_key": form.idempotency_key.data}
        )
    except ServiceRejected as error:
        form.form_errors.append(readable(error))
        return _page(lines, form, 409 if error.status == 409 else 422)
    return redirect(url_for("shop.checkout", order_id=order["id"]))
