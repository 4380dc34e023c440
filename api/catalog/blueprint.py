"""The catalog service's blueprint: every view module of the area registers its routes on it."""

from apiflask import APIBlueprint

bp = APIBlueprint("catalog", __name__, url_prefix="/api/catalog", tag="Catalog")
