"""A forgotten password: ask for a link by e-mail, then choose a new password on the page it opens."""

from flask import flash, redirect, render_template, request, session, url_for

from api.accounts import RESET_PAGE_PATH
from api.client import accounts
from api.client.errors import ServiceRejected
from storefront.account.blueprint import bp
from storefront.account.forms import ForgotPasswordForm, ResetPasswordForm
from storefront.account.views import edge_limit
from storefront.errors import apply_field_errors

# What the reset page says for each way a link can fail.
RESET_PROBLEMS = {
    "link_expired": "This link has expired. Ask for a new one below.",
    "link_used": "This link has been used already. If you chose a new password with it, log in with that.",
    "link_invalid": "This link is not valid. Check that you copied all of it, or ask for a new one below.",
}
RESET_PATH = RESET_PAGE_PATH.removeprefix(bp.url_prefix)


@bp.route("/password/forgot", methods=["GET", "POST"])
@edge_limit
def forgot_password():
    form = ForgotPasswordForm(email=request.args.get("email"))
    if form.validate_on_submit():
        try:
            accounts().forgot_password(json={"email": form.email.data})
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            session["reset_email"] = form.email.data.strip().lower()
            return redirect(url_for("account.reset_sent"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("storefront/account/forgot.html", form=form), status


@bp.get("/password/forgot/sent")
def reset_sent():
    return render_template("storefront/account/reset_sent.html", email=session.get("reset_email"))


@bp.route(RESET_PATH, methods=["GET", "POST"])
@edge_limit
def reset_password():
    form = ResetPasswordForm(token=request.args.get("token", ""))
    problem = None
    if form.validate_on_submit():
        try:
            accounts().reset_password(json={"token": form.token.data, "password": form.password.data})
        except ServiceRejected as error:
            problem = RESET_PROBLEMS.get(error.code)
            if problem is None:
                apply_field_errors(form, error)
        else:
            session.clear()  # every session of the account ended, this browser's too if it had one
            flash(
                "Your password is changed and you are signed out everywhere. Log in with the new one.",
                "success",
            )
            return redirect(url_for("account.login"))
    elif request.method == "GET":
        problem = _link_problem(form.token.data)
    return _page(form, problem)


def _link_problem(token: str) -> str | None:
    if not token:
        return RESET_PROBLEMS["link_invalid"]
    try:
        accounts().check_reset_link(json={"token": token})
    except ServiceRejected as error:
        return RESET_PROBLEMS.get(error.code, RESET_PROBLEMS["link_invalid"])
    return None


def _page(form: ResetPasswordForm, problem: str | None):
    if problem:
        again = ForgotPasswordForm(email=session.get("reset_email"), formdata=None)
        body = render_template("storefront/account/reset.html", problem=problem, again=again)
        status = 400
    else:
        body = render_template("storefront/account/reset.html", form=form)
        status = 422 if form.errors or form.form_errors else 200
    # The page's address holds the token: keep it out of every cache.
    return body, status, {"Cache-Control": "no-store"}
