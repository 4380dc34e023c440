"""Schemas and helpers shared by the services: paging and the error shape for OpenAPI."""

from apiflask import Schema
from apiflask.fields import Dict, Integer, Nested, String
from apiflask.validators import Range
from sqlalchemy import Select

from yakku.extensions import db

MAX_PER_PAGE = 100


class PageQuery(Schema):
    page = Integer(load_default=1, validate=Range(min=1, max=100_000))
    per_page = Integer(load_default=20, validate=Range(min=1, max=MAX_PER_PAGE))


class ErrorDetail(Schema):
    code = String(required=True)
    message = String(required=True)
    fields = Dict()


class ErrorOut(Schema):
    error = Nested(ErrorDetail, required=True)


def page_of(select: Select, page: int, per_page: int) -> dict:
    """One page of a query's rows with the counts a pager needs."""
    result = db.paginate(select, page=page, per_page=per_page, error_out=False, max_per_page=MAX_PER_PAGE)
    return {
        "items": list(result.items),
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


def register_security_schemes(app) -> None:
    """Name, once per app, the two ways callers authenticate, as the services' OpenAPI docs refer to them."""
    from api.auth import SERVICE_TOKEN_HEADER

    schemes = app.config.setdefault("SECURITY_SCHEMES", {})
    schemes.setdefault("BearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    schemes.setdefault("ServiceToken", {"type": "apiKey", "in": "header", "name": SERVICE_TOKEN_HEADER})


def release_connection() -> None:
    """End the session's read transaction so its pooled connection is free during a call to another service.

    Services in one process share one pool: a request holding a connection while it waits for a
    sibling service (which needs one too) can drain the pool and stall both. Callers must have
    nothing unsaved here: a remote call is never part of a local transaction.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unsaved changes before a call to another service: commit them first")
    session.rollback()


def error_responses(*statuses: int) -> dict:
    """OpenAPI error responses of a view, by status (their body is the app's HTTP_ERROR_SCHEMA)."""
    from http import HTTPStatus

    return {status: HTTPStatus(status).phrase for status in statuses}
