"""The base of every area's exceptions, and the one JSON shape errors take."""

from http import HTTPStatus


class YakkuError(Exception):
    """A failure the caller can act on; each area subclasses it in its exceptions.py."""

    status: int = 400
    code: str = "bad_request"
    message: str = "The request could not be served."

    def __init__(self, message: str | None = None, *, fields: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields or {}

    def to_dict(self) -> dict:
        return error_body(self.code, self.message, self.fields)


class NotFound(YakkuError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(YakkuError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Forbidden(YakkuError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class Unauthorized(YakkuError):
    status = 401
    code = "unauthorized"
    message = "Sign in first."


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The stable error shape every API answers: {"error": {"code", "message", "fields"}}."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def status_code_name(status: int) -> str:
    """A snake_case code for an HTTP status: 404 -> "not_found"."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"
