"""What a request body may be: capped in size (MAX_CONTENT_LENGTH, 413) and in JSON nesting (400).

A JSON document nested 20,000 deep made the parser raise RecursionError, which Flask does not treat as
bad input: every JSON endpoint answered 500 with a traceback. Here any body the parser cannot take, or
nested deeper than any of our schemas goes, is a ValueError, which Flask answers as 400 Bad Request.
"""

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

# Our deepest schema nests four levels; 32 leaves room for any future one and stops pathological input.
MAX_JSON_DEPTH = 32


class TooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH."""


def depth_checked(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """`value` itself, after checking (without recursion) that it nests at most `limit` levels."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise TooDeep(f"JSON nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in children)
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, whose loads refuses over-deep documents with a ValueError rather than crashing."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return depth_checked(super().loads(s, **kwargs))
        except RecursionError:
            raise TooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None


def init_app(app: Flask) -> None:
    """Parse JSON bodies with the depth cap (the size cap is MAX_CONTENT_LENGTH, in yakku/config.py)."""
    app.json = BoundedJSONProvider(app)
    app.before_request(_json_body_parses)


def _json_body_parses() -> None:
    # The APIs' input schemas read bodies through webargs, which parses JSON with the json module itself
    # and lets RecursionError through: a body is parsed here first, through the bounded provider, so a
    # document it refuses is a 400 before any view (or rate-limit key) sees it. Bodies are small (the
    # size cap above), so parsing twice costs microseconds.
    if request.is_json and request.get_data(cache=True):
        request.get_json()
