"""Demo feedback for ``make run``: a few hundred reports around the demo wards, from every
channel and in every state, driven through the real service functions (so their history,
audit and notifications are what production writes), then spread back over two months so
that inboxes show overdue work and the public map has history. Idempotent: seeded once."""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import CITY_AGENCY_CODE, Actor, ActorKind, Role, RoleGrant
from cityhall.core.calendar.rules import TimeUnit
from cityhall.core.calendar.service import load_calendar
from cityhall.errors import DomainError
from cityhall.feedback import service
from cityhall.feedback.models import ApiClient, Category, IntakeKey, Report, ReportEvent
from cityhall.feedback.schemas import (
    Action,
    ActionIn,
    HotlineReportIn,
    Open311RequestIn,
    PortalReportIn,
    State,
)

log = logging.getLogger(__name__)

COUNT = 200
# cityhall.demo's demo citizens (a later layer: not imported from here), so that logging in
# as one of them shows their reports.
DEMO_CITIZENS = (
    ("079090001234", "Nguyễn Văn An", date(1990, 5, 12)),
    ("079185004321", "Trần Thị Bình", date(1985, 11, 3)),
    ("074201007788", "Lê Hoàng Cường", date(2001, 2, 27)),
)
DEMO_CLIENT = "Ứng dụng Dữ liệu mẫu (Open311)"
# The demo wards' centroids (places/data/ward_centroids.csv): Sài Gòn, Bến Thành, Tân Định.
CENTRES = ((10.7805, 106.704), (10.7713, 106.694), (10.7919, 106.6891))
STREETS = ("Lê Lợi", "Nguyễn Huệ", "Đồng Khởi", "Hai Bà Trưng", "Pasteur", "Lý Tự Trọng")
WARDS = ("Phường Sài Gòn", "Phường Bến Thành", "Phường Tân Định")
TEXTS = {
    "urban": "Hàng quán lấn chiếm vỉa hè trước số {n} đường {street}, người đi bộ phải "
    "xuống lòng đường.",
    "env": "Rác tồn đọng nhiều ngày ở đầu hẻm {n} đường {street}, bốc mùi hôi.",
    "traffic": "Mặt đường {street} đoạn gần số {n} bị sụt lún, có ổ gà lớn nguy hiểm.",
    "flood": "Đường {street} đoạn số {n} ngập sâu mỗi khi mưa lớn, nước rút rất chậm.",
    "light": "Đèn đường trên đường {street} gần số {n} không sáng mấy đêm nay.",
    "tree": "Cây xanh trước số {n} đường {street} nghiêng ra đường, có cành khô sắp gãy.",
    "build": "Công trình ở số {n} đường {street} thi công không che chắn, vật liệu rơi "
    "xuống đường.",
    "service": "Hồ sơ nộp tại phường bị hẹn lại nhiều lần, phải nộp lại giấy tờ đã có.",
    "security": "Nhóm thanh niên tụ tập gây mất trật tự về đêm gần số {n} đường {street}.",
    "health": "Quán ăn ở số {n} đường {street} chế biến thực phẩm mất vệ sinh.",
    "edu": "Cổng trường trên đường {street} thường xuyên ùn tắc giờ tan học.",
    "other": "Đề nghị bố trí thêm ghế đá, thùng rác trong công viên gần đường {street}.",
}
REPLIES = (
    "Đơn vị đã kiểm tra hiện trường và xử lý xong.",
    "Đã phối hợp với đơn vị thu gom, khắc phục trong ngày.",
    "Đã lập biên bản, yêu cầu chủ cơ sở khắc phục; sẽ tiếp tục kiểm tra.",
)
REJECTIONS = (
    "Khu vực thuộc dự án tư nhân đang quản lý, không thuộc thẩm quyền của phường.",
    "Nội dung đã được giải quyết theo phản ánh trước đó.",
)


def _staff() -> Actor:
    """The demo's staff: the hotline, the dispatcher (who may act on any unit's report) and
    the moderator, at the city People's Committee."""
    return Actor(
        ActorKind.OFFICIAL,
        "demo",
        "Dữ liệu mẫu",
        tuple(
            RoleGrant(role, CITY_AGENCY_CODE, None)
            for role in (Role.HOTLINE_OPERATOR, Role.DISPATCHER, Role.MODERATOR)
        ),
    )


