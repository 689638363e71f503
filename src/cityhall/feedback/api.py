"""JSON routes of the feedback domain: the Open311 server, and the public photos of
moderated reports (what the public pages and Open311 ``media_url`` link to)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from cityhall.core.blobs.store import get_blob_store
from cityhall.errors import NotFound
from cityhall.feedback import open311_api
from cityhall.feedback.models import Report
from cityhall.feedback.schemas import Moderation
from cityhall.web.deps import AppSettings, DbSession

router = APIRouter()
router.include_router(open311_api.router)


@router.get(
    "/api/v1/feedback/reports/{public_id}/photos/{sha256}",
    tags=["feedback"],
    summary="A photo of a moderated report (the reporter's or the result's)",
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def public_photo(
    public_id: str, sha256: str, session: DbSession, settings: AppSettings
) -> Response:
    from cityhall.core.blobs.service import get_blob

    row = session.execute(
        select(Report.photos, Report.result_photos).where(
            Report.public_id == public_id.strip().upper()[:24],
            Report.moderation == Moderation.APPROVED.value,
        )
    ).one_or_none()
    if row is None or sha256 not in (list(row.photos) + list(row.result_photos)):
        raise NotFound("Không tìm thấy ảnh.")
    blob = get_blob(session, sha256)
    data = get_blob_store(settings).get(sha256)
    return Response(
        data,
        media_type=blob.content_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
