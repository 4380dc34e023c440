"""The internal JSON services. Each sub-package is a blueprint that can be served alone or together."""

import contextlib
import importlib

from apiflask import APIFlask
from flask import Flask, abort, jsonify
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from api.common import ping_database
from yakku.errors import YakkuError, error_body, status_code_name
from yakku.extensions import db, get_redis, get_sales_redis
from yakku.reconnect import REDIS_AWAY

SERVICES = ("accounts", "catalog", "wishlist", "cart", "orders", "payments")

# What any operation may answer besides what it documents itself, each in the one error shape.
COMMON_ERRORS = {
    400: "Malformed request: a body that does not parse, or JSON nested too deep",
    413: "Request body too large (MAX_CONTENT_LENGTH)",
    414: "Request URI too long (answered by gunicorn)",
    429: "Too many requests",
    500: "Internal error",
    503: "A service or backend this operation needs is unavailable",
}


def init_app(app: APIFlask, services: tuple[str, ...] | None = None) -> None:
    """Register the named services (all by default), the health check and the JSON error shape."""
    names = tuple(services or SERVICES)
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown services: {', '.join(sorted(unknown))}")
    for name in names:
        module = importlib.import_module(f"api.{name}")
        app.register_blueprint(module.bp)
        if hasattr(module, "init_app"):
            module.init_app(app)
    app.extensions["yakku.services"] = names
    _register_errors(app)
    _register_meta_views(app, names)
    app.spec_processor(document_common_errors)


def document_common_errors(spec: dict) -> dict:
    """Add COMMON_ERRORS to every operation of the OpenAPI document that does not list them already."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for operations in spec["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in COMMON_ERRORS.items():
                operation["responses"].setdefault(
                    str(status), {"description": description, "content": error_body}
                )
    return spec


def _register_errors(app: APIFlask) -> None:
    @app.error_processor
    def _http_error(error):
        fields = {}
        for location_fields in (error.detail or {}).values():
            if isinstance(location_fields, dict):
                fields.update(location_fields)
        code = "validation_error" if error.status_code == 422 else status_code_name(error.status_code)
        message = "Some fields are not valid." if code == "validation_error" else error.message
        return error_body(code, message, fields), error.status_code, error.headers

    @app.errorhandler(YakkuError)
    def _domain_error(error: YakkuError):
        return jsonify(error.to_dict()), error.status

    @app.errorhandler(OperationalError)
    def _database_away(error: OperationalError):
        # The database is unreachable (down, a lost connection, a lock not granted in time): a caller
        # may try again shortly, so it is told so (503, which the service client reads as unavailable),
        # not "something went wrong" (500). A bug (a bad statement, a broken constraint) stays a 500.
        with contextlib.suppress(SQLAlchemyError):  # the rollback may find the database away too
            db.session.rollback()
        app.logger.warning("database unavailable: %s", error.orig)
        body = error_body("database_unavailable", "The database is unavailable right now; try again shortly.")
        return jsonify(body), 503

    def _redis_away(error):
        # Redis refused the connection or left a command unanswered (redis-py gives up after 5 s): as
        # for the database, a caller may try again shortly (503), and no thread waits on it longer.
        app.logger.warning("redis unavailable: %s", error)
        message = "Part of the shop is unavailable right now; try again shortly."
        body = error_body("redis_unavailable", message)
        return jsonify(body), 503

    for away in REDIS_AWAY:
        app.register_error_handler(away, _redis_away)

    @app.errorhandler(500)
    def _internal_error(error):
        return jsonify(error_body("internal_error", "Something went wrong on our side.")), 500


def _register_meta_views(app: Flask, names: tuple[str, ...]) -> None:
    @app.get("/api/health")
    @app.doc(tags=["Health"])
    def health():
        """Whether this process reaches its database and Redis."""
        checks = {
            "database": _check(ping_database),
            "redis": _check(lambda: get_redis().ping()),
        }
        if get_sales_redis() is not get_redis():  # the sales apart (perhaps on a cluster): asked too
            checks["sales_redis"] = _check(lambda: get_sales_redis().ping())
        healthy = all(value == "ok" for value in checks.values())
        return {"status": "ok" if healthy else "degraded", "services": list(names), **checks}, (
            200 if healthy else 503
        )

    @app.get("/api/<service>/openapi.json")
    @app.doc(hide=True)
    def service_spec(service: str):
        """The OpenAPI document of one service: the app's document cut to that service's paths."""
        spec = dict(app.spec)
        prefix = f"/api/{service}/"
        spec["paths"] = {path: ops for path, ops in spec["paths"].items() if f"{path}/".startswith(prefix)}
        if not spec["paths"]:
            abort(404)
        spec["info"] = {**spec["info"], "title": f"Yakku {service} service"}
        return spec


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # a health check reports any failure rather than raising it
        return f"error: {type(exc).__name__}"
    return "ok"
