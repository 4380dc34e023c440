"""The e-mail job: SMTP (plain, with login), the file outbox, retries and timeouts."""

import socket
import time
from email import message_from_bytes
from email.policy import default as default_policy
from smtplib import SMTPServerDisconnected

import pytest
from accounts_helpers import drain_mail
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from workers.mail import send_email
from yakku.queues import QueueName, get_queue

ADA = {"name": "Ada", "email": "ada@example.test", "password": "p" * 8}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_file_outbox_writes_one_eml_per_message(app, tmp_path):
    app.config["MAIL_URL"] = f"file://{tmp_path / 'outbox'}"
    with app.app_context():
        first_id = send_email("ada@example.test", "Hello", "First body")
        send_email("bo@example.test", "Hello again", "Second body")
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no drafts left behind
    first = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert (first["To"], first["Subject"], first["Message-ID"]) == ("ada@example.test", "Hello", first_id)
    assert first["From"] == app.config["MAIL_SENDER"]
    assert first.get_content().strip() == "First body"
    assert message_from_bytes(files[1].read_bytes(), policy=default_policy)["To"] == "bo@example.test"


def test_sign_up_mail_is_a_job_enqueued_by_reference(app, client):
    client.post(
        "/api/accounts/signup", json={"name": "Ada", "email": "ada@example.test", "password": "p" * 8}
    )
    with app.app_context():
        [job] = get_queue(QueueName.MAIL).get_jobs()
    assert job.func_name == "workers.mail.send_email"
    assert job.args[0] == "ada@example.test"


class Accepting:
    def __init__(self):
        self.sessions = []

    async def handle_DATA(self, server, session, envelope):
        self.sessions.append((session.authenticated, session.auth_data, envelope))
        return "250 OK"


def only_ada(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"p@ss:word"
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture
def auth_smtp():
    port = free_port()
    handler = Accepting()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=only_ada,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    yield port, handler
    controller.stop()


def test_smtp_with_login(app, auth_smtp):
    port, handler = auth_smtp
    app.config["MAIL_URL"] = f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{port}"
    with app.app_context():
        send_email("ada@example.test", "Hi", "Body")
    [(authenticated, auth, envelope)] = handler.sessions
    assert authenticated and auth.login == b"mailer"
    assert envelope.rcpt_tos == ["ada@example.test"]


def test_smtp_with_a_wrong_password_fails_the_job(app, auth_smtp):
    port, handler = auth_smtp
    app.config["MAIL_URL"] = f"smtp://mailer:nope@127.0.0.1:{port}"
    with app.app_context(), pytest.raises(Exception, match="535|uthentication"):
        send_email("ada@example.test", "Hi", "Body")
    assert handler.sessions == []


def test_an_unreachable_server_leaves_the_mail_scheduled_for_retry(client, app):
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    client.post(
        "/api/accounts/signup", json={"name": "Ada", "email": "ada@example.test", "password": "p" * 8}
    )
    with app.app_context():
        [job] = get_queue(QueueName.MAIL).get_jobs()
    drain_mail(app)
    job.refresh()
    assert job.get_status() == "scheduled"
    assert job.retries_left == 2


def test_a_silent_server_times_out(app):
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{silent.getsockname()[1]}"
        app.config["MAIL_TIMEOUT"] = 0.3
        start = time.monotonic()
        # smtplib reports a read timeout as a disconnect; either way the job fails in time.
        with app.app_context(), pytest.raises((TimeoutError, SMTPServerDisconnected), match="timed out"):
            send_email("ada@example.test", "Hi", "Body")
    assert time.monotonic() - start < 5


def test_an_unknown_scheme_is_refused(app):
    app.config["MAIL_URL"] = "carrier-pigeon://loft"
    with app.app_context(), pytest.raises(ValueError, match="carrier-pigeon"):
        send_email("ada@example.test", "Hi", "Body")
