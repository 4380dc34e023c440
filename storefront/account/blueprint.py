"""The account pages' blueprint: every view module of the area registers its routes on it."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")
