"""Service errors and HTTP errors, mapped once to readable HTML: a page, or an alert fragment for htmx."""

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from htmx_flask import make_response
from werkzeug.exceptions import HTTPException

from api.client.errors import ServiceError, ServiceFailure, ServiceUnavailable
from storefront.session import SessionEnded
from yakku.reconnect import REDIS_AWAY

# What a shopper reads for the service codes whose own message is written for programmers.
FRIENDLY = {
    "validation_error": "Some of what you entered is not valid. Check the fields below.",
    "too_many_requests": "Too many attempts in a short time. Wait a minute and try again.",
    "insufficient_stock": "Not enough units are left of some products. Lower the quantity and try again.",
}

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "That cannot be done now",
    410: "Gone",
    422: "Check your input",
    429: "Slow down",
    500: "Something went wrong",
    502: "Something went wrong",
    503: "We are busy",
}


def readable(error: ServiceError) -> str:
    """The sentence to show a shopper for a service's refusal."""
    return FRIENDLY.get(error.code) or error.message or "The shop could not do that."


def apply_field_errors(form: FlaskForm, error: ServiceError) -> None:
    """Put a service's per-field messages next to the form's fields; the rest above the form."""
    placed = False
    for name, messages in (error.fields or {}).items():
        field = getattr(form, name, None)
        texts = messages if isinstance(messages, list) else [str(messages)]
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *texts]
            placed = True
        else:
            form.form_errors.extend(texts)
    if not placed or error.code != "validation_error":
        form.form_errors.append(readable(error))


# Payments names a card's fields as its API takes them ({"card": {"number": ...}}); the forms' names.
CARD_FIELD_NAMES = {"number": "card_number"}


def apply_card_errors(form: FlaskForm, error: ServiceError) -> None:
    """apply_field_errors for the payments service's refusal of a card a form sent it."""
    fields = dict(error.fields or {})
    card = fields.pop("card", None)
    if isinstance(card, dict):
        fields.update({CARD_FIELD_NAMES.get(name, name): messages for name, messages in card.items()})
    error.fields = fields
    apply_field_errors(form, error)


def error_response(status: int, message: str, title: str | None = None):
    """An error as the whole page, or for htmx as an alert swapped into the page's message area."""
    title = title or TITLES.get(status, "Something went wrong")
    if request.htmx:
        body = render_template("storefront/errors/_alert.html", message=message, title=title)
        return make_response(body, status, retarget="#messages", reswap="innerHTML")
    return render_template(
        "storefront/errors/error.html", message=message, title=title, status=status
    ), status


def send_to_log_in(error: SessionEnded):
    """Forget the session's tokens and send the browser (or htmx) to the login page, back here after."""
    session.pop("tokens", None)
    session.pop("account", None)
    flash(error.message, "warning")
    next_path = request.full_path.rstrip("?") if request.method == "GET" and not request.htmx else None
    target = url_for("account.login", next=next_path)
    if request.htmx:
        return make_response("", 200, redirect=target)
    return redirect(target)


def register(app: Flask) -> None:
    """Install the storefront's error handlers on the web app."""

    app.errorhandler(SessionEnded)(send_to_log_in)

    @app.errorhandler(ServiceUnavailable)
    def _unavailable(error: ServiceUnavailable):
        app.logger.warning("service unavailable: %s", error.message)
        return error_response(503, "Part of the shop is not answering right now. Try again in a moment.")

    def _redis_away(error: Exception):
        # The waiting room and the sale pages read Redis themselves: away, it is the shop busy, not a bug.
        app.logger.warning("redis unavailable: %s", error)
        return error_response(503, "Part of the shop is not answering right now. Try again in a moment.")

    for away in REDIS_AWAY:
        app.register_error_handler(away, _redis_away)

    @app.errorhandler(ServiceFailure)
    def _failure(error: ServiceFailure):
        app.logger.error("service failed: %r %s", error, error.message)
        return error_response(502, "Something went wrong on our side. Try again in a moment.")

    @app.errorhandler(ServiceError)
    def _refused(error: ServiceError):
        return error_response(error.status, readable(error))

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_response(400, "This form has expired. Reload the page and try again.", "Form expired")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        messages = {
            404: "We could not find that page.",
            405: "That page cannot be used that way.",
        }
        return error_response(error.code or 500, messages.get(error.code, error.description))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "Something went wrong on our side. Try again in a moment.")
