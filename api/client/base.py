"""The base every declared service client stands on."""

from flask import current_app

from api.client.transport import Transport


class ServiceClient:
    """A client for one service; subclasses declare methods with @get/@post/... and set `service`."""

    service: str = ""

    def __init__(self, transport: Transport, token: str | None = None):
        self.transport = transport
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"  # the shopper's own token, for public routes

    def send(self, verb: str, path: str, *, json=None, params=None, idempotent: bool = False):
        """Hand one declared call to the transport."""
        return self.transport.send(
            verb, path, json=json, params=params, headers=self.headers, idempotent=idempotent
        )

    @classmethod
    def for_current_app(cls, token: str | None = None) -> "ServiceClient":
        """This client, on the current app's shared transport for its service (with the shopper's token,
        for the routes a shopper calls)."""
        return cls(current_app.extensions["yakku.client"].transport(cls.service), token)
