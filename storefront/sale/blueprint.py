"""The shopper's sale pages' blueprint, under /sales."""

from flask import Blueprint

bp = Blueprint("sale", __name__, url_prefix="/sales")
