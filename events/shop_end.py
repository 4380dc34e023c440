"""Asking the web whether a sale has ended: its GET /sales/ID/end, the same the pages poll.

Asked here rather than read from Redis, so the rule of when a sale has ended (admission/lookup.py
sale_end) and the final panel (rendered once per web process) stay in one place, and the events process
needs neither the sales' Redis (perhaps a cluster) nor the templates.
"""

import logging
import threading

import requests

# The web's answer once the sale has ended (htmx stops polling on it); 204 while it goes on.
ENDED_STATUS = 286
ASK_TIMEOUT_S = 2.0

log = logging.getLogger(__name__)


class ShopEnd:
    """GET {web_url}/sales/ID/end on a kept connection per thread: the final panel, or None meanwhile."""

    def __init__(self, web_url: str, timeout: float = ASK_TIMEOUT_S):
        self.web_url, self.timeout = web_url, timeout
        self._local = threading.local()  # a requests.Session is not promised to be thread-safe

    def __call__(self, sale_id: int) -> str | None:
        """The final panel's HTML once the sale has ended; None while it runs or the web does not answer."""
        url = f"{self.web_url}/sales/{sale_id}/end"
        try:
            answer = self._session().get(url, timeout=self.timeout)
        except requests.RequestException as error:
            log.warning("could not ask %s: %s", url, error)  # asked again on the next round
            return None
        if answer.status_code == ENDED_STATUS:
            return answer.text
        if answer.status_code != 204:
            log.warning("%s answered %s", url, answer.status_code)
        return None

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session
