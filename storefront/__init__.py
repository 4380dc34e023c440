"""The shopper pages and fragments, and the operator dashboard."""

from flask import Blueprint, Flask, render_template

bp = Blueprint("storefront", __name__, template_folder="templates")


@bp.get("/")
def home():
    return render_template("storefront/home.html")


def init_app(app: Flask) -> None:
    """Register the storefront's blueprints."""
    app.register_blueprint(bp)
