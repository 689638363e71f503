"""HTML pages of the feedback domain: the citizens' portal pages and the staff pages."""

from __future__ import annotations

from fastapi import APIRouter

from cityhall.feedback import office_pages, portal_pages

router = APIRouter()
router.include_router(portal_pages.router)
router.include_router(office_pages.router)
