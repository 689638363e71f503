"""Ways a message leaves the platform: e-mail over SMTP, and stand-ins for SMS and push.

A :class:`Channel` either returns (the far side accepted the message) or raises
:class:`TemporaryDeliveryError` (try again later) or :class:`PermanentDeliveryError` (this
message will never go through: do not retry).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.notify.models import StandInMessage

SMTP_TIMEOUT_SECONDS = 30.0


class DeliveryError(Exception):
    """A channel could not deliver a message."""


class TemporaryDeliveryError(DeliveryError):
    """The far side is down or busy (connection refused, 4xx): retry later."""


class PermanentDeliveryError(DeliveryError):
    """The far side refused this message for good (5xx on the recipient or content)."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    event_key: str
    channel: str
    recipient: str
    subject: str
    body: str


class Channel(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> None: ...


def valid_email(address: str) -> bool:
    """An ASCII ``local@domain`` address that the e-mail header parser accepts as is."""
    if not address.isascii() or any(c in address for c in "\r\n") or address.count("@") != 1:
        return False
    local, _, domain = address.partition("@")
    if not local or not domain:
        return False
    try:
        return Address(addr_spec=address).addr_spec == address
    except (ValueError, IndexError, HeaderParseError):
        return False


def _sender_domain(mail_from: str) -> str:
    _, address = parseaddr(mail_from)
    domain = address.rpartition("@")[2]
    return domain or "cityhall.localhost"


def message_id(message: OutgoingMessage, mail_from: str) -> str:
    """The same notification always gets the same Message-ID, so a receiver can drop the
    duplicate that a retry after a crash may send (RFC 5322 section 3.6.4)."""
    digest = hashlib.sha256(message.event_key.encode()).hexdigest()[:16]
    return f"<notification.{message.notification_id}.{digest}@{_sender_domain(mail_from)}>"


class EmailChannel:
    """E-mail over real SMTP (``smtplib``), plain, STARTTLS or implicit TLS."""

    name = "email"

    def __init__(self, settings: Settings, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.tls = settings.smtp_tls
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.mail_from = settings.mail_from
        self.timeout = timeout

    def build(self, message: OutgoingMessage) -> EmailMessage:
        if not valid_email(message.recipient):
            raise PermanentDeliveryError(f"invalid e-mail address {message.recipient!r}")
        email = EmailMessage()
        email["Subject"] = message.subject.replace("\r", " ").replace("\n", " ")
        email["From"] = self.mail_from
        email["To"] = Address(addr_spec=message.recipient)
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = message_id(message, self.mail_from)
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body, charset="utf-8")
        return email

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.tls == "starttls":
                smtp.starttls(context=context)
        if self.user:
            password = self.password.get_secret_value() if self.password else ""
            smtp.login(self.user, password)
        return smtp

    def send(self, message: OutgoingMessage) -> None:
        email = self.build(message)
        try:
            with self._connect() as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"recipient refused: {exc.recipients}") from exc
            raise TemporaryDeliveryError(f"recipient deferred: {exc.recipients}") from exc
        except smtplib.SMTPDataError as exc:
            error = f"message refused: {exc.smtp_code} {exc.smtp_error!r}"
            if exc.smtp_code >= 500:
                raise PermanentDeliveryError(error) from exc
            raise TemporaryDeliveryError(error) from exc
        except smtplib.SMTPResponseException as exc:
            raise TemporaryDeliveryError(f"SMTP {exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"{type(exc).__name__}: {exc}") from exc


class StandInChannel:
    """The local stand-in for the SMS gateway or the push service: it records, in the
    caller's transaction, what it would have sent (``standin_messages``)."""

    def __init__(self, name: str, session: Session) -> None:
        self.name = name
        self.session = session

    def send(self, message: OutgoingMessage) -> None:
        self.session.add(
            StandInMessage(channel=self.name, recipient=message.recipient, body=message.body)
        )
        self.session.flush()


def build_channels(settings: Settings, session: Session) -> Mapping[str, Channel]:
    """The channels chosen by settings (``sms_backend``, ``push_backend``)."""
    channels: dict[str, Channel] = {"email": EmailChannel(settings)}
    if settings.sms_backend == "standin":
        channels["sms"] = StandInChannel("sms", session)
    if settings.push_backend == "standin":
        channels["push"] = StandInChannel("push", session)
    return channels
