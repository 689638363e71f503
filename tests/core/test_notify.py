"""Notifications against a real SMTP server (aiosmtpd on 127.0.0.1) and real PostgreSQL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall import jobs
from cityhall.config import Settings, get_settings
from cityhall.core.notify import jobs as notify_jobs
from cityhall.core.notify.channels import TemporaryDeliveryError, build_channels
from cityhall.core.notify.models import Notification, StandInMessage
from cityhall.core.notify.service import MAX_ATTEMPTS, Outcome, deliver, notify
from cityhall.errors import Invalid
from tests.core.conftest import (
    BODY,
    SUBJECT,
    FreshEnv,
    Mailbox,
    email,
    free_port,
    jobs_for,
    run_worker_in_process,
)

# --- an SMTP server on 127.0.0.1 ---------------------------------------------------------


def test_notify_creates_one_row_and_one_queued_job(session: Session) -> None:
    notification = email(session)
    assert notification.status == "pending"
    assert notification.attempts == 0
    assert session.scalar(select(func.count()).select_from(Notification)) == 1
    assert [status for _, status in jobs_for(session, notification.id)] == ["todo"]


def test_same_event_twice_is_one_notification_and_one_email(
    session: Session, mail_settings: Settings, mailbox: Mailbox
) -> None:
    first = email(session)
    second = email(session)
    assert first.id == second.id
    assert session.scalar(select(func.count()).select_from(Notification)) == 1
    assert len(jobs_for(session, first.id)) == 1

    assert (
        deliver(session, first.id, build_channels(mail_settings, session)).outcome is Outcome.SENT
    )
    assert len(mailbox.messages) == 1


def test_delivery_sends_one_email_with_vietnamese_intact(
    session: Session, mail_settings: Settings, mailbox: Mailbox
) -> None:
    notification = email(session)
    channels = build_channels(mail_settings, session)

    result = deliver(session, notification.id, channels)

    assert result.outcome is Outcome.SENT
    assert notification.status == "sent"
    assert notification.sent_at is not None
    assert notification.attempts == 1
    [message] = mailbox.messages
    assert message["Subject"] == SUBJECT
    assert message["To"] == "citizen@x.vn"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n").strip() == BODY
    assert message["Message-ID"].startswith(f"<notification.{notification.id}.")


def test_retried_or_duplicated_delivery_sends_once(
    session: Session, mail_settings: Settings, mailbox: Mailbox
) -> None:
    notification = email(session)
    # A second job for the same notification (a duplicate), beside the first one.
    jobs.defer(session, "notify:send", notification_id=notification.id)
    assert len(jobs_for(session, notification.id)) == 2
    channels = build_channels(mail_settings, session)

    outcomes = [deliver(session, notification.id, channels).outcome for _ in range(3)]

    assert outcomes == [Outcome.SENT, Outcome.ALREADY_DONE, Outcome.ALREADY_DONE]
    assert len(mailbox.messages) == 1


def test_message_id_is_deterministic(
    session: Session, mail_settings: Settings, mailbox: Mailbox
) -> None:
    from cityhall.core.notify.channels import EmailChannel, OutgoingMessage

    message = OutgoingMessage(1, "k", "email", "a@b.vn", SUBJECT, BODY)
    channel = EmailChannel(mail_settings)
    assert channel.build(message)["Message-ID"] == channel.build(message)["Message-ID"]
    other = OutgoingMessage(2, "k", "email", "a@b.vn", SUBJECT, BODY)
    assert channel.build(message)["Message-ID"] != channel.build(other)["Message-ID"]


def test_smtp_down_keeps_it_pending_with_the_error(session: Session, settings: Settings) -> None:
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    notification = email(session)

    result = deliver(session, notification.id, build_channels(down, session))

    assert result.outcome is Outcome.RETRY
    assert notification.status == "pending"
    assert notification.attempts == 1
    assert notification.last_error
    assert "Connection" in notification.last_error or "refused" in notification.last_error


def test_out_of_attempts_is_failed(session: Session, settings: Settings) -> None:
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    notification = email(session)
    notification.attempts = MAX_ATTEMPTS - 1

    result = deliver(session, notification.id, build_channels(down, session))

    assert result.outcome is Outcome.FAILED
    assert notification.status == "failed"


def test_refused_recipient_fails_without_retry(
    session: Session, mail_settings: Settings, mailbox: Mailbox
) -> None:
    mailbox.refuse_rcpt = True
    notification = email(session)

    result = deliver(session, notification.id, build_channels(mail_settings, session))

    assert result.outcome is Outcome.FAILED
    assert notification.status == "failed"
    assert "550" in (notification.last_error or "")
    assert mailbox.messages == []
    # A failed notification is not tried again.
    again = deliver(session, notification.id, build_channels(mail_settings, session))
    assert again.outcome is Outcome.ALREADY_DONE


def test_sms_goes_to_the_stand_in(session: Session, settings: Settings) -> None:
    notification = notify(
        session,
        event_key="dossier:123:received:sms:0901234567",
        channel="sms",
        recipient="0901234567",
        subject="",
        body="Hồ sơ 123 đã được tiếp nhận.",
    )

    result = deliver(session, notification.id, build_channels(settings, session))

    assert result.outcome is Outcome.SENT
    [row] = session.scalars(select(StandInMessage)).all()
    assert (row.channel, row.recipient, row.body) == (
        "sms",
        "0901234567",
        "Hồ sơ 123 đã được tiếp nhận.",
    )
    assert row.created_at.tzinfo is not None


def test_invalid_notification_is_refused(session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        notify(session, event_key="x", channel="fax", recipient="a@b.vn", subject="", body="b")
    assert [e.field for e in caught.value.errors] == ["channel"]
    with pytest.raises(Invalid):
        notify(
            session,
            event_key="y",
            channel="email",
            recipient="not-an-address",
            subject="",
            body="b",
        )
    for address in ("a b@x.vn", "a@@x.vn", "ánh@x.vn", "a@", "a@x.vn\r\nBcc: b@y.vn"):
        with pytest.raises(Invalid):
            notify(
                session, event_key=address, channel="email", recipient=address, subject="", body="b"
            )


# --- the job, on a committed database --------------------------------------------------------


def test_job_raises_on_smtp_down_and_keeps_the_error(fresh_env: FreshEnv, mailbox: Mailbox) -> None:
    with fresh_env.factory() as s, s.begin():
        notification_id = email(s).id
    os.environ["CITYHALL_SMTP_PORT"] = str(free_port())
    get_settings.cache_clear()

    with pytest.raises(TemporaryDeliveryError):
        notify_jobs.send(notification_id)

    with fresh_env.factory() as s:
        row = s.get(Notification, notification_id)
        assert row is not None
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error

    # The server is back: the retry delivers, and a further retry sends nothing more.
    os.environ["CITYHALL_SMTP_PORT"] = str(fresh_env.settings.smtp_port)
    get_settings.cache_clear()
    assert notify_jobs.send(notification_id) == Outcome.SENT.value
    assert notify_jobs.send(notification_id) == Outcome.ALREADY_DONE.value
    assert len(mailbox.messages) == 1


def test_worker_delivers_end_to_end(fresh_env: FreshEnv, mailbox: Mailbox) -> None:
    with fresh_env.factory() as s, s.begin():
        notification = email(s)
        notification_id = notification.id
        # A duplicate job for the same notification: it must not send a second e-mail.
        jobs.defer(s, "notify:send", notification_id=notification_id)

    run_worker_in_process(fresh_env.settings)

    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["Subject"] == SUBJECT
    with fresh_env.factory() as s:
        row = s.get(Notification, notification_id)
        assert row is not None
        assert row.status == "sent"
        assert [status for _, status in jobs_for(s, notification_id)] == [
            "succeeded",
            "succeeded",
        ]
