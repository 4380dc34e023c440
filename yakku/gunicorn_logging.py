"""gunicorn's log, naming the address it listens on when each worker binds its own socket.

With --reuse-port (the Procfile's web and api lines) the arbiter binds nothing: every worker opens its
own SO_REUSEPORT socket, so the kernel spreads connections over them. gunicorn then logs the arbiter's
empty list of sockets, "Listening at:  (1234)". Binding one in the arbiter as well would be worse than
a blank: the kernel would hand it connections nobody accepts. So the line is completed instead.
"""

from gunicorn.glogging import Logger

LISTENING = "Listening at: %s (%s)"


def address_text(address) -> str:
    """'http://127.0.0.1:8000' for a (host, port) bind, 'unix:/run/yakku.sock' for a socket path."""
    if isinstance(address, tuple):
        host, port = address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return f"unix:{address}"


class ReusePortLogger(Logger):
    """gunicorn's logger; its arbiter's "Listening at" line names the bound addresses under --reuse-port."""

    def info(self, msg, *args, **kwargs):
        if msg == LISTENING and args and not args[0]:
            where = ", ".join(address_text(address) for address in self.cfg.address)
            args = (f"{where} (each worker binds it: --reuse-port)", *args[1:])
        super().info(msg, *args, **kwargs)
