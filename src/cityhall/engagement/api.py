"""JSON routes of the engagement domain under /api/v1: ratings and the public rankings.

Ratings are given by the dossier's applicant or the report's reporter (a citizen's bearer
token), or, for a report sent anonymously, by whoever holds its tracking token, sent in the
``X-Tracking-Token`` header (never in the URL, which access logs keep)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Response

from cityhall.engagement import queries, service
from cityhall.engagement.schemas import (
    LevelOut,
    RankingKind,
    Rankings,
    RankingSort,
    RatingIn,
    RatingOut,
)
from cityhall.engagement.subjects import dossier_subject, report_subject
from cityhall.errors import NotFound
from cityhall.web.auth import CurrentActor
from cityhall.web.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/v1/ratings", tags=["ratings"])

DossierCode = Annotated[str, Path(max_length=60, description="Mã hồ sơ.")]
PublicId = Annotated[
    str, Path(max_length=40, pattern=r"^PA-\d{4}-\d{6,}$", description="Mã phản ánh.")
]
TrackingToken = Annotated[
    str | None,
    Header(
        alias="X-Tracking-Token",
        min_length=16,
        max_length=128,
        description="Mã theo dõi của phản ánh gửi ẩn danh (thay cho đăng nhập).",
    ),
]


def _status(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


@router.get("/reasons", summary="Các mức đánh giá và lý do của từng mức")
def reasons() -> list[LevelOut]:
    return queries.reasons()


@router.get("/dossiers/{code}", summary="Đánh giá của tôi về một hồ sơ")
def get_dossier_rating(
    code: DossierCode, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> RatingOut:
    subject = dossier_subject(session, actor=actor, code=code)
    return service.require_rating(session, subject=subject, settings=settings)


@router.put(
    "/dossiers/{code}",
    summary="Đánh giá hồ sơ đã trả kết quả (hoặc sửa trong thời hạn)",
    responses={201: {"description": "Đã ghi nhận đánh giá."}},
)
def rate_dossier(
    code: DossierCode,
    body: Annotated[RatingIn, Body()],
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    response: Response,
) -> RatingOut:
    """Only the applicant, once the result is returned. 201 when first given, 200 when
    changed within `rating_change_days`; 409 afterwards or before the result is returned."""
    rated = service.rate_dossier(session, actor=actor, code=code, data=body, settings=settings)
    _status(response, rated.created)
    return rated.rating


@router.get("/reports/{public_id}", summary="Đánh giá của tôi về một phản ánh")
def get_report_rating(
    public_id: PublicId,
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    token: TrackingToken = None,
) -> RatingOut:
    subject = report_subject(
        session, actor=actor, settings=settings, public_id=public_id, token=token
    )
    if subject.ref != public_id:
        raise NotFound()
    return service.require_rating(session, subject=subject, settings=settings)


@router.put(
    "/reports/{public_id}",
    summary="Đánh giá kết quả xử lý phản ánh (hoặc sửa trong thời hạn)",
    responses={201: {"description": "Đã ghi nhận đánh giá."}},
)
def rate_report(
    public_id: PublicId,
    body: Annotated[RatingIn, Body()],
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    token: TrackingToken = None,
) -> RatingOut:
    """The reporter (their bearer token, or the tracking token of an anonymous report),
    once the report is answered."""
    subject = report_subject(
        session, actor=actor, settings=settings, public_id=public_id, token=token
    )
    if subject.ref != public_id:
        raise NotFound()
    rated = service.rate(session, actor=actor, subject=subject, data=body, settings=settings)
    _status(response, rated.created)
    return rated.rating


@router.get("/rankings", summary="Xếp hạng mức độ hài lòng của phường, xã và cơ quan")
def rankings(
    session: DbSession,
    settings: AppSettings,
    kind: Annotated[RankingKind, Query(description="wards hoặc agencies.")] = RankingKind.WARDS,
    period: Annotated[
        str | None,
        Query(max_length=10, description="2026-11 (tháng), 2026-Q4 (quý), 2026 (năm)."),
    ] = None,
    sort: RankingSort = RankingSort.RANK,
    order: Literal["asc", "desc"] | None = None,
) -> Rankings:
    """Public: counts and rates only. Fewer than `ranking_min_ratings` ratings: listed,
    not ranked."""
    return queries.rankings(
        session,
        kind=kind,
        period_value=period,
        settings=settings,
        sort=sort,
        descending=None if order is None else order == "desc",
    )
