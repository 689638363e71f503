"""The citizen portal's feedback pages: the report form (category, its questions, photos
from the phone, a point on the map or from GPS, or a typed address; anonymous when the
category allows), the nearby open reports of the same category with "follow this one
instead", the reporter's tracking page, the public map and list, each report's public page.

Everything is a plain HTML form or link that works without JavaScript; Leaflet, htmx and
small scripts (``feedback-report.js``, ``map-reports.js``) make it smoother. Nothing the
citizen typed or uploaded is lost on an error: photos already stored come back as hidden
SHA-256 fields, and a report interrupted by the login is kept in a signed cookie of their
browser for an hour. The public sees only moderated reports, never personal data.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.blobs import service as blobs
from cityhall.core.blobs.store import get_blob_store
from cityhall.core.i18n import N_, translate
from cityhall.errors import DomainError, Invalid, NotFound
from cityhall.feedback import queries, service, views
from cityhall.feedback.schemas import (
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    PUBLIC_ID_PATTERN,
    CategoryOut,
    PortalReportIn,
    PublicQuery,
)
from cityhall.identity import service as identity
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.middleware import SECURITY_HEADERS
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAP_LIMIT = 1000
MULTIPART_OVERHEAD = 256 * 1024
PENDING_COOKIE = "ch_pending_report"
PENDING_MAX_AGE = 3600
PENDING_MAX_BYTES = 3500
_PUBLIC_ID = re.compile(PUBLIC_ID_PATTERN)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _is_citizen(actor: Actor) -> bool:
    return actor.kind is ActorKind.CITIZEN and actor.id is not None


def _float(value: str) -> float | None:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def with_map_csp(response: Response, settings: Settings) -> Response:
    """Let the page load map tiles from the configured tile server (images only)."""
    base = SECURITY_HEADERS["content-security-policy"]
    template = settings.map_tile_url
    parts = urlsplit(template.replace("{s}", "a"))
    if parts.scheme in ("http", "https") and parts.netloc:
        host = parts.netloc
        if "{s}." in template:  # sub-domains a, b, c…
            host = "*." + host.split(".", 1)[1]
        response.headers["content-security-policy"] = base.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {parts.scheme}://{host}"
        )
    return response


# --- the report form -------------------------------------------------------------------------


@dataclass
class Draft:
    """What the form holds between attempts."""

    category_code: str = ""
    q: str = ""
    description: str = ""
    address: str = ""
    lat: str = ""
    long: str = ""
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    photos: list[dict[str, str]] = field(default_factory=list)  # [{sha256, filename}]
    anonymous: bool = False
    contact_email: str = ""
    contact_phone: str = ""
    submission_key: str = ""

    def values(self) -> dict[str, Any]:
        return {
            "category_code": self.category_code,
            "description": self.description,
            "address": self.address,
            "lat": self.lat,
            "long": self.long,
            "attributes": self.attributes,
            "photos": self.photos,
            "anonymous": self.anonymous,
            "contact_email": self.contact_email,
            "contact_phone": self.contact_phone,
        }


def _category(session: Any, code: str) -> CategoryOut | None:
    if not code:
        return None
    try:
        return queries.get_category(session, code[:64])
    except (NotFound, Invalid):
        return None


def _read_draft(form: Any, session: Any) -> Draft:
    """The draft from a submitted form (POST) or query string (GET without JavaScript)."""
    draft = Draft(
        category_code=_str(form.get("category_code")).strip()[:64],
        q=_str(form.get("q")).strip()[:100],
        description=_str(form.get("description")).strip()[: MAX_DESCRIPTION + 10],
        address=_str(form.get("address")).strip()[:310],
        lat=_str(form.get("lat")).strip()[:20],
        long=_str(form.get("long")).strip()[:20],
        anonymous=_str(form.get("anonymous")) == "1",
        contact_email=_str(form.get("contact_email")).strip()[:254],
        contact_phone=_str(form.get("contact_phone")).strip()[:32],
        submission_key=_str(form.get("submission_key")).strip()[:64],
    )
    category = _category(session, draft.category_code)
    if category is not None:
        for q in views.questions(category.attributes):
            if q.widget == "checkboxes":
                picked = [_str(v) for v in form.getlist(q.name) if _str(v)]
                if picked:
                    draft.attributes[q.code] = picked
            else:
                value = _str(form.get(q.name)).strip()
                if value:
                    draft.attributes[q.code] = value
    for sha in form.getlist("photo_sha")[:MAX_PHOTOS]:
        sha = _str(sha).strip()
        if not sha or any(p["sha256"] == sha for p in draft.photos):
            continue
        try:
            blob = blobs.get_blob(session, sha)
        except (NotFound, Invalid):
            continue
        if blob.content_type.startswith("image/"):
            draft.photos.append({"sha256": blob.sha256, "filename": blob.filename})
    return draft


def _report_form(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    draft: Draft,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    restored: bool = False,
) -> Response:
    groups = views.category_choices(session)
    shown = views.match_categories(groups, draft.q) if draft.q else groups
    category = _category(session, draft.category_code)
    if category is None and draft.q and sum(len(g.categories) for g in shown) == 1:
        category = shown[0].categories[0]  # the keyword found exactly one: take it
        draft.category_code = category.code
    profile = identity.citizen_profile(session, actor=actor) if _is_citizen(actor) else None
    nearby = _nearby(session, category, draft.lat, draft.long)
    if not draft.submission_key:
        draft.submission_key = uuid.uuid4().hex
    response = render(
        request,
        "feedback/portal/report.html",
        {
            "actor": actor,
            "groups": groups,
            "shown": shown,
            "category": category,
            "questions": views.questions(category.attributes) if category else [],
            "draft": draft,
            "profile": profile,
            "errors": errors or {},
            "nearby": nearby,
            "max_photos": MAX_PHOTOS,
            "max_bytes": settings.blob_max_bytes,
            "max_mb": blobs.megabytes(settings.blob_max_bytes),
            "max_description": MAX_DESCRIPTION,
            "map": views.map_settings(settings),
            "restored": restored,
            "login_url": _login_url(draft),
        },
        status_code=status_code,
    )
    return with_map_csp(response, settings)


def _login_url(draft: Draft) -> str:
    target = "/phan-anh/gui?" + urlencode({"category_code": draft.category_code, "khoi_phuc": "1"})
    return "/dang-nhap-cong-dan?next=" + quote(target)


def _nearby(session: Any, category: CategoryOut | None, lat: str, long: str) -> list[Any] | None:
    """Open public reports of the category near the point; None when nothing to look for."""
    if category is None:
        return None
    y, x = _float(lat), _float(long)
    if y is None or x is None:
        return None
    try:
        return queries.nearby_open(session, category.code, y, x)
    except (Invalid, NotFound):
        return None


def _pending_signer(request: Request) -> URLSafeTimedSerializer:
    secret = request.app.state.settings.resolved_secret_key()
    return URLSafeTimedSerializer(secret, salt="pending-report")


def _restore(request: Request) -> Draft | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return None
    try:
        data = _pending_signer(request).loads(raw, max_age=PENDING_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    draft = Draft()
    for key in ("category_code", "description", "address", "lat", "long", "submission_key"):
        setattr(draft, key, str(data.get(key, ""))[:MAX_DESCRIPTION])
    attributes = data.get("attributes")
    if isinstance(attributes, dict):
        draft.attributes = {
            str(k): [str(x) for x in v] if isinstance(v, list) else str(v)
            for k, v in attributes.items()
        }
    photos = data.get("photos")
    if isinstance(photos, list):
        draft.photos = [
            {"sha256": str(p.get("sha256", "")), "filename": str(p.get("filename", ""))}
            for p in photos[:MAX_PHOTOS]
            if isinstance(p, dict)
        ]
    return draft


@router.get("/phan-anh/gui")
def report_form(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    restored = _restore(request) if request.query_params.get("khoi_phuc") == "1" else None
    if restored is not None:
        response = _report_form(request, session, actor, settings, restored, restored=True)
        response.delete_cookie(PENDING_COOKIE, path="/phan-anh")
        return response
    draft = _read_draft(request.query_params, session)
    draft.category_code = draft.category_code or _str(request.query_params.get("linh_vuc"))
    return _report_form(request, session, actor, settings, draft)


@router.get("/phan-anh/gui/cau-hoi")
def report_questions(
    request: Request, actor: PageActor, session: DbSession, category_code: str = ""
) -> Response:
    """The chosen category's extra questions, and who may send it (htmx: the sender part
    is swapped out of band)."""
    category = _category(session, category_code)
    draft = Draft(category_code=category.code if category else "")
    profile = identity.citizen_profile(session, actor=actor) if _is_citizen(actor) else None
    return render(
        request,
        "feedback/portal/_questions.html",
        {
            "actor": actor,
            "category": category,
            "questions": views.questions(category.attributes) if category else [],
            "draft": draft,
            "errors": {},
            "profile": profile,
            "oob": True,
            "login_url": _login_url(draft),
        },
    )


@router.get("/phan-anh/gan-day")
def nearby(
    request: Request,
    actor: PageActor,
    session: DbSession,
    category_code: str = "",
    lat: str = "",
    long: str = "",
) -> Response:
    """The open public reports of the category near the point (the duplicate hint)."""
    category = _category(session, category_code)
    found = _nearby(session, category, lat[:20], long[:20])
    return render(
        request,
        "feedback/portal/_nearby.html",
        {"actor": actor, "nearby": found, "category": category},
    )


def _error_key(loc: str) -> str:
    if loc.startswith("attributes."):
        return "attr_" + loc.removeprefix("attributes.").split(".")[0]
    if loc in ("lat", "long", "location", "point", "", "__root__"):
        return "location"
    if loc.startswith("photos"):
        return "photos"
    return (
        loc
        if loc in ("description", "address", "category_code", "contact_email", "contact_phone")
        else "_form"
    )


def _pydantic_errors(exc: ValidationError, locale: str) -> dict[str, str]:
    out: dict[str, str] = {}
    messages = {
        "description": N_("Nội dung phản ánh cần từ 10 đến {n} ký tự."),
        "address": N_("Địa chỉ cần từ 3 đến 300 ký tự."),
        "location": N_("Chọn vị trí trên bản đồ, dùng vị trí hiện tại hoặc nhập địa chỉ."),
        "category_code": N_("Chưa chọn lĩnh vực phản ánh."),
        "contact_email": N_("Địa chỉ thư điện tử không hợp lệ."),
        "contact_phone": N_("Số điện thoại không hợp lệ (10 hoặc 11 chữ số, bắt đầu bằng 0)."),
        "photos": N_("Tối đa {max} ảnh."),
    }
    for err in exc.errors():
        key = _error_key(".".join(str(p) for p in err["loc"]))
        message = messages.get(key, N_("Giá trị không hợp lệ."))
        out.setdefault(key, translate(message, locale, n=MAX_DESCRIPTION, max=MAX_PHOTOS))
    return out


async def _store_photos(
    request: Request, form: FormData, session: Any, actor: Actor, settings: Settings, draft: Draft
) -> str | None:
    """Store the photos posted with the form (without JavaScript); the first refusal."""
    problem = None
    store = get_blob_store(settings)
    for part in form.getlist("photos"):
        if not isinstance(part, UploadFile) or not part.filename:
            continue
        data = await part.read(settings.blob_max_bytes + 1)
        if not data:
            continue
        if len(draft.photos) >= MAX_PHOTOS:
            problem = translate(N_("Tối đa {max} ảnh."), request_locale(request), max=MAX_PHOTOS)
            break
        try:
            sha = service.store_photo(
                session,
                store,
                actor=actor,
                data=data,
                filename=part.filename,
                declared_type=part.content_type,
                settings=settings,
            )
        except Invalid as exc:
            problem = problem or translate(exc.message, request_locale(request), **exc.params)
            continue
        if not any(p["sha256"] == sha for p in draft.photos):
            draft.photos.append({"sha256": sha, "filename": blobs.clean_filename(part.filename)})
    return problem


def _keep_for_after_login(request: Request, response: Response, draft: Draft) -> None:
    value = _pending_signer(request).dumps(
        {
            "category_code": draft.category_code,
            "description": draft.description,
            "address": draft.address,
            "lat": draft.lat,
            "long": draft.long,
            "attributes": draft.attributes,
            "photos": draft.photos,
            "submission_key": draft.submission_key,
        }
    )
    if len(value) <= PENDING_MAX_BYTES:
        response.set_cookie(
            PENDING_COOKIE,
            value,
            max_age=PENDING_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure,
            path="/phan-anh",
        )


@router.post("/phan-anh/gui")
async def report_submit(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    declared = request.headers.get("content-length", "")
    if (
        declared.isdigit()
        and int(declared) > MAX_PHOTOS * settings.blob_max_bytes + MULTIPART_OVERHEAD
    ):
        return Response(
            translate(
                N_("Ảnh quá lớn: mỗi ảnh tối đa {max_mb} MB."),
                request_locale(request),
                max_mb=blobs.megabytes(settings.blob_max_bytes),
            ),
            status_code=413,
            media_type="text/plain; charset=utf-8",
        )
    form = await request.form(max_files=MAX_PHOTOS + 2, max_fields=200)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        locale = request_locale(request)
        draft = _read_draft(form, session)
        errors: dict[str, str] = {}
        photo_problem = await _store_photos(request, form, session, actor, settings, draft)
        if photo_problem:
            errors["photos"] = photo_problem
        category = _category(session, draft.category_code)
        if category is None:
            errors["category_code"] = translate(N_("Chưa chọn lĩnh vực phản ánh."), locale)
        citizen = _is_citizen(actor)
        anonymous = draft.anonymous or not citizen
        if category is not None and anonymous and not category.anonymous_allowed:
            if not citizen:
                errors["_login"] = translate(
                    N_(
                        "Lĩnh vực “{name}” cần đăng nhập bằng VNeID. Những gì bạn đã nhập "
                        "được giữ lại sau khi đăng nhập."
                    ),
                    locale,
                    name=category.name,
                )
            else:
                errors["anonymous"] = translate(
                    N_("Lĩnh vực này không nhận phản ánh ẩn danh."), locale
                )
        data: PortalReportIn | None = None
        try:
            data = PortalReportIn.model_validate(
                {
                    "category_code": draft.category_code or "-",
                    "description": draft.description,
                    "attributes": draft.attributes,
                    "photos": [p["sha256"] for p in draft.photos],
                    "lat": _float(draft.lat) if draft.lat else None,
                    "long": _float(draft.long) if draft.long else None,
                    "address": draft.address or None,
                    "anonymous": anonymous,
                    "contact_email": (draft.contact_email or None) if not citizen else None,
                    "contact_phone": (draft.contact_phone or None) if not citizen else None,
                    "submission_key": draft.submission_key or None,
                }
            )
        except ValidationError as exc:
            for key, message in _pydantic_errors(exc, locale).items():
                errors.setdefault(key, message)
        if (draft.lat or draft.long) and (_float(draft.lat) is None or _float(draft.long) is None):
            errors["location"] = translate(N_("Tọa độ không hợp lệ."), locale)
        # Said on the page at once with the other problems (the service checks them too).
        if len(draft.description) < 10 or len(draft.description) > MAX_DESCRIPTION:
            errors.setdefault(
                "description",
                translate(
                    N_("Nội dung phản ánh cần từ 10 đến {n} ký tự."), locale, n=MAX_DESCRIPTION
                ),
            )
        if not draft.address and not (draft.lat and draft.long):
            errors.setdefault(
                "location",
                translate(
                    N_("Chọn vị trí trên bản đồ, dùng vị trí hiện tại hoặc nhập địa chỉ."), locale
                ),
            )
        if errors or data is None:
            response = _report_form(
                request, session, actor, settings, draft, errors=errors, status_code=422
            )
            if "_login" in errors:
                _keep_for_after_login(request, response, draft)
            return response
        try:
            with session.begin_nested():
                submitted = service.submit_portal(
                    session, actor=actor, data=data, settings=settings
                )
        except DomainError as exc:
            errors = {
                _error_key(e.field): translate(e.message, locale, **e.params) for e in exc.errors
            } or {"_form": translate(exc.message, locale, **exc.params)}
            return _report_form(
                request, session, actor, settings, draft, errors=errors, status_code=exc.status
            )
        if submitted.token:
            return RedirectResponse(f"/phan-anh/theo-doi/{submitted.token}?moi=1", status_code=303)
        # A retry of a report already received: its tracking link was shown then.
        target = f"/phan-anh/cua-toi/{submitted.public_id}" if citizen else "/phan-anh/da-nhan"
        return RedirectResponse(
            target + ("?" + urlencode({"ma": submitted.public_id}) if not citizen else ""),
            status_code=303,
        )
    finally:
        await form.close()


@router.get("/phan-anh/da-nhan")
def already_received(request: Request, actor: PageActor, ma: str = "") -> Response:
    return render(request, "feedback/portal/received.html", {"actor": actor, "public_id": ma[:40]})


@router.post("/phan-anh/anh")
async def upload_photo(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    """One photo from the form's script (XHR with progress), for anyone filling the form
    (anonymous reports too): answers JSON with its SHA-256, which the form then carries."""
    locale = request_locale(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.blob_max_bytes + MULTIPART_OVERHEAD:
        message = blobs.too_large(settings)
        return JSONResponse(
            {"error": translate(message.message, locale, **message.params)}, status_code=413
        )
    verify_csrf(request, request.headers.get("x-csrf-token", ""))
    form = await request.form(max_files=1, max_fields=5)
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            return JSONResponse({"error": translate(N_("Chưa chọn ảnh."), locale)}, status_code=422)
        data = await part.read(settings.blob_max_bytes + 1)
        try:
            sha = service.store_photo(
                session,
                get_blob_store(settings),
                actor=actor,
                data=data,
                filename=part.filename,
                declared_type=part.content_type,
                settings=settings,
            )
        except Invalid as exc:
            status = 413 if len(data) > settings.blob_max_bytes else 422
            return JSONResponse(
                {"error": translate(exc.message, locale, **exc.params)}, status_code=status
            )
        return JSONResponse(
            {"sha256": sha, "filename": blobs.clean_filename(part.filename), "size": len(data)}
        )
    finally:
        await form.close()


# --- following an existing report --------------------------------------------------------


@router.post("/phan-anh/{public_id}/theo-doi")
async def follow(
    request: Request, public_id: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    """Follow an open report instead of filing a new one. Posted from the report form (the
    whole form comes along: an anonymous visitor's contact is in it) or the report's page."""
    form = await request.form(max_files=MAX_PHOTOS + 2, max_fields=200)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        locale = request_locale(request)
        public_id = public_id[:40]
        email = _str(form.get("contact_email")).strip() or None
        phone = _str(form.get("contact_phone")).strip() or None
        problem = None
        if not _is_citizen(actor) and not email and not phone:
            problem = translate(
                N_(
                    "Để theo dõi phản ánh, hãy đăng nhập VNeID hoặc để lại thư điện tử hay số "
                    "điện thoại nhận thông báo."
                ),
                locale,
            )
        else:
            try:
                with session.begin_nested():
                    service.follow(
                        session,
                        actor=actor,
                        public_id=public_id,
                        email=None if _is_citizen(actor) else email,
                        phone=None if _is_citizen(actor) else phone,
                    )
            except DomainError as exc:
                problem = translate(exc.message, locale, **exc.params)
        if problem is None:
            return RedirectResponse(f"/phan-anh/{public_id}?da_theo_doi=1", status_code=303)
        if _str(form.get("from")) == "report":
            draft = _read_draft(form, session)
            return _report_form(
                request,
                session,
                actor,
                settings,
                draft,
                errors={"follow": problem},
                status_code=422,
            )
        return _public_page(
            request, session, actor, settings, public_id, follow_error=problem, status_code=422
        )
    finally:
        await form.close()


# --- the reporter's tracking page ----------------------------------------------------------


def _tracking(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    report: Any,
    *,
    base: str,
    rating_url: str | None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "feedback/portal/track.html",
        {
            "actor": actor,
            "r": report,
            "base": base,
            "rating_url": rating_url,
            "new": request.query_params.get("moi") == "1",
            "reopened": request.query_params.get("da_mo_lai") == "1",
            "result_photos": views.result_photos(report.history),
            "errors": errors or {},
            "tracking_url": f"{settings.base_url.rstrip('/')}{base}",
        },
        status_code=status_code,
    )


def _not_found_page(request: Request, actor: Actor, message: str) -> Response:
    return render(
        request,
        "feedback/portal/not_found.html",
        {"actor": actor, "message": translate(message, request_locale(request))},
        status_code=404,
    )


@router.get("/phan-anh/theo-doi/{token}")
def track(
    request: Request, token: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    try:
        report = queries.tracked_report(session, settings=settings, token=token[:128])
    except NotFound:
        return _not_found_page(
            request,
            actor,
            N_("Không tìm thấy phản ánh theo đường liên kết này. Kiểm tra lại đường liên kết."),
        )
    base = f"/phan-anh/theo-doi/{token[:128]}"
    response = _tracking(
        request,
        session,
        actor,
        settings,
        report,
        base=base,
        rating_url=f"{base}/danh-gia" if report.can_rate else None,
    )
    # The token is in this URL: never sent to another site (same-origin keeps the Origin
    # header of this page's own forms, which "no-referrer" would turn into "null").
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get("/phan-anh/cua-toi/{public_id}")
def my_report(
    request: Request, public_id: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _is_citizen(actor):
        return RedirectResponse(
            f"/dang-nhap-cong-dan?next={quote('/phan-anh/cua-toi/' + public_id[:40])}",
            status_code=303,
        )
    try:
        report = queries.tracked_report(
            session, settings=settings, actor=actor, public_id=public_id[:40]
        )
    except NotFound:
        return _not_found_page(request, actor, N_("Không tìm thấy phản ánh của bạn."))
    base = f"/phan-anh/cua-toi/{report.public_id}"
    return _tracking(
        request,
        session,
        actor,
        settings,
        report,
        base=base,
        rating_url=f"/danh-gia/phan-anh/{report.public_id}" if report.can_rate else None,
    )


@router.get("/phan-anh/cua-toi")
def my_reports(request: Request, actor: PageActor, session: DbSession) -> Response:
    if not _is_citizen(actor):
        return RedirectResponse(
            f"/dang-nhap-cong-dan?next={quote('/phan-anh/cua-toi')}", status_code=303
        )
    items = queries.own_reports(session, actor=actor)
    return render(request, "feedback/portal/mine.html", {"actor": actor, "items": items})


async def _reopen(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    *,
    token: str | None,
    public_id: str | None,
) -> Response:
    form = await request.form(max_fields=10)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    locale = request_locale(request)
    reason = _str(form.get("reason")).strip()
    report = queries.tracked_report(
        session, settings=settings, token=token, actor=None if token else actor, public_id=public_id
    )
    base = f"/phan-anh/theo-doi/{token}" if token else f"/phan-anh/cua-toi/{report.public_id}"
    rating_url = (
        (f"{base}/danh-gia" if token else f"/danh-gia/phan-anh/{report.public_id}")
        if report.can_rate
        else None
    )
    error = None
    if len(reason) < 5:
        error = translate(N_("Vui lòng nêu lý do mở lại (ít nhất 5 ký tự)."), locale)
    else:
        try:
            with session.begin_nested():
                service.reopen(
                    session,
                    actor=actor,
                    public_id=report.public_id,
                    reason=reason[:MAX_DESCRIPTION],
                    token=token,
                    settings=settings,
                )
        except DomainError as exc:
            error = next(
                (translate(e.message, locale, **e.params) for e in exc.errors),
                translate(exc.message, locale, **exc.params),
            )
    if error:
        return _tracking(
            request,
            session,
            actor,
            settings,
            report,
            base=base,
            rating_url=rating_url,
            errors={"reason": error, "reason_value": reason},
            status_code=422,
        )
    return RedirectResponse(f"{base}?da_mo_lai=1", status_code=303)


@router.post("/phan-anh/theo-doi/{token}/mo-lai")
async def reopen_by_token(
    request: Request, token: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    try:
        return await _reopen(request, session, actor, settings, token=token[:128], public_id=None)
    except NotFound:
        return _not_found_page(request, actor, N_("Không tìm thấy phản ánh."))


@router.post("/phan-anh/cua-toi/{public_id}/mo-lai")
async def reopen_mine(
    request: Request, public_id: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _is_citizen(actor):
        return RedirectResponse("/dang-nhap-cong-dan", status_code=303)
    try:
        return await _reopen(
            request, session, actor, settings, token=None, public_id=public_id[:40]
        )
    except NotFound:
        return _not_found_page(request, actor, N_("Không tìm thấy phản ánh."))


def _photo(session: Any, settings: Settings, sha: str, allowed: set[str]) -> Response:
    if sha not in allowed:
        return Response(status_code=404)
    blob = blobs.get_blob(session, sha)
    if not blob.content_type.startswith("image/"):
        return Response(status_code=404)
    return StreamingResponse(
        get_blob_store(settings).open(blob.sha256),
        media_type=blob.content_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "Content-Length": str(blob.size),
            "Content-Disposition": "inline",
        },
    )


@router.get("/phan-anh/theo-doi/{token}/anh/{sha}")
def tracked_photo(token: str, sha: str, session: DbSession, settings: AppSettings) -> Response:
    try:
        report = queries.tracked_report(session, settings=settings, token=token[:128])
    except NotFound:
        return Response(status_code=404)
    return _photo(session, settings, sha[:64], views.tracked_photos(report))


@router.get("/phan-anh/cua-toi/{public_id}/anh/{sha}")
def my_report_photo(
    public_id: str, sha: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _is_citizen(actor):
        return Response(status_code=404)
    try:
        report = queries.tracked_report(
            session, settings=settings, actor=actor, public_id=public_id[:40]
        )
    except NotFound:
        return Response(status_code=404)
    return _photo(session, settings, sha[:64], views.tracked_photos(report))


# --- the public map, list and report pages ---------------------------------------------------


def _public_query(params: Any, *, page_size: int) -> tuple[PublicQuery, dict[str, str]]:
    """The filters of the map and list, from the query string; invalid ones are dropped."""
    raw = {
        "category_code": _str(params.get("category_code")).strip()[:64],
        "status": _str(params.get("status")).strip(),
        "unit_code": _str(params.get("unit_code")).strip(),
    }
    values: dict[str, Any] = {"page_size": page_size}
    if raw["category_code"]:
        values["category_code"] = raw["category_code"]
    if raw["status"] in ("open", "closed"):
        values["status"] = raw["status"]
    if raw["unit_code"].isdigit() and len(raw["unit_code"]) == 5:
        values["unit_code"] = raw["unit_code"]
    page = _str(params.get("page"))
    if page.isdigit():
        values["page"] = max(1, min(int(page), 10_000))
    query = PublicQuery.model_validate(values)
    kept = {
        k: v
        for k, v in {
            "category_code": query.category_code or "",
            "status": query.status or "",
            "unit_code": query.unit_code or "",
        }.items()
        if v
    }
    return query, kept


@router.get("/phan-anh")
def public_map(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    query, filters = _public_query(request.query_params, page_size=PAGE_SIZE)
    listing = queries.public_reports(session, query, settings=settings)
    pages = max(1, math.ceil(listing.total / PAGE_SIZE))
    response = render(
        request,
        "feedback/portal/map.html",
        {
            "actor": actor,
            "listing": listing,
            "query": query,
            "filters": filters,
            "filter_qs": urlencode(filters),
            "pages": pages,
            "groups": views.category_choices(session),
            "wards": views.ward_choices(session),
            "map": views.map_settings(settings),
            "geojson_url": "/phan-anh/ban-do.geojson"
            + ("?" + urlencode(filters) if filters else ""),
        },
    )
    return with_map_csp(response, settings)


@router.get("/phan-anh/ban-do.geojson")
def public_geojson(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """The map's points (moderated reports only, no personal data) as GeoJSON."""
    query, _ = _public_query(request.query_params, page_size=MAP_LIMIT)
    listing = queries.public_reports(
        session, query.model_copy(update={"page": 1}), settings=settings
    )
    return JSONResponse(
        listing.geojson(),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=60"},
    )


def _public_page(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    public_id: str,
    *,
    follow_error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        report = queries.public_report(session, public_id, settings=settings)
    except NotFound:
        return _not_found_page(
            request, actor, N_("Không tìm thấy phản ánh, hoặc phản ánh chưa được công khai.")
        )
    response = render(
        request,
        "feedback/portal/public.html",
        {
            "actor": actor,
            "r": report,
            "map": views.map_settings(settings),
            "followed": request.query_params.get("da_theo_doi") == "1",
            "follow_error": follow_error,
            "result_photos": views.result_photos(report.history),
        },
        status_code=status_code,
    )
    return with_map_csp(response, settings)


@router.get("/phan-anh/{public_id}")
def public_report(
    request: Request, public_id: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _PUBLIC_ID.match(public_id[:40]):
        return _not_found_page(
            request, actor, N_("Mã phản ánh không đúng định dạng (ví dụ PA-2612-000123).")
        )
    return _public_page(request, session, actor, settings, public_id[:40])


@router.get("/phan-anh/{public_id}/anh/{sha}")
def public_photo(public_id: str, sha: str, session: DbSession, settings: AppSettings) -> Response:
    try:
        report = queries.public_report(session, public_id[:40], settings=settings)
    except NotFound:
        return Response(status_code=404)
    return _photo(session, settings, sha[:64], views.public_photos(report))