def _answers(rng: random.Random, category: Category) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for a in category.attributes:
        if not a.get("required") and rng.random() < 0.5:
            continue
        keys = [v["key"] for v in a.get("values", [])]
        if a["datatype"] == "multivaluelist":
            answers[a["code"]] = rng.sample(keys, k=min(len(keys), rng.randint(1, 2)))
        elif a["datatype"] == "singlevaluelist":
            answers[a["code"]] = rng.choice(keys)
        elif a["datatype"] == "number":
            answers[a["code"]] = str(rng.randint(1, 6))
        else:
            answers[a["code"]] = f"LL-{rng.randint(1, 400):03d}"
    return answers


def _client(session: Session) -> Actor:
    client = session.scalars(select(ApiClient).where(ApiClient.name == DEMO_CLIENT)).first()
    if client is None:
        from cityhall.core.actors import system_admin

        service.create_api_key(session, actor=system_admin(), name=DEMO_CLIENT, contact=None)
        client = session.scalars(select(ApiClient).where(ApiClient.name == DEMO_CLIENT)).one()
    return Actor(ActorKind.CLIENT, str(client.id), client.name)


def seed(session: Session, settings: Settings) -> int:
    """Load this domain's demo data (idempotent); return how many reports were added."""
    # Seeded before: the demo hotline's first submission key is known.
    if session.scalar(
        select(func.count()).where(IntakeKey.scope.in_(["hotline:demo", "web:citizen:demo"]))
    ) or session.scalar(select(func.count()).where(Report.entered_by == "official:demo")):
        return 0
    from cityhall.identity import service as identity

    rng = random.Random(1022)  # noqa: S311 - demo data, reproducible
    staff = _staff()
    citizens = []
    for pin, name, born in DEMO_CITIZENS:
        person = identity.ensure_citizen(
            session, actor=staff, pin=pin, full_name=name, birth_date=born
        )
        citizens.append(identity.citizen_actor(person))
    client = _client(session)
    categories = list(session.scalars(select(Category).where(Category.active.is_(True))))
    calendar = load_calendar(session, settings)
    made = 0
    for i in range(COUNT):
        cat = rng.choice(categories)
        centre = rng.choice(CENTRES)
        lat = round(centre[0] + rng.uniform(-0.006, 0.006), 6)
        long = round(centre[1] + rng.uniform(-0.006, 0.006), 6)
        street = rng.choice(STREETS)
        text = TEXTS[cat.code.split(".")[0]].format(n=rng.randint(2, 180), street=street)
        answers = _answers(rng, cat)
        with_point = rng.random() < 0.85
        address = f"{rng.randint(2, 180)} {street}, {rng.choice(WARDS)}"
        channel = rng.random()
        try:
            with session.begin_nested():
                if channel < 0.45:
                    citizen = rng.choice(citizens)
                    anonymous = cat.anonymous_allowed and rng.random() < 0.4
                    submitted = service.submit_portal(
                        session,
                        actor=citizen,
                        data=PortalReportIn(
                            category_code=cat.code,
                            description=text,
                            attributes=answers,
                            lat=lat if with_point else None,
                            long=long if with_point else None,
                            address=None if with_point else address,
                            anonymous=anonymous,
                            submission_key=f"demo-{i:04d}",
                        ),
                        settings=settings,
                    )
                elif channel < 0.85:
                    submitted = service.submit_hotline(
                        session,
                        actor=staff,
                        data=HotlineReportIn(
                            category_code=cat.code,
                            description=text,
                            attributes=answers,
                            lat=lat if with_point else None,
                            long=long if with_point else None,
                            address=address,
                            caller_name=f"Người gọi số {i}",
                            caller_phone=f"09{rng.randint(10_000_000, 99_999_999)}",
                            submission_key=f"demo-{i:04d}",
                        ),
                        settings=settings,
                    )
                else:
                    submitted = service.submit_open311(
                        session,
                        actor=client,
                        data=Open311RequestIn(
                            service_code=cat.code,
                            lat=lat,
                            long=long,
                            description=text,
                            attributes=answers,
                            device_id=f"demo-device-{i % 17}",
                        ),
                        settings=settings,
                    )
                service.route(session, report_id=submitted.report_id, settings=settings)
                _handle(session, settings, staff, rng, submitted.public_id, text)
        except DomainError as exc:
            log.warning("demo report %s skipped: %s", i, exc)
            continue
        # Mark it as demo data (for idempotency) and spread it back in time.
        _age(session, submitted.report_id, timedelta(days=rng.uniform(0, 60)), calendar, cat)
        made += 1
    made_merges = _merge_some(session, settings, staff)
    session.flush()
    log.info("feedback demo: %s reports, %s merged", made, made_merges)
    return made


