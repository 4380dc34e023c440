"""Account pages. Each form posts and redirects (PRG); a refused form is shown again with its messages."""

from flask import current_app, flash, redirect, render_template, request, session, url_for

from api.accounts import VERIFY_PAGE_PATH
from api.client import accounts
from api.client.errors import ServiceRejected
from storefront import session as shopper_session
from storefront.account.blueprint import bp
from storefront.account.forms import DeleteAccountForm, LogInForm, LogOutForm, ResendForm, SignUpForm
from storefront.errors import apply_field_errors
from yakku.extensions import get_redis, limiter

# What the verify page says for each way a link can fail.
LINK_PROBLEMS = {
    "link_expired": "This confirmation link has expired. Ask for a new one below.",
    "link_used": "This link has already been used, or a newer one replaced it. "
    "If you confirmed your address already, just log in.",
    "link_invalid": "This confirmation link is not valid. "
    "Check that you copied all of it, or ask for a new one.",
}
VERIFY_PATH = VERIFY_PAGE_PATH.removeprefix(bp.url_prefix)


def _edge_rate_limit() -> str:
    return current_app.config["WEB_AUTH_RATE_LIMIT"]


# The storefront is the edge that sees each client's address: it limits attempts per address here,
# and the accounts service limits them per e-mail behind it.
edge_limit = limiter.limit(_edge_rate_limit, methods=["POST"])


@bp.route("/signup", methods=["GET", "POST"])
@edge_limit
def signup():
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            accounts().sign_up(
                json={"name": form.name.data, "email": form.email.data, "password": form.password.data}
            )
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            session["pending_email"] = form.email.data.strip().lower()
            return redirect(url_for("account.check_email"))
    return render_template("storefront/account/signup.html", form=form), 422 if form.errors else 200


@bp.get("/check-email")
def check_email():
    email = session.get("pending_email")
    return render_template("storefront/account/check_email.html", email=email, resend=ResendForm(email=email))


@bp.get(VERIFY_PATH)
def verify():
    token = request.args.get("token", "")
    problem, account = None, None
    if not token:
        problem = LINK_PROBLEMS["link_invalid"]
    else:
        try:
            account = accounts().verify(json={"token": token})
        except ServiceRejected as error:
            problem = LINK_PROBLEMS.get(error.code, LINK_PROBLEMS["link_invalid"])
    if account:
        session.pop("pending_email", None)
        login = LogInForm(email=account["email"], formdata=None)
        return render_template("storefront/account/verify.html", account=account, form=login)
    resend = ResendForm(email=session.get("pending_email"), formdata=None)
    return render_template("storefront/account/verify.html", problem=problem, resend=resend), 400


@bp.post("/verification/resend")
@edge_limit
def resend():
    form = ResendForm()
    if form.validate_on_submit():
        try:
            answer = accounts().resend_verification(json={"email": form.email.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            session["pending_email"] = form.email.data.strip().lower()
            flash(answer.get("message") or "A new link is on its way.", "success")
            return redirect(url_for("account.check_email"))
    status = 422 if form.errors or form.form_errors else 400
    return render_template("storefront/account/check_email.html", email=None, resend=form), status


@bp.route("/login", methods=["GET", "POST"])
@edge_limit
def login():
    form = LogInForm(next=request.args.get("next"))
    unverified = False
    if form.validate_on_submit():
        try:
            pair = accounts().login(json={"email": form.email.data, "password": form.password.data})
            account = accounts(token=pair["access_token"]).me()
        except ServiceRejected as error:
            unverified = error.code == "account_unverified"
            if error.code == "invalid_credentials":
                form.password.errors.append(error.message)
            else:
                apply_field_errors(form, error)
        else:
            shopper_session.sign_in(pair, account)
            greeting = "Welcome back" if _seen_before(account["id"]) else "Welcome"
            flash(f"{greeting}, {account['name']}.", "success")
            return redirect(shopper_session.safe_next(form.next.data, url_for("shop.home")))
    resend = ResendForm(email=form.email.data, formdata=None) if unverified else None
    status = 422 if form.errors or form.form_errors else 200
    return render_template("storefront/account/login.html", form=form, resend=resend), status


@bp.post("/logout")
def logout():
    form = LogOutForm()
    if not form.validate_on_submit():
        return redirect(url_for("shop.home"))
    shopper_session.sign_out()
    flash("You are logged out.", "success")
    return redirect(url_for("shop.home"))


@bp.route("/delete", methods=["GET", "POST"])
@shopper_session.shopper_required
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            shopper_session.as_shopper(accounts).delete_me(json={"password": form.password.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            session.clear()  # the accounts service ended every other session of the account already
            flash("Your account is deleted. Thank you for shopping with us.", "success")
            return redirect(url_for("shop.home"))
    return render_template("storefront/account/delete.html", form=form), 422 if form.errors else 200


# Which accounts have logged in to the shop before, so a first login says "Welcome", not "Welcome back".
WELCOMED_KEY = "storefront:welcomed:{account_id}"
WELCOMED_FOR = 400 * 24 * 3600  # a shopper away for more than a year is welcomed afresh


def _seen_before(account_id: int) -> bool:
    """Whether this account logged in before; remembers that it has now (for another WELCOMED_FOR)."""
    key = WELCOMED_KEY.format(account_id=account_id)
    first, _ = get_redis().pipeline().set(key, 1, nx=True).expire(key, WELCOMED_FOR).execute()
    return not first
