"""Waits the browser tests share."""

# Paying is several service calls (tokenise, pay, charge, stock), a refused card as much as a paid one: on
# a loaded box, seconds. CI's MariaDB leg once took 3 s to answer a pay and 1 s more to load the order
# page, past expect's default 5 s.
PAYING_MS = 15_000


def htmx_ready(page) -> None:
    """Wait until the page has loaded and htmx has wired its forms up: a click before that submits
    without htmx (a full page and a flash message instead of the fragment), and an event dispatched
    before it is lost, as on a busy box."""
    page.wait_for_load_state()
    page.wait_for_function("() => window.htmx !== undefined")  # after the load: htmx has processed the page
