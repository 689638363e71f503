"""Datetimes on the wire: ISO-8601 with the city's offset (``2026-03-10T16:00:00+07:00``).

Stored in UTC (timestamptz); shown in the configured time zone, so an API client and a
citizen reading a receipt see the same wall-clock time.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer

from cityhall.config import get_settings


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(_zone(get_settings().timezone))


def _serialize(moment: datetime) -> str:
    return to_local(moment).isoformat()


LocalDateTime = Annotated[datetime, PlainSerializer(_serialize, return_type=str, when_used="json")]
