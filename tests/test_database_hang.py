"""A MySQL server that stops answering (a network gone silent, a frozen server) costs a request its
DATABASE_TIMEOUT_S and a 503, not its thread for ever; once the server answers, the shop serves again.

The database is reached through a loopback proxy the test can freeze: connections stay open and nothing
flows, as when packets are dropped. SQLite has no network: on the embedded default this is skipped.
"""

import selectors
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from yakku.extensions import db
from yakku.factory import create_api_app

TIMEOUT_S = 2


class FreezableProxy:
    """Forwards loopback connections to `upstream` until frozen; frozen, it holds every byte back."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = threading.Event()

    def start(self) -> "FreezableProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def close(self) -> None:
        self.closed.set()
        self.flowing.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        with selectors.DefaultSelector() as selector, client, server:
            for end in peers:
                selector.register(end, selectors.EVENT_READ)
            while not self.closed.is_set():
                if not self.flowing.wait(0.05):
                    continue  # frozen: what was sent waits in the kernel's buffers
                for key, _ in selector.select(0.05):
                    try:
                        data = key.fileobj.recv(65536)
                        if data:
                            peers[key.fileobj].sendall(data)
                    except OSError:  # the client gave up on its connection (a timeout): reset
                        data = b""
                    if not data:  # one end closed: so does the other
                        return


@pytest.fixture
def frozen_database_app(_schema, config, database_url):
    url = sa.make_url(database_url)
    if url.get_backend_name() != "mysql":
        pytest.skip("SQLite has no network to go silent")
    proxy = FreezableProxy((url.host or "127.0.0.1", url.port or 3306)).start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_api_app({**config, "DATABASE_URL": through_proxy, "DATABASE_TIMEOUT_S": TIMEOUT_S})
    yield app, proxy
    proxy.close()
    with app.app_context():
        db.engine.dispose()


def test_a_database_that_stops_answering_costs_a_request_a_503_within_its_timeout_and_then_serves(
    frozen_database_app,
):
    app, proxy = frozen_database_app
    client = app.test_client()
    assert client.get("/api/catalog/products").status_code == 200
    proxy.freeze()
    started = time.monotonic()
    answer = client.get("/api/catalog/products")
    waited = time.monotonic() - started
    assert answer.status_code == 503, answer.json
    assert answer.json["error"]["code"] == "database_unavailable"
    # The pool's ping, then a new connection's handshake, each given up after TIMEOUT_S: no thread
    # waits for ever (PyMySQL's default), nor InnoDB's lock wait.
    assert waited < 10 * TIMEOUT_S
    proxy.thaw()
    assert client.get("/api/catalog/products").status_code == 200
