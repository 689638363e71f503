"""HTML pages of the feedback domain (office_pages)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
