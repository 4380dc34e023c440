"""The shop pages' blueprint: every view module of the area registers its routes on it."""

from flask import Blueprint

bp = Blueprint("shop", __name__)
