"""Notifications: the only write path.

``notify`` records the message and queues its delivery in the caller's transaction, so a
message exists (and is sent) if and only if the business change that caused it commits.
``deliver`` is what the job runs; it sends at most once per successful commit (see
docs/domains/notify.md for the crash window SMTP leaves open, and how we narrow it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cityhall import jobs
from cityhall.core.notify.channels import (
    Channel,
    OutgoingMessage,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    valid_email,
)
from cityhall.core.notify.models import CHANNELS, Notification
from cityhall.errors import FieldError, Invalid, NotFound

log = logging.getLogger(__name__)

SEND_TASK = "notify:send"
# Delivery attempts per notification; the job's retry strategy allows as many.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Message:
    """One notification to record: a business event, a channel and a recipient."""

    event_key: str
    channel: str
    recipient: str
    subject: str
    body: str


def _problems(m: Message, prefix: str = "") -> list[FieldError]:
    errors: list[FieldError] = []
    recipient = m.recipient.strip()
    if not m.event_key or len(m.event_key) > 300:
        errors.append(FieldError(f"{prefix}event_key", "Mã sự kiện phải có từ 1 đến 300 ký tự."))
    if m.channel not in CHANNELS:
        errors.append(
            FieldError(
                f"{prefix}channel",
                "Kênh thông báo không hợp lệ; phải là một trong: {expected}.",
                {"expected": ", ".join(CHANNELS)},
            )
        )
    if not recipient or len(recipient) > 320 or any(c in recipient for c in "\r\n"):
        errors.append(FieldError(f"{prefix}recipient", "Người nhận không hợp lệ."))
    elif m.channel == "email" and not valid_email(recipient):
        errors.append(FieldError(f"{prefix}recipient", "Địa chỉ thư điện tử không hợp lệ."))
    if len(m.subject) > 300:
        errors.append(FieldError(f"{prefix}subject", "Tiêu đề không được dài quá 300 ký tự."))
    if not m.body:
        errors.append(FieldError(f"{prefix}body", "Nội dung thông báo không được để trống."))
    return errors


def notify_many(session: Session, messages: list[Message]) -> list[int]:
    """Record several notifications and queue their deliveries in one INSERT and one
    defer (same transaction); returns the ids of those that are new.

    Idempotent by ``event_key``: a message whose event was notified before is skipped.
    """
    errors = [
        e
        for i, m in enumerate(messages)
        for e in _problems(m, f"{i}." if len(messages) > 1 else "")
    ]
    if errors:
        raise Invalid("Thông báo không hợp lệ.", errors=errors)
    if not messages:
        return []
    # One statement whatever the number of rows (SQLAlchemy's "insertmanyvalues"), and a
    # constant one, so its compiled form is cached.
    inserted = session.scalars(
        insert(Notification)
        .on_conflict_do_nothing(index_elements=[Notification.event_key])
        .returning(Notification.id, sort_by_parameter_order=True),
        [
            {
                "event_key": m.event_key,
                "channel": m.channel,
                "recipient": m.recipient.strip(),
                "subject": m.subject,
                "body": m.body,
            }
            for m in messages
        ],
    ).all()
    if inserted:
        jobs.defer_many(session, SEND_TASK, [{"notification_id": i} for i in inserted])
    return list(inserted)


def notify(
    session: Session,
    *,
    event_key: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
) -> Notification:
    """Record one notification of a business event and queue its delivery (same
    transaction). Idempotent by ``event_key``: notifying the same event again returns the
    existing notification and queues nothing.
    """
    notify_many(session, [Message(event_key, channel, recipient, subject, body)])
    return session.scalars(select(Notification).where(Notification.event_key == event_key)).one()


class Outcome(StrEnum):
    SENT = "sent"  # delivered now
    ALREADY_DONE = "already-done"  # sent or failed before: nothing to do
    RETRY = "retry"  # a temporary failure: the job must raise so that it is retried
    FAILED = "failed"  # a permanent failure, or out of attempts: given up


@dataclass(frozen=True)
class Delivery:
    notification_id: int
    outcome: Outcome
    error: str | None = None


def deliver(session: Session, notification_id: int, channels: Mapping[str, Channel]) -> Delivery:
    """Send one notification unless it was already sent. Flushes; the caller commits.

    The row is locked (``FOR UPDATE``) for the whole attempt, so two jobs for the same
    notification (a retry racing a duplicate) run one after the other, and the second sees
    ``sent``. Errors are recorded on the row, not raised, so that they survive the commit;
    the job raises afterwards when the outcome is :attr:`Outcome.RETRY`.
    """
    notification = session.scalars(
        select(Notification).where(Notification.id == notification_id).with_for_update()
    ).one_or_none()
    if notification is None:
        raise NotFound("Không tìm thấy thông báo {id}.", id=notification_id)
    if notification.status != "pending":
        return Delivery(notification_id, Outcome.ALREADY_DONE)

    channel = channels.get(notification.channel)
    notification.attempts += 1
    try:
        if channel is None:
            raise PermanentDeliveryError(f"no channel configured for {notification.channel!r}")
        channel.send(
            OutgoingMessage(
                notification_id=notification.id,
                event_key=notification.event_key,
                channel=notification.channel,
                recipient=notification.recipient,
                subject=notification.subject,
                body=notification.body,
            )
        )
    except PermanentDeliveryError as exc:
        notification.status = "failed"
        notification.last_error = str(exc)[:2000]
        session.flush()
        log.warning("notification failed", extra={"notification_id": notification_id})
        return Delivery(notification_id, Outcome.FAILED, notification.last_error)
    except TemporaryDeliveryError as exc:
        notification.last_error = str(exc)[:2000]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = "failed"
            session.flush()
            return Delivery(notification_id, Outcome.FAILED, notification.last_error)
        session.flush()
        log.info("notification delivery deferred", extra={"notification_id": notification_id})
        return Delivery(notification_id, Outcome.RETRY, notification.last_error)
    notification.status = "sent"
    notification.sent_at = datetime.now(UTC)
    notification.last_error = None
    session.flush()
    return Delivery(notification_id, Outcome.SENT)
