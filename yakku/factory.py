"""App factories: one for the internal JSON services, one for the shopper- and operator-facing web."""

from pathlib import Path

from apiflask import APIFlask
from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.routing import IntegerConverter

import admission
import api
import storefront
from api import auth, client
from api.common import ErrorOut
from yakku import config as yakku_config
from yakku import headers, inputs, queues
from yakku.extensions import csrf, db, limiter, migrate, redis_store

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).parent / "migrations"


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route matches only what fits an INT column (0 to 2**31 - 1).

    A larger id names no row, so it is 404 like any unknown path, never an overflow deep in the
    database driver. Done in the regex, not with max=: werkzeug answers 405 for a rule whose
    converter refuses a value after its regex matched.
    """

    regex = (
        r"\d{1,9}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
        r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7]"
    )


class NoSessions(SessionInterface):
    """The services are stateless (a bearer token per request): no cookie session is opened or saved.

    Flask's default opens a signed-cookie session on every request; that was ~5 % of a waiting-room poll.
    """

    def open_session(self, app: Flask, request):
        return self.make_null_session(app)

    def save_session(self, app: Flask, session, response) -> None:
        return None


def _bind_core(app: Flask, config: dict | None) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    yakku_config.configure(app, config)
    inputs.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    redis_store.init_app(app)
    limiter.init_app(app)

    queues.init_app(app)
    client.init_app(app)


def create_api_app(config: dict | None = None, services: tuple[str, ...] | None = None) -> APIFlask:
    """The JSON services (all, or only `services`), as the `api` process serves them."""
    app = APIFlask(
        "yakku",
        title="Yakku internal services",
        version="1.0",
        spec_path="/api/openapi.json",
        docs_path="/api/docs",
        instance_path=yakku_config.instance_path(),
        # The docs page's Swagger UI is vendored (static/vendor/swagger-ui): nothing from a CDN.
        static_folder=str(ROOT / "static"),
        static_url_path="/api/static",
    )
    app.session_interface = NoSessions()
    swagger_ui = "/api/static/vendor/swagger-ui"
    app.config["SWAGGER_UI_CSS"] = f"{swagger_ui}/swagger-ui.css"
    app.config["SWAGGER_UI_BUNDLE_JS"] = f"{swagger_ui}/swagger-ui-bundle.js"
    app.config["SWAGGER_UI_STANDALONE_PRESET_JS"] = f"{swagger_ui}/swagger-ui-standalone-preset.js"
    app.config["DOCS_FAVICON"] = f"{swagger_ui}/favicon-32x32.png"
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 422
    app.config["SECURITY_SCHEMES"] = {
        "BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "ServiceToken": {"type": "apiKey", "in": "header", "name": "X-Service-Token"},
    }
    _bind_core(app, config)
    app.config["HTTP_ERROR_SCHEMA"] = ErrorOut  # every documented error body has the one stable shape
    app.config["VALIDATION_ERROR_SCHEMA"] = ErrorOut

    auth.init_app(app)
    api.init_app(app, services)
    admission.init_app(app)
    headers.init_app(app, headers.API_POLICY, "API_URL", docs_path=app.docs_path)
    return app


def create_web_app(config: dict | None = None) -> Flask:
    """The storefront and the operator dashboard, as the `web` process serves them."""
    app = Flask(
        "storefront",
        static_folder=str(ROOT / "static"),
        instance_path=yakku_config.instance_path(),
    )
    # Its shoppers' calls (logins, their orders) go to the public api pool; only the calls declared
    # internal (tokenising a card at submit) go to the internal one. The environment or `config` may
    # say otherwise; the services' and workers' default is "all".
    app.config["SERVICE_INTERNAL_CALLS"] = "marked"
    _bind_core(app, config)
    csrf.init_app(app)

    admission.init_app(app)
    storefront.init_app(app)
    headers.init_app(app, headers.PAGE_POLICY, "PUBLIC_URL")
    return app
