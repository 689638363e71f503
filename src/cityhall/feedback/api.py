"""JSON routes of the feedback domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
