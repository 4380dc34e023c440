"""What the sale refuses, and why."""

from yakku.errors import Conflict, Forbidden, NotFound, YakkuError


class SaleNotFound(NotFound):
    code = "sale_not_found"
    message = "There is no such sale."


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message = "The sale cannot do that in its current state."


class SaleNotOpen(Conflict):
    code = "sale_not_open"
    message = "This sale is not taking shoppers."


class SaleSettingsLocked(Conflict):
    code = "sale_settings_locked"
    message = "Units, product and opening time can only change while the sale is a draft."


class NotEnoughStock(Conflict):
    code = "not_enough_stock"
    message = "The catalog does not have that many units of the product to put on sale."


class NotInQueue(NotFound):
    code = "not_in_queue"
    message = "You have not joined this sale's waiting room."


class PlaceLost(NotInQueue):
    code = "place_lost"
    message = (
        "The waiting line was lost in a fault on our side, and your place with it; join again for a new"
        " place. Nothing was charged."
    )


class NotAdmitted(Forbidden):
    code = "not_admitted"
    message = "You have not been admitted to this sale yet."


class TicketInvalid(YakkuError):
    status = 400
    code = "ticket_invalid"
    message = "This ticket is not one we issued."


class TicketExpired(Conflict):
    code = "ticket_expired"
    message = "This ticket's checkout window has passed."


class TicketUsed(Conflict):
    code = "ticket_used"
    message = "This ticket has already been used."


class NotYourTicket(Forbidden):
    code = "not_your_ticket"
    message = "This ticket belongs to another shopper."


class TicketWrongSale(Conflict):
    code = "ticket_wrong_sale"
    message = "This ticket is for another sale."


class SoldOut(Conflict):
    code = "sold_out"
    message = "Sold out: no units are left."


class InsufficientUnits(Conflict):
    code = "insufficient_units"
    message = "Fewer units are left than you asked for."


class LimitExceeded(Conflict):
    code = "limit_exceeded"
    message = "That is more units than one shopper may buy in this sale."


class QuantityOverLimit(YakkuError):
    status = 422
    code = "quantity_over_limit"
    message = "That is more units than one shopper may buy in this sale."


class BadQuantity(YakkuError):
    status = 422
    code = "bad_quantity"
    message = "The quantity must be at least 1."


class ReservationRefused(Conflict):
    code = "reservation_refused"
    message = "This ticket's reservation cannot change that way."


class CheckoutInProgress(Conflict):
    code = "checkout_in_progress"
    message = "Your checkout is being processed; wait for its outcome."


class DrawBusy(Conflict):
    code = "draw_busy"
    message = "Shoppers joined the pre-queue faster than the draw could be placed: try opening again."
