"""Tables of this domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String, func
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base


class Blob(Base):
    """One stored file, named by the SHA-256 of its content (so stored once)."""

    __tablename__ = "blobs"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size >= 0", name="size"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The actor who first uploaded it (``kind:id``); later uploads of the same content are
    # in the audit log.
    created_by: Mapped[str | None] = mapped_column(String(80))
