"""The catalog service."""

from apiflask import APIBlueprint

bp = APIBlueprint("catalog", __name__, url_prefix="/api/catalog", tag="Catalog")
