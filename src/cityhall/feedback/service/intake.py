"""Intake: one function per channel, all producing the same report.

Each checks the category, the answers to its questions, the location and the photos
(every problem at once, each naming its field), writes the report with its first event,
audit and acknowledgement, and defers the routing job, all in the caller's transaction.

Idempotency: a submission carries a key (the form's nonce, or for Open311 the SHA-256 of
the request's content) scoped to who sends it; the same key within
``feedback_idempotency_minutes`` returns the first report (``replayed``). A transaction-level
advisory lock on the key serialises two concurrent retries.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from cityhall import jobs
from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.blobs import service as blobs
from cityhall.core.blobs.store import BlobStore
from cityhall.core.blobs.types import resolve
from cityhall.errors import FieldError, Forbidden, Invalid, NotFound, Unauthenticated
from cityhall.feedback import notices
from cityhall.feedback.models import Category, IntakeKey, Report
from cityhall.feedback.permissions import is_operator
from cityhall.feedback.schemas import (
    LAT_MAX,
    LAT_MIN,
    LONG_MAX,
    LONG_MIN,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    AttributeAnswers,
    Channel,
    HotlineReportIn,
    Moderation,
    Open311RequestIn,
    PortalReportIn,
    State,
    Submitted,
)
from cityhall.feedback.service.common import (
    Ctx,
    actor_ref,
    category,
    event,
    new_token,
    next_public_id,
)

ROUTE_TASK = "feedback:route"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")


def store_photo(
    session: Any,
    store: BlobStore,
    *,
    actor: Actor,
    data: bytes,
    filename: str | None,
    declared_type: str | None,
    settings: Settings,
) -> str:
    """Store one photo (JPEG, PNG, WebP, HEIC) and return its SHA-256 for
    ``PortalReportIn.photos``. Raises Invalid when it is not an image or is too large."""
    if len(data) > settings.blob_max_bytes:
        raise blobs.too_large(settings)
    if not data:
        raise Invalid("Tệp rỗng.")
    kind = resolve(data, filename=blobs.clean_filename(filename), declared_type=declared_type)
    if kind not in IMAGE_TYPES:
        raise Invalid("Chỉ nhận ảnh (JPEG, PNG, WebP, HEIC).")
    blob = blobs.store_upload(
        session,
        store,
        actor=actor,
        data=data,
        filename=filename,
        declared_type=declared_type,
        settings=settings,
    )
    return blob.sha256


# --- checks -------------------------------------------------------------------------------


def check_attributes(
    cat: Category, answers: AttributeAnswers
) -> tuple[dict[str, Any], list[FieldError]]:
    """The answers cleaned (numbers as numbers, lists deduplicated) and every problem."""
    defs = {a["code"]: a for a in cat.attributes}
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for code in answers:
        if code not in defs:
            errors.append(
                FieldError(
                    f"attributes.{code[:64]}",
                    "Câu hỏi “{code}” không thuộc lĩnh vực này.",
                    {"code": code[:64]},
                )
            )
    for code, a in defs.items():
        field = f"attributes.{code}"
        title = a["description"]
        value = answers.get(code)
        if isinstance(value, list):
            value = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        elif isinstance(value, str):
            value = value.strip()
        if value is None or value in ("", []):
            if a.get("required"):
                errors.append(FieldError(field, "Chưa trả lời: {title}.", {"title": title}))
            continue
        datatype = a["datatype"]
        keys = [v["key"] for v in a.get("values", [])]
        if datatype == "multivaluelist":
            chosen = value if isinstance(value, list) else [value]
            wrong = [v for v in chosen if v not in keys]
            if wrong:
                errors.append(
                    FieldError(
                        field,
                        "{title}: giá trị không có trong danh sách ({value}).",
                        {"title": title, "value": ", ".join(wrong)[:100]},
                    )
                )
                continue
            clean[code] = list(dict.fromkeys(chosen))
            continue
        if isinstance(value, list):
            if len(value) != 1:
                errors.append(FieldError(field, "{title}: chỉ chọn một giá trị.", {"title": title}))
                continue
            value = value[0]
        if datatype == "singlevaluelist":
            if value not in keys:
                errors.append(
                    FieldError(
                        field,
                        "{title}: giá trị không có trong danh sách ({value}).",
                        {"title": title, "value": value[:100]},
                    )
                )
                continue
            clean[code] = value
        elif datatype == "number":
            try:
                number = float(value.replace(",", "."))
            except ValueError:
                number = float("nan")
            if number != number or abs(number) > 1e12:  # NaN or absurd
                errors.append(FieldError(field, "{title}: cần một con số.", {"title": title}))
                continue
            clean[code] = int(number) if number.is_integer() else number
        elif datatype == "datetime":
            try:
                clean[code] = datetime.fromisoformat(value).isoformat()
            except ValueError:
                errors.append(
                    FieldError(field, "{title}: ngày giờ không hợp lệ.", {"title": title})
                )
        else:
            limit = 300 if datatype == "string" else MAX_DESCRIPTION
            if len(value) > limit:
                errors.append(
                    FieldError(
                        field, "{title}: dài quá {limit} ký tự.", {"title": title, "limit": limit}
                    )
                )
                continue
            clean[code] = value
    return clean, errors


def check_photos(session: Any, photos: list[str]) -> list[FieldError]:
    errors = []
    for i, sha in enumerate(dict.fromkeys(photos)):
        try:
            blob = blobs.get_blob(session, sha)
        except (NotFound, Invalid):
            errors.append(FieldError(f"photos.{i}", "Ảnh chưa được tải lên hoặc đã bị xóa."))
            continue
        if blob.content_type not in IMAGE_TYPES:
            errors.append(FieldError(f"photos.{i}", "Tệp đính kèm không phải là ảnh."))
    if len(photos) > MAX_PHOTOS:
        errors.append(FieldError("photos", "Tối đa {count} ảnh.", {"count": MAX_PHOTOS}))
    return errors


MIN_DESCRIPTION = 10


def _description_errors(description: str) -> list[FieldError]:
    if len(description.strip()) < MIN_DESCRIPTION:
        return [
            FieldError(
                "description",
                "Nội dung cần ít nhất {count} ký tự để đơn vị hiểu được vấn đề.",
                {"count": MIN_DESCRIPTION},
            )
        ]
    return []


def _location_errors(
    lat: float | None, long: float | None, address: str | None
) -> list[FieldError]:
    if (lat is None) != (long is None):
        return [FieldError("lat" if lat is None else "long", "Cần cả vĩ độ và kinh độ.")]
    if lat is not None and long is not None:
        errors = []
        if not LAT_MIN <= lat <= LAT_MAX:
            errors.append(FieldError("lat", "Vị trí nằm ngoài Thành phố Hồ Chí Minh."))
        if not LONG_MIN <= long <= LONG_MAX:
            errors.append(FieldError("long", "Vị trí nằm ngoài Thành phố Hồ Chí Minh."))
        return errors
    if not address or len(address.strip()) < 3:
        return [FieldError("address", "Cần vị trí trên bản đồ hoặc địa chỉ.")]
    return []


# --- idempotency --------------------------------------------------------------------------


# The lock first (a CTE is evaluated before the outer query reads the key), in one statement.
_REPLAY = text(
    "WITH lock AS (SELECT pg_advisory_xact_lock(hashtextextended(:lock, 7411))) "
    "SELECT k.report_id, r.public_id FROM lock, feedback_intake_keys k "
    "JOIN feedback_reports r ON r.id = k.report_id "
    "WHERE k.scope = :scope AND k.key = :key AND k.created_at >= :since"
)


def _replay(ctx: Ctx, scope: str, key: str) -> tuple[int, str] | None:
    since = ctx.now - timedelta(minutes=ctx.settings.feedback_idempotency_minutes)
    row = ctx.session.execute(
        _REPLAY, {"lock": f"{scope}|{key}", "scope": scope, "key": key, "since": since}
    ).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else None


def _remember(ctx: Ctx, scope: str, key: str, report_id: int) -> None:
    stmt = insert(IntakeKey).values(scope=scope, key=key, report_id=report_id, created_at=ctx.now)
    ctx.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[IntakeKey.scope, IntakeKey.key],
            set_={"report_id": stmt.excluded.report_id, "created_at": stmt.excluded.created_at},
        )
    )


# --- the one write path --------------------------------------------------------------------


def _create(
    ctx: Ctx,
    *,
    cat: Category,
    channel: Channel,
    description: str,
    attributes: dict[str, Any],
    lat: float | None,
    long: float | None,
    address: str | None,
    photos: list[str],
    anonymous: bool,
    idempotency: tuple[str, str] | None,
    reporter: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Submitted:
    if idempotency is not None:
        earlier = _replay(ctx, *idempotency)
        if earlier is not None:
            return Submitted(public_id=earlier[1], report_id=earlier[0], token=None, replayed=True)
    token, token_hash = new_token()
    report = Report(
        public_id=next_public_id(ctx),
        token_hash=token_hash,
        category_code=cat.code,
        channel=channel.value,
        state=State.NEW.value,
        moderation=Moderation.PENDING.value,
        description=description.strip(),
        attributes=attributes,
        lat=lat,
        long=long,
        address=(address or "").strip()[:300] or None,
        photos=list(dict.fromkeys(photos)),
        result_photos=[],
        anonymous=anonymous,
        entered_by=actor_ref(ctx.actor),
        received_at=ctx.now,
        updated_at=ctx.now,
        last_event_seq=0,
        reopened_count=0,
        **reporter,
        **(extra or {}),
    )
    ctx.session.add(report)
    ctx.session.flush()
    ev = event(ctx, report, "submit", None, data={"channel": channel.value, "category": cat.code})
    if idempotency is not None:
        _remember(ctx, *idempotency, report.id)
    jobs.defer(ctx.session, ROUTE_TASK, report_id=report.id)
    notices.to_reporter(ctx.session, ctx.calendar, report, ev, ctx.settings, tracking_token=token)
    return Submitted(public_id=report.public_id, report_id=report.id, token=token)


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid(
            "Phản ánh chưa hợp lệ; vui lòng xem lại các mục được đánh dấu.", errors=errors
        )


def _citizen_reporter(ctx: Ctx) -> dict[str, Any]:
    from cityhall.identity import service as identity

    citizen = identity.get_own_citizen(ctx.session, actor=ctx.actor)
    return {
        "reporter_citizen_id": citizen.id,
        "reporter_pin": citizen.pin,
        "reporter_name": citizen.full_name,
        "reporter_email": citizen.email,
        "reporter_phone": citizen.phone,
    }


def submit_portal(
    session: Any, *, actor: Actor, data: PortalReportIn, settings: Settings
) -> Submitted:
    """A report from the citizen portal: the logged-in citizen, or anonymous when the
    category allows it (a citizen may also choose anonymity there)."""
    ctx = Ctx(session, actor, settings)
    cat = category(session, data.category_code)
    logged_in = actor.kind is ActorKind.CITIZEN and actor.id is not None
    anonymous = data.anonymous or not logged_in
    if anonymous and not cat.anonymous_allowed:
        if not logged_in:
            raise Unauthenticated(
                "Lĩnh vực “{name}” cần đăng nhập bằng định danh điện tử để phản ánh.",
                name=cat.name,
            )
        raise Invalid(
            "Lĩnh vực “{name}” không nhận phản ánh ẩn danh.",
            errors=[FieldError("anonymous", "Lĩnh vực này không nhận phản ánh ẩn danh.")],
            name=cat.name,
        )
    if actor.kind not in (ActorKind.CITIZEN, ActorKind.ANONYMOUS):
        raise Forbidden("Cổng phản ánh dành cho người dân.")
    attributes, errors = check_attributes(cat, data.attributes)
    errors += _description_errors(data.description)
    errors += _location_errors(data.lat, data.long, data.address)
    errors += check_photos(session, data.photos)
    _raise(errors)
    if anonymous:
        reporter: dict[str, Any] = {
            "reporter_email": data.contact_email,
            "reporter_phone": data.contact_phone,
        }
    else:
        reporter = _citizen_reporter(ctx)
    idem = None
    if data.submission_key:
        who = f"citizen:{actor.id}" if logged_in else "anonymous"
        idem = (f"web:{who}"[:80], hashlib.sha256(data.submission_key.encode()).hexdigest())
    return _create(
        ctx,
        cat=cat,
        channel=Channel.WEB,
        description=data.description,
        attributes=attributes,
        lat=data.lat,
        long=data.long,
        address=data.address,
        photos=data.photos,
        anonymous=anonymous,
        idempotency=idem,
        reporter=reporter,
    )


def submit_hotline(
    session: Any, *, actor: Actor, data: HotlineReportIn, settings: Settings
) -> Submitted:
    """A call (or e-mail, social-media message) entered by a hotline operator."""
    if not is_operator(actor):
        raise Forbidden("Chỉ điện thoại viên đường dây nóng được nhập phản ánh thay người dân.")
    ctx = Ctx(session, actor, settings)
    cat = category(session, data.category_code)
    attributes, errors = check_attributes(cat, data.attributes)
    errors += _description_errors(data.description)
    errors += _location_errors(data.lat, data.long, data.address)
    if data.anonymous and not cat.anonymous_allowed:
        errors.append(FieldError("anonymous", "Lĩnh vực này không nhận phản ánh ẩn danh."))
    if not data.anonymous and not data.caller_name:
        errors.append(FieldError("caller_name", "Chưa nhập họ tên người phản ánh."))
    if not data.anonymous and not (data.caller_phone or data.caller_email):
        errors.append(FieldError("caller_phone", "Cần số điện thoại hoặc thư điện tử để trả lời."))
    _raise(errors)
    idem = None
    if data.submission_key:
        idem = (
            f"hotline:{actor.id}"[:80],
            hashlib.sha256(data.submission_key.encode()).hexdigest(),
        )
    return _create(
        ctx,
        cat=cat,
        channel=Channel(data.channel),
        description=data.description,
        attributes=attributes,
        lat=data.lat,
        long=data.long,
        address=data.address,
        photos=[],
        anonymous=data.anonymous,
        idempotency=idem,
        reporter={
            "reporter_name": None if data.anonymous else data.caller_name,
            "reporter_phone": data.caller_phone,
            "reporter_email": data.caller_email,
        },
    )


def submit_open311(
    session: Any, *, actor: Actor, data: Open311RequestIn, settings: Settings
) -> Submitted:
    """POST /open311/v2/requests by an API client (``authenticate_api_key``). Anonymous
    unless the client names the person (first/last name, e-mail or phone)."""
    if actor.kind is not ActorKind.CLIENT or actor.id is None:
        raise Forbidden("Cần khóa API hợp lệ.")
    ctx = Ctx(session, actor, settings)
    cat = category(session, data.service_code)
    attributes, errors = check_attributes(cat, data.attributes)
    address = data.address_string
    if not (data.lat is not None or address or data.address_id):
        errors.append(FieldError("lat", "Cần lat và long, address_string hoặc address_id."))
    elif data.lat is not None or data.long is not None:
        errors += _location_errors(data.lat, data.long, address)
    elif not address and data.address_id:
        address = f"address_id {data.address_id}"
    description = (data.description or "").strip()
    if len(description) < 3:
        errors.append(FieldError("description", "Cần mô tả vấn đề (description)."))
    if data.email:
        from cityhall.core.notify.channels import valid_email

        if not valid_email(data.email):
            errors.append(FieldError("email", "Địa chỉ thư điện tử không hợp lệ."))
    if data.media_url and not data.media_url.startswith(("https://", "http://")):
        errors.append(FieldError("media_url", "media_url phải là một địa chỉ http(s)."))
    _raise(errors)
    name = " ".join(p for p in (data.first_name, data.last_name) if p) or None
    # A client's user is not identified by the city anyway: the API accepts reports without
    # a name in every category, and staff see them as anonymous (docs/adr/0011).
    anonymous = not (name or data.email or data.phone)
    content = json.dumps(
        [
            data.service_code,
            data.lat,
            data.long,
            address,
            data.address_id,
            description,
            attributes,
            data.device_id,
            data.account_id,
            data.email,
        ],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    idem = (f"open311:{actor.id}", hashlib.sha256(content.encode()).hexdigest())
    return _create(
        ctx,
        cat=cat,
        channel=Channel.OPEN311,
        description=description,
        attributes=attributes,
        lat=data.lat,
        long=data.long,
        address=address,
        photos=[],
        anonymous=anonymous,
        idempotency=idem,
        reporter={
            "reporter_name": name,
            "reporter_email": data.email,
            "reporter_phone": data.phone,
        },
        extra={
            "api_client_id": int(actor.id),
            "device_id": data.device_id,
            "account_id": data.account_id,
            "address_id": data.address_id,
            "media_url": data.media_url,
        },
    )
