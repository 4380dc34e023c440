"""The sale's JSON API: the operator's lifecycle under /api/sales, and the shopper's place in line."""

from apiflask import APIBlueprint
from flask import Response, jsonify, request

from admission import draw, lookup, sales, waiting_room
from admission.audit import audit_sale
from admission.lookup import END_CHECK_EVERY_S
from admission.schemas import (
    DrawOut,
    SaleChange,
    SaleDetailOut,
    SaleEndOut,
    SaleIn,
    SaleListOut,
    SaleOut,
    SettleOut,
    WaiterStatusOut,
)
from api.auth import Role, current_account_id, login_required, operator_required
from api.common import error_responses
from yakku.extensions import limiter

bp = APIBlueprint("sales", __name__, url_prefix="/api/sales", tag="Sales")
# The waiting room's join and poll: the platform's hottest requests, tens of thousands of shoppers
# asking every few seconds, so each costs one Redis round trip and as little else as it can.
WAITING_ROOM_ENDPOINTS = frozenset({"sales.join_queue", "sales.my_status", "sales.sale_end"})

OPERATOR_ONLY = error_responses(401, 403)
LIFECYCLE = error_responses(401, 403, 404, 409)


def _detail(sale):
    return {**sales.to_dict(sale), "figures": sales.sale_figures(sale.id), "draw": _draw_summary(sale.id)}


def _draw_summary(sale_id: int) -> dict:
    published = draw.published(sale_id)
    entries = published["entries"]
    return {
        "commitment": published["commitment"],
        "seed": published["seed"],
        "entries": None if entries is None else len(entries),
    }


@bp.get("")
@operator_required
@bp.output(SaleListOut)
@bp.doc(security="BearerAuth", responses=OPERATOR_ONLY)
def list_sales():
    """Every sale, newest first (operators only)."""
    return {"items": sales.list_sales()}


@bp.post("")
@operator_required
@bp.input(SaleIn)
@bp.output(SaleOut, status_code=201)
@bp.doc(security="BearerAuth", responses=OPERATOR_ONLY)
def create_sale(json_data: dict):
    """Create a sale as a draft (operators only)."""
    return sales.create_sale(json_data, current_account_id())


@bp.get("/<int:sale_id>")
@operator_required
@bp.output(SaleDetailOut)
@bp.doc(security="BearerAuth", responses=error_responses(401, 403, 404))
def get_sale(sale_id: int):
    """A sale with its live figures: waiting, admitted, sold, left, measured rate (operators only)."""
    return _detail(sales.get_sale(sale_id))


@bp.patch("/<int:sale_id>")
@operator_required
@bp.input(SaleChange)
@bp.output(SaleDetailOut)
@bp.doc(security="BearerAuth", responses=LIFECYCLE)
def update_sale(sale_id: int, json_data: dict):
    """Change settings; rate, cap, window and limit take effect at once on a running sale."""
    return _detail(sales.update_sale(sale_id, json_data))


def _lifecycle(action: str, change, summary: str) -> None:
    def view(sale_id: int):
        return _detail(change(sale_id))

    view.__name__ = f"{action}_sale"
    view.__doc__ = summary
    bp.post(f"/<int:sale_id>/{action}")(
        operator_required(bp.output(SaleDetailOut)(bp.doc(security="BearerAuth", responses=LIFECYCLE)(view)))
    )


_lifecycle("arm", sales.arm_sale, "Take the units from the catalog and load the sale into Redis.")
_lifecycle("open", sales.open_sale, "Open an armed sale now, shuffling its pre-queue once.")
_lifecycle("pause", sales.pause_sale, "Stop admitting; joins are still taken.")
_lifecycle("resume", sales.resume_sale, "Admit again after a pause.")
_lifecycle("close", sales.close_sale, "End the sale; waiters are told and leftover units go back.")


@bp.post("/<int:sale_id>/settle")
@operator_required
@bp.output(SettleOut)
@bp.doc(security="BearerAuth", responses=error_responses(401, 403, 404))
def settle_sale(sale_id: int):
    """Give a closed sale's leftover units back to the catalog once nothing is in flight."""
    return sales.settle_leftovers(sale_id)


@bp.get("/<int:sale_id>/audit")
@operator_required
@bp.doc(
    security="BearerAuth", responses={200: "The sale's figures and invariants", **error_responses(401, 403)}
)
def audit(sale_id: int):
    """The sale's audit: its figures and every invariant, each held or broken."""
    return audit_sale(sale_id).to_dict()


@bp.get("/<int:sale_id>/draw")
@bp.output(DrawOut)
@bp.doc(responses=error_responses(404))
def sale_draw(sale_id: int):
    """The sale's draw, for anyone to check (docs/draw.md): the commitment from arming, the seed and the
    entries in draw order from opening."""
    sales.get_sale(sale_id)  # brings the row up to date: an opening the admitter made is published here
    return draw.published(sale_id)


@bp.get("/<int:sale_id>/end")
@bp.output(SaleEndOut)
@bp.doc(responses=[])
def sale_end(sale_id: int):
    """Whether the sale has ended for those still in line (sold out: every unit paid; or closed). Cheap and
    open to anyone: a waiter far back, whose status hint is long, asks this every
    `check_again_seconds` to be told the end within 2 s."""
    ended = lookup.sale_end(sale_id)
    return jsonify(
        {"ended": ended is not None, "state": ended and ended.value, "check_again_seconds": END_CHECK_EVERY_S}
    )


@limiter.request_filter
def _waiting_room_skips_the_limiter() -> bool:
    # No limit applies to these routes (the poll hint is what paces a waiter), yet Flask-Limiter's
    # before-request hook spent a fifth of a poll's time finding that out; yakku.extensions'
    # FilterFirstLimiter asks this filter before anything else.
    return request.endpoint in WAITING_ROOM_ENDPOINTS


def _waiter_answer(status: waiting_room.WaiterStatus) -> Response:
    # Its fields are JSON values already: returned as a response, the status skips apiflask's
    # marshmallow dump (a tenth of a poll). tests/test_admission_waiting_room.py checks it against
    # WaiterStatusOut, the schema @bp.output documents.
    return jsonify(status.to_dict())


@bp.post("/<int:sale_id>/queue")
@login_required(Role.SHOPPER, Role.OPERATOR)
@bp.output(WaiterStatusOut)
@bp.doc(security="BearerAuth", responses=error_responses(401, 409))
def join_queue(sale_id: int):
    """Join the sale's waiting room (a second join answers the place already held)."""
    return _waiter_answer(waiting_room.join(sale_id, current_account_id()))


@bp.get("/<int:sale_id>/queue/me")
@login_required(Role.SHOPPER, Role.OPERATOR, revocation_in_view=True)
@bp.output(WaiterStatusOut)
@bp.doc(security="BearerAuth", responses=error_responses(401, 404))
def my_status(sale_id: int):
    """Where I stand, and when to ask again (asking keeps my place)."""
    return _waiter_answer(waiting_room.status(sale_id, current_account_id(), check_revocation=True))
