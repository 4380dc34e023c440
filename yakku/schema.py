"""The whole database schema: every area's models, loaded so one MetaData describes every table."""

import importlib
import importlib.util

from sqlalchemy import MetaData

from yakku.extensions import db

# The top-level areas that may own tables; a service of api/ is an area of its own.
AREAS = ("admission", "storefront", "workers")


def model_modules() -> list[str]:
    """The `models` modules that exist, one per area or service that owns tables."""
    import api

    candidates = [f"api.{name}.models" for name in api.SERVICES] + [f"{area}.models" for area in AREAS]
    return [name for name in candidates if _exists(name)]


def load_models() -> MetaData:
    """Import every models module and return the metadata they fill."""
    for name in model_modules():
        importlib.import_module(name)
    return db.metadata


def _exists(module: str) -> bool:
    package, _, _ = module.rpartition(".")
    return importlib.util.find_spec(package) is not None and importlib.util.find_spec(module) is not None
