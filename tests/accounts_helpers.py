"""Action helpers for tests of any area: verified shoppers and an operator, made through the real API.

Use the fixtures (imported into conftest.py):

    def test_something(client, shoppers, operator):
        ada = shoppers.verified(name="Ada", email="ada@example.test")
        client.get("/api/accounts/me", headers=ada.headers)
        client.post("/api/catalog/products", json={...}, headers=operator.headers)

A Member has .id, .name, .email, .password, .role, .access_token, .refresh_token and .headers (the
Authorization header for its access token). Sign-up mail is delivered by draining the mail queue
into the file outbox that the test config's MAIL_URL names, and the link is read from that file.
"""

import itertools
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from workers.worker import make_worker
from yakku.queues import QueueName

DEFAULT_PASSWORD = "correct horse battery"
LINK = re.compile(r"https?://\S+")
_numbers = itertools.count(1)


@dataclass
class Member:
    """An account a test acts as."""

    id: int
    name: str
    email: str
    password: str
    role: str = "shopper"
    access_token: str | None = None
    refresh_token: str | None = None

    @property
    def headers(self) -> dict:
        """The Authorization header carrying this member's access token."""
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def refresh_headers(self) -> dict:
        """The Authorization header carrying this member's refresh token."""
        return {"Authorization": f"Bearer {self.refresh_token}"}


def drain_mail(app) -> None:
    """Run every queued mail job now, in this process, as a worker would."""
    make_worker(app, only=[QueueName.MAIL]).work(burst=True)


def _outbox_files(app) -> list[Path]:
    url = urlsplit(app.config["MAIL_URL"])
    if url.scheme != "file":
        raise RuntimeError(f"the file outbox needs a file:// MAIL_URL, not {app.config['MAIL_URL']}")
    return sorted(Path(unquote(url.path)).glob("*.eml"))  # names sort by creation time


def _read(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=default_policy)


def outbox_messages(app, to: str | None = None) -> list[EmailMessage]:
    """The messages in the file outbox (oldest first), optionally only those sent to `to`."""
    messages = [_read(path) for path in _outbox_files(app)]
    return [m for m in messages if to is None or m["To"].lower() == to.lower()]


def latest_message(app, to: str) -> EmailMessage:
    """The newest message in the file outbox sent to `to` (the outbox is shared by a whole run)."""
    for path in reversed(_outbox_files(app)):
        message = _read(path)
        if message["To"].lower() == to.lower():
            return message
    raise LookupError(f"no message to {to} in the outbox")


def link_in(message: EmailMessage) -> str:
    """The first URL in a message's plain text (its only part, or the plain one beside the HTML)."""
    return LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)


def token_in(message: EmailMessage) -> str:
    """The verification token carried by the link in a message."""
    return parse_qs(urlsplit(link_in(message)).query)["token"][0]


def stored_account(app, email: str) -> tuple[int, str]:
    """The id and stored address of the account with this address (sign-up does not say them, so that
    its answer never tells a new address from a taken one)."""
    from api.accounts.services import find_by_email

    with app.app_context():
        account = find_by_email(email)
        return account.id, account.email


class Shoppers:
    """Makes shoppers through the accounts API."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def unverified(self, name: str | None = None, email: str | None = None, password: str = DEFAULT_PASSWORD):
        """Sign up (the verification mail is left in the queue); a Member without tokens."""
        number = next(_numbers)
        name = name or f"Shopper {number}"
        email = email or f"shopper{number}@example.test"
        answer = self.client.post(
            "/api/accounts/signup", json={"name": name, "email": email, "password": password}
        )
        assert answer.status_code == 202, answer.json
        stored_id, stored_email = stored_account(self.app, email)
        return Member(id=stored_id, name=name, email=stored_email, password=password)

    def verify(self, member: Member) -> None:
        """Deliver the queued mail and follow the newest link sent to the member."""
        drain_mail(self.app)
        token = token_in(latest_message(self.app, member.email))
        answer = self.client.post("/api/accounts/verify", json={"token": token})
        assert answer.status_code == 200, answer.json

    def log_in(self, member: Member) -> Member:
        """Sign in and keep the member's fresh token pair."""
        answer = self.client.post(
            "/api/accounts/login", json={"email": member.email, "password": member.password}
        )
        assert answer.status_code == 200, answer.json
        member.access_token = answer.json["access_token"]
        member.refresh_token = answer.json["refresh_token"]
        return member

    def refresh(self, member: Member, token: str | None = None):
        """Trade the member's refresh token (or `token`) for a new pair; the answer, pair kept if given."""
        headers = {"Authorization": f"Bearer {token or member.refresh_token}"}
        answer = self.client.post("/api/accounts/token/refresh", headers=headers)
        if answer.status_code == 200:
            member.access_token = answer.json["access_token"]
            member.refresh_token = answer.json["refresh_token"]
        return answer

    def me(self, member: Member):
        """The accounts service's answer to the member's /me, with its access token."""
        return self.client.get("/api/accounts/me", headers=member.headers)

    def delete(self, member: Member, password: str | None = None):
        """Delete the member's account through the API, confirmed by its password."""
        body = {"password": password or member.password}
        return self.client.post("/api/accounts/me/delete", json=body, headers=member.headers)

    def verified(self, name: str | None = None, email: str | None = None, password: str = DEFAULT_PASSWORD):
        """A signed-in shopper whose e-mail address is confirmed."""
        member = self.unverified(name=name, email=email, password=password)
        self.verify(member)
        return self.log_in(member)


@pytest.fixture
def shoppers(app, client) -> Shoppers:
    """Makes shoppers: `shoppers.verified(name=..., email=...)` returns a signed-in Member."""
    return Shoppers(app, client)


@pytest.fixture
def operator(app, shoppers) -> Member:
    """A signed-in operator, created as the launcher's seed creates one."""
    from api.accounts import create_operator

    with app.app_context():
        account = create_operator("Olga Operator", "operator@example.test", DEFAULT_PASSWORD)
        member = Member(account.id, account.name, account.email, DEFAULT_PASSWORD, role="operator")
    return shoppers.log_in(member)


class _Collector:
    """An aiosmtpd handler keeping every message the server accepts."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(config):
    """A real SMTP server on a loopback port; MAIL_URL points at it. Request it before `app`."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # aiosmtpd checks its socket by connecting, so port 0 will not do
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    yield collector
    controller.stop()
