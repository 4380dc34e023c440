"""Waits the browser tests share."""


def htmx_ready(page) -> None:
    """Wait until the page has loaded and htmx has wired its forms up: a click before that submits
    without htmx (a full page and a flash message instead of the fragment), and an event dispatched
    before it is lost, as on a busy box."""
    page.wait_for_load_state()
    page.wait_for_function("() => window.htmx !== undefined")  # after the load: htmx has processed the page
