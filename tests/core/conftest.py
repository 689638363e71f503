"""Fixtures shared by the notification and job-queue tests: a real SMTP server on loopback
and a process pointed at a committed database of its own."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cityhall import jobs
from cityhall.config import Settings, get_settings
from cityhall.core.notify.models import Notification
from cityhall.core.notify.service import notify
from cityhall.db import default_engine

SUBJECT = "Hồ sơ của bạn đã được tiếp nhận — Sở Tư pháp TP. Hồ Chí Minh"
BODY = "Kính gửi ông/bà Nguyễn Văn Ánh,\nHồ sơ số 123 đã được tiếp nhận lúc 08:30."


@dataclass
class Mailbox:
    """aiosmtpd handler that keeps every message it accepts."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse_rcpt: bool = False
    # When set, the first message is held before being answered until ``release`` is set.
    hold_first: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.refuse_rcpt:
            return "550 5.1.1 Không có hộp thư này"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.hold_first and not self.holding.is_set():
            self.holding.set()
            deadline = time.monotonic() + 30
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_port(mailbox: Mailbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        mailbox.release.set()
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_port: int) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp_port})


def run_worker_in_process(settings: Settings) -> None:
    """``cityhall.jobs.run_worker`` until the queue is empty, in a thread of its own (the
    main thread may already run an event loop, e.g. Playwright's)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            jobs.run_worker(settings, concurrency=2, wait=False, install_signal_handlers=False)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the worker did not finish"
    if errors:
        raise errors[0]


@dataclass
class FreshEnv:
    url: str
    settings: Settings
    factory: sessionmaker[Session]


@pytest.fixture
def fresh_env(
    fresh_db: str, fresh_factory: sessionmaker[Session], smtp_port: int
) -> Iterator[FreshEnv]:
    """Point the process's settings (hence ``default_engine()``, used by the jobs) at the
    committed database ``fresh_db`` and the test SMTP server; restore afterwards."""
    overrides = {
        "CITYHALL_DATABASE_URL": fresh_db,
        "CITYHALL_SMTP_HOST": "127.0.0.1",
        "CITYHALL_SMTP_PORT": str(smtp_port),
        "CITYHALL_WORKER_STALLED_SECONDS": "2",
    }
    saved = {key: os.environ.get(key) for key in overrides}

    def reset() -> None:
        if default_engine.cache_info().currsize:
            default_engine().dispose()
        default_engine.cache_clear()
        get_settings.cache_clear()

    reset()
    os.environ.update(overrides)
    try:
        yield FreshEnv(fresh_db, get_settings(), fresh_factory)
    finally:
        reset()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def jobs_for(session: Session, notification_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        text(
            "SELECT id, status::text FROM procrastinate_jobs WHERE task_name = 'notify:send' "
            "AND (args->>'notification_id')::bigint = :id ORDER BY id"
        ),
        {"id": notification_id},
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def email(session: Session, key: str = "dossier:123:received:email:citizen@x.vn") -> Notification:
    return notify(
        session,
        event_key=key,
        channel="email",
        recipient="citizen@x.vn",
        subject=SUBJECT,
        body=BODY,
    )


# --- the service, in the test's rolled-back transaction -----------------------------------
