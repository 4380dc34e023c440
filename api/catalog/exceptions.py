"""What the catalog service refuses, and why."""

from yakku.errors import Conflict, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = "This product does not exist or is no longer sold."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    message = "Not enough units are left of some products."


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message = "This key was already used for a reservation of different items."


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    message = "No stock reservation has this key."


class ReservationReleased(Conflict):
    code = "reservation_released"
    message = "This reservation was released: its units are back in stock."
