"""Tables of this domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base

CHANNELS = ("email", "sms", "push")
STATUSES = ("pending", "sent", "failed")


class Notification(Base):
    """One message to one recipient on one channel, caused by one business event.

    ``event_key`` names the event (``dossier:123:received:email:citizen@x``); it is unique,
    so notifying the same event twice yields one notification and one message.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms', 'push')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]


class StandInMessage(Base):
    """What the SMS gateway or push service would have received (the local stand-in)."""

    __tablename__ = "standin_messages"
    __table_args__ = (CheckConstraint("channel IN ('sms', 'push')", name="channel"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