def _merge_some(session: Session, settings: Settings, staff: Actor, limit: int = 6) -> int:
    """A few duplicates: open reports of a category in a ward merged into the oldest."""
    rows = session.execute(
        select(Report.public_id, Report.category_code, Report.unit_code)
        .where(
            Report.state.in_([State.ASSIGNED.value, State.IN_PROGRESS.value]),
            Report.unit_code.is_not(None),
        )
        .order_by(Report.received_at)
    ).all()
    first: dict[tuple[str, str | None], str] = {}
    merged = 0
    for public_id, category, unit in rows:
        key = (category, unit)
        if key not in first:
            first[key] = public_id
            continue
        try:
            with session.begin_nested():
                _act(session, settings, staff, public_id, Action.MERGE, into_public_id=first[key])
        except DomainError:
            continue
        merged += 1
        if merged >= limit:
            break
    return merged


def _act(
    session: Session, settings: Settings, staff: Actor, public_id: str, action: Action, **data: Any
) -> None:
    service.act(
        session,
        actor=staff,
        public_id=public_id,
        action=action,
        data=ActionIn.model_validate(data),
        settings=settings,
    )


def _handle(
    session: Session, settings: Settings, staff: Actor, rng: random.Random, pid: str, text: str
) -> None:
    row = session.scalars(select(Report).where(Report.public_id == pid)).one()
    moderation = rng.random()
    if moderation < 0.72:
        public = text.split(",")[0].rstrip(".") + "."
        _act(
            session, settings, staff, pid, Action.MODERATE, approve=True, public_description=public
        )
    elif moderation < 0.77:
        _act(session, settings, staff, pid, Action.MODERATE, approve=False)
    if row.state == State.DISPATCH.value:
        if rng.random() < 0.5:
            return
        _act(session, settings, staff, pid, Action.ASSIGN, agency_code="000.67.40.H29")
    fate = rng.random()
    if fate < 0.2:
        return
    _act(session, settings, staff, pid, Action.START)
    if fate < 0.35:
        return
    if fate < 0.45:
        today = load_calendar(session, settings).local(row.updated_at).date()
        _act(
            session,
            settings,
            staff,
            pid,
            Action.PROGRESS,
            note="Cần phối hợp với đơn vị chuyên ngành; đang chờ vật tư.",
            committed_date=(today + timedelta(days=rng.randint(3, 20))).isoformat(),
        )
        return
    if fate < 0.88:
        _act(session, settings, staff, pid, Action.RESOLVE, note=rng.choice(REPLIES))
    else:
        _act(session, settings, staff, pid, Action.REJECT, note=rng.choice(REJECTIONS))


def _age(session: Session, report_id: int, back: timedelta, calendar: Any, cat: Category) -> None:
    row = session.get(Report, report_id)
    assert row is not None
    received = row.received_at - back
    values: dict[str, Any] = {
        "received_at": received,
        "updated_at": row.updated_at - back,
        "due_at": calendar.add_working_time(received, cat.answer_days, TimeUnit.WORKING_DAYS),
    }
    for column in ("forwarded_at", "resolved_at", "escalated_at"):
        moment = getattr(row, column)
        if moment is not None:
            values[column] = moment - back
    session.execute(update(Report).where(Report.id == report_id).values(**values))
    session.execute(
        update(ReportEvent)
        .where(ReportEvent.report_id == report_id)
        .values(at=ReportEvent.at - back)
    )
    session.expire(row)
