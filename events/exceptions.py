"""The events process's refusals."""


class TooManyListeners(Exception):
    """The process holds its bound of listeners, or of sales watched: the page keeps polling instead
    (answered 503)."""
