"""The account page: name, e-mail address, password, addresses and recent orders, each form posting to
its own action, which redirects back (PRG) or shows the page again with that form's messages."""

from flask import flash, redirect, render_template, request, session, url_for

from api.accounts import EMAIL_CHANGE_PAGE_PATH
from api.client import accounts, orders
from api.client.errors import ServiceRejected
from storefront import session as shopper_session
from storefront.account.blueprint import bp
from storefront.account.forms import EmailChangeForm, NameForm, PasswordChangeForm
from storefront.account.views import edge_limit
from storefront.delivery import DeliveryForm
from storefront.errors import apply_field_errors

RECENT_ORDERS = 5
EMAIL_CHANGE_PATH = EMAIL_CHANGE_PAGE_PATH.removeprefix(bp.url_prefix)
# What the confirmation page says for each way a change link can fail.
CHANGE_PROBLEMS = {
    "link_expired": "This link has expired. Ask for the change again on your account page.",
    "link_used": "This link has been used already, or a newer one replaced it.",
    "link_invalid": "This link is not valid. Check that you copied all of it.",
    "email_taken": "Another account uses this address now, so your account keeps its old one.",
}


class AddressForm(DeliveryForm):
    """An address to keep as the default for the next orders."""


def _page(status: int = 200, **forms):
    """The account page, with the given forms as posted (their messages) and the others fresh."""
    me = shopper_session.as_shopper(accounts).me()
    blank = {"formdata": None}
    forms = {
        "name_form": NameForm(name=me["name"], **blank),
        "email_form": EmailChangeForm(**blank),
        "password_form": PasswordChangeForm(**blank),
        "address_form": AddressForm(**blank),
        **forms,
    }
    addresses = shopper_session.as_shopper(orders).addresses()
    recent = shopper_session.as_shopper(orders).list_orders(params={"page": 1, "per_page": RECENT_ORDERS})
    body = render_template(
        "storefront/account/account.html", me=me, addresses=addresses, recent=recent, **forms
    )
    return body, status


def _refused(form, error: ServiceRejected, **forms):
    apply_field_errors(form, error)
    # One form among several: a message already beside its field is not said again above the form.
    beside = {message for field in form for message in field.errors}
    form.form_errors[:] = [message for message in form.form_errors if message not in beside]
    return _page(422, **forms)


@bp.get("")
@shopper_session.shopper_required
def account():
    return _page()


@bp.post("/name")
@shopper_session.shopper_required
def rename():
    form = NameForm()
    if not form.validate_on_submit():
        return _page(422, name_form=form)
    try:
        me = shopper_session.as_shopper(accounts).rename_me(json={"name": form.name.data})
    except ServiceRejected as error:
        return _refused(form, error, name_form=form)
    session["account"] = {**session["account"], "name": me["name"]}
    flash("Your name is saved.", "success")
    return redirect(url_for("account.account"))


@bp.post("/email")
@edge_limit
@shopper_session.shopper_required
def change_email():
    form = EmailChangeForm()
    if not form.validate_on_submit():
        return _page(422, email_form=form)
    body = {"email": form.email.data, "password": form.password.data}
    try:
        shopper_session.as_shopper(accounts).change_my_email(json=body)
    except ServiceRejected as error:
        return _refused(form, error, email_form=form)
    flash(
        f"We sent a link to {form.email.data.strip()}. Open it to move your account there; "
        "until then it keeps its current address.",
        "success",
    )
    return redirect(url_for("account.account"))


@bp.post("/password")
@edge_limit
@shopper_session.shopper_required
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(422, password_form=form)
    body = {"current_password": form.current_password.data, "new_password": form.new_password.data}
    try:
        pair = shopper_session.as_shopper(accounts).change_my_password(json=body)
    except ServiceRejected as error:
        return _refused(form, error, password_form=form)
    # Every session of the account ended; this one carries on with the fresh pair.
    shopper_session.sign_in(pair, session["account"])
    flash("Your password is changed. Your other devices are signed out.", "success")
    return redirect(url_for("account.account"))


@bp.post("/addresses/default")
@shopper_session.shopper_required
def set_default_address():
    form = AddressForm()
    if not form.validate_on_submit():
        return _page(422, address_form=form)
    try:
        shopper_session.as_shopper(orders).set_default_address(json=form.details())
    except ServiceRejected as error:
        return _refused(form, error, address_form=form)
    flash("Your next orders go to this address unless you change it at checkout.", "success")
    return redirect(url_for("account.account", _anchor="addresses"))


@bp.post("/addresses/default/forget")
@shopper_session.shopper_required
def forget_default_address():
    # No fields: CSRFProtect checks the token of this post, as of every post of the storefront.
    shopper_session.as_shopper(orders).forget_default_address()
    flash("You have no default address now: checkout starts from your last order's.", "success")
    return redirect(url_for("account.account", _anchor="addresses"))


@bp.get(EMAIL_CHANGE_PATH)
def confirm_email_change():
    try:
        account = accounts().confirm_email_change(json={"token": request.args.get("token") or "-"})
    except ServiceRejected as error:
        problem = CHANGE_PROBLEMS.get(error.code, CHANGE_PROBLEMS["link_invalid"])
        return render_template("storefront/account/email_changed.html", problem=problem), 400
    shopper = shopper_session.current_shopper()
    if shopper and shopper["id"] == account["id"]:
        session["account"] = {**session["account"], "email": account["email"]}
    return render_template("storefront/account/email_changed.html", account=account)
