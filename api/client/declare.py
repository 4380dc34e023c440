"""The declarative part: a method names a verb and a path; the base does the rest (in the manner of Feign)."""

import inspect
import string
from collections.abc import Callable
from typing import Any

IDEMPOTENT_VERBS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class Endpoint:
    """One declared call: verb, path template, whether it may be retried, and whether it is a call between
    services (served by the internal pool, api/client/registry.py)."""

    def __init__(self, verb: str, path: str, idempotent: bool | None, internal: bool, function: Callable):
        self.verb = verb
        self.path = path
        self.idempotent = verb in IDEMPOTENT_VERBS if idempotent is None else idempotent
        self.internal = internal
        self.name = function.__name__
        self.signature = inspect.signature(function)
        self.path_names = [name for _, name, _, _ in string.Formatter().parse(path) if name]
        self.__doc__ = function.__doc__

    def __get__(self, client, owner=None):
        if client is None:
            return self

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = self.signature.bind(client, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(self.signature.parameters)))  # self
            path = self.path.format(**{name: arguments.pop(name) for name in self.path_names})
            return client.send(
                self.verb,
                path,
                json=arguments.pop("json", None),
                params=arguments.pop("params", None),
                idempotent=self.idempotent,
                internal=self.internal,
            )

        call.__name__ = self.name
        call.__doc__ = self.__doc__
        return call


def _verb(verb: str) -> Callable:
    def declare(
        path: str, *, idempotent: bool | None = None, internal: bool = False
    ) -> Callable[[Callable], Endpoint]:
        return lambda function: Endpoint(verb, path, idempotent, internal, function)

    declare.__name__ = verb.lower()
    return declare


get = _verb("GET")
post = _verb("POST")
put = _verb("PUT")
patch = _verb("PATCH")
delete = _verb("DELETE")
