"""An app served over real HTTP on a loopback port from a thread of the test process:
`with Served(app) as served: requests.get(served.url + "/health")`.
"""

import threading

from werkzeug.serving import make_server

# How often serve_forever looks for a shutdown: its default, 0.5 s, made every stop (so every test
# with a live service) wait half a second in teardown.
SHUTDOWN_POLL_S = 0.02


class Served:
    """A threaded werkzeug server for `app` on 127.0.0.1:`port` (0: a free one), running from start()."""

    def __init__(self, app, port: int = 0):
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(SHUTDOWN_POLL_S,), daemon=True
        )

    def start(self) -> "Served":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (the requests in flight finish on their own threads)."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "Served":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
