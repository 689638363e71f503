"""HTML pages of the engagement domain: rating a returned dossier or an answered report, and
the public rankings (table, bar chart, CSV).

Plain forms that work without JavaScript; the dossier page and the report's tracking page
embed the rating with htmx (``?khung=1`` returns only the fragment) and link to the full page
otherwise. Anonymous reporters rate through their tracking link, so the token stays in the
one URL they were given."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.i18n import N_, translate
from cityhall.engagement import queries, service
from cityhall.engagement.schemas import (
    COMMENT_MAX,
    LEVEL_LABELS,
    REASONS,
    Level,
    RankingKind,
    Rankings,
    RankingSort,
    RatingIn,
)
from cityhall.engagement.subjects import Subject, dossier_subject, report_subject
from cityhall.errors import DomainError, Invalid
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _login(path: str) -> RedirectResponse:
    return RedirectResponse(f"/dang-nhap-cong-dan?next={quote(path)}", status_code=303)


# --- rating --------------------------------------------------------------------------------


def _levels() -> list[dict[str, Any]]:
    return [
        {"value": level.value, "label": LEVEL_LABELS[level], "reasons": REASONS[level]}
        for level in Level
    ]


def _rating_page(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    subject: Subject,
    *,
    action: str,
    back: tuple[str, str],
    fragment: str = "",
    errors: dict[str, str] | None = None,
    posted: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    current = service.get_rating(session, subject=subject, settings=settings)
    values = posted or (
        {"level": current.level.value, "reasons": current.reasons, "comment": current.comment}
        if current
        else {"level": "", "reasons": [], "comment": ""}
    )
    context = {
        "actor": actor,
        "subject": subject,
        "rating": current,
        "levels": _levels(),
        "values": values,
        "errors": errors or {},
        "action": action,
        "back_url": back[0],
        "back_label": back[1],
        "comment_max": COMMENT_MAX,
        "thanks": request.query_params.get("da_danh_gia") == "1",
        "change_days": settings.rating_change_days,
    }
    template = {"1": "engagement/_rating.html", "nut": "engagement/_rating_button.html"}.get(
        fragment, "engagement/rate.html"
    )
    return render(request, template, context, status_code=status_code)


def _posted(form: Any) -> dict[str, Any]:
    level = _str(form.get("level"))
    return {
        "level": level,
        "reasons": [_str(v) for v in form.getlist(f"reasons_{level}")] if level else [],
        "comment": _str(form.get("comment")).strip(),
    }


def _errors_of(exc: DomainError, locale: str) -> dict[str, str]:
    errors = {e.field: translate(e.message, locale, **e.params) for e in exc.errors}
    return errors or {"_form": translate(exc.message, locale, **exc.params)}


async def _submit(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    subject: Subject,
    *,
    action: str,
    back: tuple[str, str],
) -> Response:
    form = await request.form(max_fields=40)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    posted = _posted(form)
    locale = request_locale(request)
    errors: dict[str, str] = {}
    data: RatingIn | None = None
    if posted["level"] not in {level.value for level in Level}:
        errors["level"] = translate(N_("Vui lòng chọn mức độ hài lòng."), locale)
    elif len(posted["comment"]) > COMMENT_MAX:
        errors["comment"] = translate(N_("Góp ý tối đa {n} ký tự."), locale, n=COMMENT_MAX)
    else:
        try:
            data = RatingIn.model_validate(
                {
                    "level": posted["level"],
                    "reasons": posted["reasons"],
                    "comment": posted["comment"] or None,
                }
            )
        except ValidationError:
            errors["reasons"] = translate(N_("Lý do không hợp lệ."), locale)
    if data is not None:
        try:
            with session.begin_nested():
                service.rate(session, actor=actor, subject=subject, data=data, settings=settings)
        except DomainError as exc:
            errors = _errors_of(exc, locale)
            return _rating_page(
                request,
                session,
                actor,
                settings,
                subject,
                action=action,
                back=back,
                errors=errors,
                posted=posted,
                status_code=exc.status,
            )
        return RedirectResponse(f"{action}?da_danh_gia=1", status_code=303)
    return _rating_page(
        request,
        session,
        actor,
        settings,
        subject,
        action=action,
        back=back,
        errors=errors,
        posted=posted,
        status_code=422,
    )


def _subject_error(request: Request, actor: Actor, exc: DomainError) -> Response:
    """The subject cannot be rated (yet) by this visitor: a clear page, not a 500."""
    return render(
        request,
        "engagement/rate.html",
        {
            "actor": actor,
            "subject": None,
            "problem": translate(exc.message, request_locale(request), **exc.params),
        },
        status_code=exc.status,
    )


@router.get("/danh-gia/ho-so/{code}")
def rate_dossier_form(
    request: Request,
    code: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
    khung: str = "",
) -> Response:
    code = code[:60]
    if actor.kind is not ActorKind.CITIZEN:
        if khung:
            return Response(status_code=204)
        return _login(f"/danh-gia/ho-so/{code}")
    try:
        subject = dossier_subject(session, actor=actor, code=code)
    except DomainError as exc:
        if khung:
            return Response(status_code=204)
        return _subject_error(request, actor, exc)
    return _rating_page(
        request,
        session,
        actor,
        settings,
        subject,
        action=f"/danh-gia/ho-so/{subject.ref}",
        back=(
            f"/ho-so-cua-toi/{subject.ref}",
            translate(N_("Về trang hồ sơ"), request_locale(request)),
        ),
        fragment=khung,
    )


@router.post("/danh-gia/ho-so/{code}")
async def rate_dossier_submit(
    request: Request, code: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    code = code[:60]
    if actor.kind is not ActorKind.CITIZEN:
        return _login(f"/danh-gia/ho-so/{code}")
    try:
        subject = dossier_subject(session, actor=actor, code=code)
    except DomainError as exc:
        return _subject_error(request, actor, exc)
    return await _submit(
        request,
        session,
        actor,
        settings,
        subject,
        action=f"/danh-gia/ho-so/{subject.ref}",
        back=(
            f"/ho-so-cua-toi/{subject.ref}",
            translate(N_("Về trang hồ sơ"), request_locale(request)),
        ),
    )


def _tracked_subject(session: Any, actor: Actor, settings: Settings, token: str) -> Subject:
    return report_subject(session, actor=actor, settings=settings, token=token[:128])


@router.get("/phan-anh/theo-doi/{token}/danh-gia")
def rate_report_form(
    request: Request,
    token: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
    khung: str = "",
) -> Response:
    try:
        subject = _tracked_subject(session, actor, settings, token)
    except DomainError as exc:
        if khung:
            return Response(status_code=204)
        return _subject_error(request, actor, exc)
    base = f"/phan-anh/theo-doi/{token[:128]}"
    return _rating_page(
        request,
        session,
        actor,
        settings,
        subject,
        action=f"{base}/danh-gia",
        back=(base, translate(N_("Về trang theo dõi phản ánh"), request_locale(request))),
        fragment=khung,
    )


@router.post("/phan-anh/theo-doi/{token}/danh-gia")
async def rate_report_submit(
    request: Request, token: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    try:
        subject = _tracked_subject(session, actor, settings, token)
    except DomainError as exc:
        return _subject_error(request, actor, exc)
    base = f"/phan-anh/theo-doi/{token[:128]}"
    return await _submit(
        request,
        session,
        actor,
        settings,
        subject,
        action=f"{base}/danh-gia",
        back=(base, translate(N_("Về trang theo dõi phản ánh"), request_locale(request))),
    )


@router.get("/danh-gia/phan-anh/{public_id}")
def rate_own_report_form(
    request: Request,
    public_id: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
    khung: str = "",
) -> Response:
    """A logged-in reporter rates their report from its page (no token needed)."""
    public_id = public_id[:40]
    if actor.kind is not ActorKind.CITIZEN:
        if khung:
            return Response(status_code=204)
        return _login(f"/danh-gia/phan-anh/{public_id}")
    try:
        subject = report_subject(session, actor=actor, settings=settings, public_id=public_id)
    except DomainError as exc:
        if khung:
            return Response(status_code=204)
        return _subject_error(request, actor, exc)
    return _rating_page(
        request,
        session,
        actor,
        settings,
        subject,
        action=f"/danh-gia/phan-anh/{subject.ref}",
        back=(
            f"/phan-anh/{subject.ref}",
            translate(N_("Về trang phản ánh"), request_locale(request)),
        ),
        fragment=khung,
    )


@router.post("/danh-gia/phan-anh/{public_id}")
async def rate_own_report_submit(
    request: Request, public_id: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    public_id = public_id[:40]
    if actor.kind is not ActorKind.CITIZEN:
        return _login(f"/danh-gia/phan-anh/{public_id}")
    try:
        subject = report_subject(session, actor=actor, settings=settings, public_id=public_id)
    except DomainError as exc:
        return _subject_error(request, actor, exc)
    return await _submit(
        request,
        session,
        actor,
        settings,
        subject,
        action=f"/danh-gia/phan-anh/{subject.ref}",
        back=(
            f"/phan-anh/{subject.ref}",
            translate(N_("Về trang phản ánh"), request_locale(request)),
        ),
    )


# --- rankings ------------------------------------------------------------------------------

KIND_LABELS = {
    RankingKind.WARDS: N_("Phường, xã, đặc khu"),
    RankingKind.AGENCIES: N_("Cơ quan"),
}
COLUMNS: tuple[tuple[RankingSort, str], ...] = (
    (RankingSort.RANK, N_("Hạng")),
    (RankingSort.NAME, N_("Tên")),
    (RankingSort.SATISFACTION, N_("Tỷ lệ hài lòng")),
    (RankingSort.RATINGS, N_("Số đánh giá")),
    (RankingSort.DOSSIERS_ON_TIME, N_("Hồ sơ trả đúng hạn")),
    (RankingSort.REPORTS_ON_TIME, N_("Phản ánh trả lời đúng hạn")),
)


def _parse_rankings(
    session: Any, settings: Settings, kind: str, period: str, sort: str, order: str
) -> Rankings:
    try:
        ranking_kind = RankingKind(kind or RankingKind.WARDS.value)
        ranking_sort = RankingSort(sort or RankingSort.RANK.value)
    except ValueError:
        raise Invalid(N_("Tham số xếp hạng không hợp lệ.")) from None
    if order not in ("", "asc", "desc"):
        raise Invalid(N_("Tham số xếp hạng không hợp lệ."))
    return queries.rankings(
        session,
        kind=ranking_kind,
        period_value=period[:10] or None,
        settings=settings,
        sort=ranking_sort,
        descending=None if not order else order == "desc",
    )


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


@router.get("/xep-hang")
def rankings_page(
    request: Request,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
    kind: str = "",
    period: str = "",
    sort: str = "",
    order: str = "",
) -> Response:
    try:
        result = _parse_rankings(session, settings, kind, period, sort, order)
    except DomainError as exc:
        # A hand-edited address: say what is wrong, and show the default ranking.
        problem = next(iter(_errors_of(exc, request_locale(request)).values()))
        result = queries.rankings(
            session, kind=RankingKind.WARDS, period_value=None, settings=settings
        )
        return _rankings_response(request, actor, result, problem, status_code=exc.status)
    return _rankings_response(request, actor, result, None)


def _rankings_response(
    request: Request,
    actor: Actor,
    result: Rankings,
    problem: str | None,
    *,
    status_code: int = 200,
) -> Response:
    base = {"kind": result.kind.value, "period": result.period.key}

    def sort_url(column: RankingSort) -> str:
        default_desc = column not in (RankingSort.RANK, RankingSort.NAME)
        desc = not result.descending if column is result.sort else default_desc
        return "/xep-hang?" + urlencode(
            {**base, "sort": column.value, "order": "desc" if desc else "asc"}
        )

    chart = [r for r in result.rows if r.satisfaction is not None][:20]
    return render(
        request,
        "engagement/rankings.html",
        {
            "actor": actor,
            "r": result,
            "problem": problem,
            "kinds": KIND_LABELS,
            "columns": COLUMNS,
            "sort_url": sort_url,
            "periods": queries.recent_periods(queries.today(request.app.state.settings)),
            "chart": chart,
            "pct": _percent,
            "csv_url": "/xep-hang.csv?" + urlencode(base),
        },
        status_code=status_code,
    )


@router.get("/xep-hang.csv")
def rankings_csv(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    kind: str = "",
    period: str = "",
    sort: str = "",
    order: str = "",
) -> Response:
    result = _parse_rankings(session, settings, kind, period, sort, order)
    locale = request_locale(request)

    def t(message: str) -> str:
        return translate(message, locale)

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            t(N_("Hạng")),
            t(N_("Mã")),
            t(N_("Tên")),
            t(N_("Số đánh giá")),
            t(N_("Rất hài lòng")),
            t(N_("Hài lòng")),
            t(N_("Không hài lòng")),
            t(N_("Tỷ lệ hài lòng (%)")),
            t(N_("Hồ sơ đã trả kết quả")),
            t(N_("Hồ sơ trả đúng hạn (%)")),
            t(N_("Phản ánh đã trả lời")),
            t(N_("Phản ánh trả lời đúng hạn (%)")),
        ]
    )
    for row in result.rows:
        writer.writerow(
            [
                row.rank or "",
                row.code,
                row.name,
                row.ratings,
                row.very_satisfied,
                row.satisfied,
                row.not_satisfied,
                _percent(row.satisfaction),
                row.dossiers_finished,
                _percent(row.dossiers_on_time),
                row.reports_answered,
                _percent(row.reports_on_time),
            ]
        )
    name = f"xep-hang-{result.kind.value}-{result.period.key}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so that Excel reads UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
