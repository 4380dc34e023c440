"""The base every declared service client stands on."""

from flask import current_app

from api.client.transport import Transport


class ServiceClient:
    """A client for one service; subclasses declare methods with @get/@post/... and set `service`."""

    service: str = ""

    def __init__(self, transport: Transport, token: str | None = None, internal: Transport | None = None):
        self.transport = transport
        # Calls between services go through their own transport: another pool, another breaker.
        self.internal_transport = internal or transport
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"  # the shopper's own token, for public routes

    def send(
        self,
        verb: str,
        path: str,
        *,
        json=None,
        params=None,
        idempotent: bool = False,
        internal: bool = False,
    ):
        """Hand one declared call to the transport of its pool."""
        transport = self.internal_transport if internal else self.transport
        return transport.send(
            verb, path, json=json, params=params, headers=self.headers, idempotent=idempotent
        )

    @classmethod
    def for_current_app(cls, token: str | None = None) -> "ServiceClient":
        """This client, on the current app's shared transport for its service (with the shopper's token,
        for the routes a shopper calls)."""
        clients = current_app.extensions["yakku.client"]
        internal = clients.transport(cls.service, internal=True)
        return cls(clients.transport(cls.service, internal=clients.every_call_internal), token, internal)
