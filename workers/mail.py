"""The e-mail job: one message, sent through the transport MAIL_URL names.

MAIL_URL forms:
  smtp://host:port                  plain SMTP (add ?starttls=1 to upgrade the connection)
  smtp://user:password@host:port    with login (user and password URL-quoted)
  smtps://host:port                 SMTP over TLS from the first byte
  file:///path/to/outbox            one .eml file per message, the embedded default's outbox

Mail jobs are safe to retry but not exactly-once: a worker that dies after the server accepted a
message and before RQ records success sends that message again on retry. A duplicate e-mail is
acceptable where a lost one is not, so the job carries no deduplication key.
"""

import os
import smtplib
import ssl
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from yakku.queues import QueueName, get_queue

_TRUE = {"1", "true", "yes", "on"}


def enqueue_email(to: str, subject: str, body: str, retry=None):
    """Queue send_email by reference, described by its subject alone.

    RQ's default description is the call with its arguments, and workers log it at every start,
    success and failure: a verification link (a credential) and the address landed in the log.
    """
    return get_queue(QueueName.MAIL).enqueue(
        send_email, to, subject, body, retry=retry, description=f"send_email: {subject}"
    )


def send_email(to: str, subject: str, body: str, html: str | None = None) -> str:
    """Send one message (plain text, and HTML beside it if given) from MAIL_SENDER; returns its Message-ID."""
    message = build_message(current_app.config["MAIL_SENDER"], to, subject, body, html)
    url = current_app.config["MAIL_URL"]
    scheme = urlsplit(url).scheme
    if scheme == "file":
        write_to_outbox(message, Path(unquote(urlsplit(url).path)))
    elif scheme in ("smtp", "smtps"):
        send_over_smtp(message, url, float(current_app.config["MAIL_TIMEOUT"]))
    else:
        raise ValueError(f"MAIL_URL scheme {scheme!r} is not supported: use smtp://, smtps:// or file://")
    return message["Message-ID"]


def build_message(sender: str, to: str, subject: str, body: str, html: str | None = None) -> EmailMessage:
    """A plain-text message (multipart/alternative with `html`) with the headers mail servers expect."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_over_smtp(message: EmailMessage, url: str, timeout: float) -> None:
    """Deliver through the SMTP server of an smtp:// or smtps:// URL."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        context = ssl.create_default_context()
        server = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with server:
        if parts.scheme == "smtp" and query.get("starttls", "").lower() in _TRUE:
            server.starttls(context=ssl.create_default_context())
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write the message as one .eml file; readers never see a half-written file."""
    outbox.mkdir(parents=True, exist_ok=True)
    # Names sort by creation time, so the newest message to an address is the last one listed.
    final = outbox / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
    fd, draft = tempfile.mkstemp(dir=outbox, prefix=".draft-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        os.replace(draft, final)
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    return final
