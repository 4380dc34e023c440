"""The shopper's sale: join, the waiting room that replaces itself, the checkout, and its outcome.

The waiting-room fragment is the unit htmx swaps: it carries `hx-trigger="every Ns"` with the
server's poll hint while something is still to happen (a failed poll is asked again on the same hint),
and renders without it once the state is final.
Without JavaScript the whole page refreshes itself (a <noscript> meta refresh) on the same hint.
"""

from functools import cache

from flask import abort, current_app, redirect, render_template, request, url_for
from htmx_flask import make_response

from admission import draw, lookup, waiting_room
from admission.checkout import shopper
from admission.exceptions import CheckoutInProgress, SaleNotOpen, SoldOut, TicketExpired, TicketUsed
from admission.states import WaiterState
from api.client import sales
from api.client.errors import ServiceRejected
from storefront.errors import apply_card_errors, error_response
from storefront.sale import room
from storefront.sale.blueprint import bp
from storefront.sale.forms import SaleCheckoutForm
from storefront.sale.room import FORM_KINDS, IN_LINE_KINDS, PanelKind
from storefront.session import current_shopper, shopper_required
from yakku.errors import YakkuError

OUTCOME_OF = {TicketExpired: PanelKind.EXPIRED, SoldOut: PanelKind.SOLD_OUT}


@bp.errorhandler(YakkuError)
def _refused(error: YakkuError):
    return error_response(error.status, error.message)


def _shopper_id() -> int:
    return int(current_shopper()["id"])


@bp.post("/<int:sale_id>/join")
@shopper_required
def join(sale_id: int):
    try:
        waiting_room.join(sale_id, _shopper_id())
    except SaleNotOpen:
        return error_response(409, "This sale is not taking shoppers now.", "The sale is not open")
    return _go(url_for("sale.wait", sale_id=sale_id))


@bp.get("/<int:sale_id>/wait")
@shopper_required
def wait(sale_id: int):
    sale = lookup.live_sale(sale_id)
    current = room.panel(sale_id, _shopper_id())
    if sale is None and current.kind == PanelKind.NOT_JOINED:
        abort(404)
    return _render(current, sale)


@bp.get("/<int:sale_id>/end")
def end(sale_id: int):
    """What every page in line asks every END_CHECK_EVERY_S, whatever its place: nothing (204) while the
    sale goes on; once it has ended, the final panel, with 286, on which htmx stops polling. The same
    answer for everyone, so it needs no sign-in and is rendered once per process."""
    ended = lookup.sale_end(sale_id)
    if ended is None:
        return "", 204
    return _ended_panel(sale_id, ended), 286


@cache
def _ended_panel(sale_id: int, ended: WaiterState) -> str:
    return render_template(
        "storefront/sale/_status.html", panel=room.Panel(PanelKind(ended.value), sale_id), kinds=PanelKind
    )


@bp.get("/<int:sale_id>/draw")
def draw_page(sale_id: int):
    """The sale's draw as published, the shopper's own entry marked, and how anyone can check it."""
    published = sales().draw(sale_id)
    shopper = current_shopper()
    mine = draw.entry_of(published["salt"], shopper["id"]) if shopper and published["salt"] else None
    return render_template("storefront/sale/draw.html", draw=published, mine=mine, sale_id=sale_id)


@bp.post("/<int:sale_id>/checkout")
@shopper_required
def submit(sale_id: int):
    sale = lookup.live_sale(sale_id)
    current = room.panel(sale_id, _shopper_id())
    if current.kind not in FORM_KINDS or sale is None:
        return _render(current, sale)  # not (or no longer) at the checkout: show where they stand
    form = _form(current, sale)
    if not form.validate_on_submit():
        return _render(current, sale, form=form, status=422)
    try:
        shopper.submit(sale_id, _shopper_id(), form.ticket.data, form.quantity.data, form.card())
    except (TicketExpired, SoldOut) as refused:
        # Redis says so before the admitter's next sweep does: tell the shopper now.
        return _render(room.Panel(OUTCOME_OF[type(refused)], sale_id), sale)
    except (CheckoutInProgress, TicketUsed):
        pass  # submitted already (a double click, another tab): show where it stands
    except ServiceRejected as refused:  # payments would not tokenise the card (e.g. a mistyped number)
        apply_card_errors(form, refused)
        return _render(current, sale, form=form, status=422)
    if not request.htmx:
        return redirect(url_for("sale.wait", sale_id=sale_id))  # post, redirect, get: a reload is safe
    return _render(room.panel(sale_id, _shopper_id()), sale)


def _render(current: room.Panel, sale, form: SaleCheckoutForm | None = None, status: int = 200):
    """The fragment for htmx, the whole page otherwise; with a fresh checkout form where one is due."""
    if current.kind in FORM_KINDS and form is None:
        quantity, left = current.checkout.quantity if current.checkout else 1, room.units_left(current)
        quantity = min(quantity, left) if left else quantity  # offer what is left, not what was asked
        form = _form(current, sale, formdata=None, ticket=current.status.ticket, quantity=quantity)
    product = room.sale_product(sale.product_id) if sale and current.kind not in IN_LINE_KINDS else None
    context = {
        "panel": current,
        "sale": sale,
        "form": form,
        "product": product,
        "room": room,
        "kinds": PanelKind,
        "end_check_every": lookup.END_CHECK_EVERY_S,
        "end_safety_net": lookup.END_SAFETY_NET_S,
        "events_url": current_app.config["EVENTS_URL"],
    }
    if request.htmx:
        return render_template("storefront/sale/_status.html", **context), status
    if sale and current.kind in IN_LINE_KINDS:
        context["product"] = room.sale_product(sale.product_id)
    return render_template("storefront/sale/wait.html", **context), status


def _form(current: room.Panel, sale, **fields) -> SaleCheckoutForm:
    """The checkout form, its quantity capped at the sale's limit, or at the units left if fewer are."""
    return SaleCheckoutForm(**fields).limit_quantity(sale.limit if sale else 1, room.units_left(current))


def _go(target: str):
    if request.htmx:
        return make_response("", 200, redirect=target)
    return redirect(target)
