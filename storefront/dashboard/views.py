"""The dashboard's pages: thin views over the sales API (actions) and Redis (live figures)."""

from flask import Response, flash, redirect, render_template, request, url_for
from htmx_flask import make_response

from admission import series
from admission.sales import sale_figures as redis_figures
from admission.states import TRANSITIONS, SaleAction, SaleState
from api.client import catalog, sales
from api.client.errors import ServiceNotFound, ServiceRejected
from storefront.dashboard import chart, figures
from storefront.dashboard.blueprint import bp
from storefront.dashboard.forms import ActionForm, LiveSettingsForm, SaleForm
from storefront.errors import apply_field_errors, readable
from storefront.session import as_shopper

FIGURES_POLL_S = 2
# Settling is no move of the sale's state: it gives a closed sale's leftover units back (again, if need be).
SETTLE = "settle"
CONFIRMED = "yes"
ACTIONS = (*(action.value for action in SaleAction), SETTLE)
DONE = {
    SaleAction.ARM: "Armed: the units are loaded; the sale opens on time.",
    SaleAction.OPEN: "Open: shoppers are being admitted.",
    SaleAction.PAUSE: "Paused: nobody is admitted until you resume.",
    SaleAction.RESUME: "Resumed: admitting again.",
    SaleAction.CLOSE: "Closed: waiters are told, unused tickets expire, leftover units go back.",
}


def legal_actions(state: str) -> list[str]:
    """The buttons a sale in `state` shows: its legal moves, and settle once closed."""
    moves = [action.value for (source, action) in TRANSITIONS if source == state]
    return [*moves, SETTLE] if state == SaleState.CLOSED else moves


@bp.get("")
def index():
    items = as_shopper(sales).list_sales()["items"]
    return render_template("storefront/dashboard/index.html", sales=items, product_names=product_names())


def product_names() -> dict[int, str]:
    """Every product's name by id, to say which product a sale sells (one catalog call)."""
    return {p["id"]: p["name"] for p in catalog().products(params={"per_page": 100})["items"]}


def product_name(product_id: int) -> str:
    """One product's name, or what it was if the catalog no longer sells it."""
    try:
        return catalog().product(product_id)["name"]
    except ServiceNotFound:
        return f"Product #{product_id} (no longer sold)"


@bp.route("/sales/new", methods=["GET", "POST"])
def new_sale():
    form = SaleForm()
    products = catalog().products(params={"per_page": 100})["items"]
    form.product_id.choices = [(p["id"], f"{p['name']} — {p['stock']} in stock") for p in products]
    if form.validate_on_submit():
        try:
            sale = as_shopper(sales).create_sale(json=form.sale())
        except ServiceRejected as error:
            apply_field_errors(form, error)
        else:
            flash(f"Sale #{sale['id']} created as a draft. Arm it to load its units.", "success")
            return redirect(url_for("dashboard.sale_page", sale_id=sale["id"]))
    status = 422 if request.method == "POST" else 200
    return render_template("storefront/dashboard/new_sale.html", form=form), status


@bp.get("/sales/<int:sale_id>")
def sale_page(sale_id: int):
    sale = as_shopper(sales).sale(sale_id)
    settings = LiveSettingsForm(formdata=None, data=sale)
    named = {"settings": settings, "product_name": product_name(sale["product_id"])}
    return render_template("storefront/dashboard/sale.html", **_figures_context(sale), **named)


@bp.get("/sales/<int:sale_id>/figures")
def sale_figures(sale_id: int):
    sale = as_shopper(sales).sale(sale_id)
    return render_template("storefront/dashboard/_figures.html", **_figures_context(sale))


def _figures_context(sale: dict) -> dict:
    live = figures.live_figures(sale["id"])
    points = chart.since_opening(series.points(sale["id"]), sale["state"], live["opened_at"])
    return {
        "sale": sale,
        "figures": live,
        "chart": chart.build(points),
        "actions": legal_actions(sale["state"]),
        "action_form": ActionForm(formdata=None),
        "poll_after": None if sale["state"] in (SaleState.DRAFT, SaleState.CLOSED) else FIGURES_POLL_S,
    }


@bp.get("/sales/<int:sale_id>/figures.csv")
def figures_csv(sale_id: int):
    sale = as_shopper(sales).sale(sale_id)
    opened_at = redis_figures(sale_id)["opened_at"]
    points = chart.since_opening(series.points(sale_id), sale["state"], opened_at)
    download = {"Content-Disposition": f'attachment; filename="sale-{sale_id}-figures.csv"'}
    return Response(chart.as_csv(points), mimetype="text/csv", headers=download)


@bp.post("/sales/<int:sale_id>/<any(arm, open, pause, resume, close, settle):action>")
def act(sale_id: int, action: str):
    form = ActionForm()
    if form.validate_on_submit():
        if action == SaleAction.CLOSE and not _confirmed(form):
            return _ask_before_closing(sale_id, form)
        client = as_shopper(sales)
        try:
            answer = getattr(client, action)(sale_id)
        except ServiceRejected as error:
            flash(readable(error), "error")
        else:
            flash(_settled(answer) if action == SETTLE else DONE[action], "success")
    return _go(url_for("dashboard.sale_page", sale_id=sale_id))


def _confirmed(form: ActionForm) -> bool:
    """Whether the operator said yes: to htmx's confirm (it sends only then), or on the asking page."""
    return bool(request.htmx) or form.confirmed.data == CONFIRMED


def _ask_before_closing(sale_id: int, form: ActionForm):
    """A page that asks, for a close that came without htmx's confirm (no script yet, or none at all):
    closing cannot be undone, so it is never done unasked."""
    sale = as_shopper(sales).sale(sale_id)
    waiting = figures.live_figures(sale_id)["waiting"]
    form.confirmed.data = CONFIRMED
    context = {"sale": sale, "waiting": waiting, "action_form": form}
    return render_template("storefront/dashboard/confirm_close.html", **context)


def _settled(answer: dict) -> str:
    if answer.get("settled"):
        return f"Settled: {answer.get('returned', 0)} leftover units went back to the catalog."
    return f"Not settled yet ({(answer.get('reason') or '').replace('_', ' ')}): try again shortly."


@bp.post("/sales/<int:sale_id>/settings")
def change_settings(sale_id: int):
    form = LiveSettingsForm()
    if form.validate_on_submit():
        try:
            as_shopper(sales).update_sale(sale_id, json=form.changes())
        except ServiceRejected as error:
            flash(readable(error), "error")
        else:
            flash("Rate and cap changed; the admitter uses them from its next tick.", "success")
    else:
        flash(" ".join(message for errors in form.errors.values() for message in errors), "error")
    return _go(url_for("dashboard.sale_page", sale_id=sale_id))


@bp.get("/sales/<int:sale_id>/audit")
def audit(sale_id: int):
    client = as_shopper(sales)
    sale = client.sale(sale_id)
    return render_template("storefront/dashboard/audit.html", sale=sale, audit=client.audit(sale_id))


@bp.get("/queues")
def queues():
    return render_template(
        "storefront/dashboard/queues.html", queues=figures.all_queues(), workers=figures.workers()
    )


def _go(target: str):
    if request.htmx:
        return make_response("", 200, redirect=target)
    return redirect(target)
