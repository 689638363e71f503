"""Routing: the report's ward from its point (or its address), the category's agency type,
the responsible agency; unclear cases go to the city's dispatch queue.

Runs as a job deferred in the intake transaction (``feedback:route``); idempotent: only a
report still ``new`` is routed. ``forwarded_at - received_at`` is the time to forward.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import SYSTEM
from cityhall.core.calendar.rules import TimeUnit
from cityhall.errors import NotFound
from cityhall.feedback import notices
from cityhall.feedback.models import Category, Report
from cityhall.feedback.schemas import AgencyType, State
from cityhall.feedback.service.common import Ctx, event
from cityhall.places import geo
from cityhall.places import queries as places


def locate(report: Report, settings: Settings) -> tuple[geo.WardMatch | None, str]:
    """The ward and a note saying how it was found (or why not)."""
    if report.lat is not None and report.long is not None:
        match = geo.nearest_ward(report.lat, report.long, max_km=settings.feedback_ward_max_km)
        if match is not None:
            km = f"{match.distance_km:.1f}".replace(".", ",")
            return match, f"Theo tọa độ: gần trung tâm {match.name} nhất ({km} km)."
        if report.address:
            match = geo.ward_from_address(report.address)
            if match is not None:
                return match, f"Tọa độ xa mọi phường, xã; theo địa chỉ: {match.name}."
        return None, "Tọa độ không thuộc phường, xã nào của Thành phố."
    if report.address:
        match = geo.ward_from_address(report.address)
        if match is not None:
            return match, f"Theo địa chỉ: {match.name}."
        return None, "Địa chỉ không nêu được phường, xã."
    return None, "Không có vị trí."


def route(session: Session, *, report_id: int, settings: Settings) -> bool:
    """Route one report; returns False when there was nothing to do."""
    report = session.scalars(
        select(Report).where(Report.id == report_id).with_for_update(skip_locked=True)
    ).one_or_none()
    if report is None or report.state != State.NEW.value:
        return False
    ctx = Ctx(session, SYSTEM, settings)
    cat = session.get(Category, report.category_code)
    assert cat is not None
    match, note = locate(report, settings)
    if match is not None:
        report.unit_code = match.unit_code
    agency_code: str | None = None
    kind = AgencyType(cat.agency_type)
    if kind is AgencyType.CITY:
        agency_code = cat.agency_code
        note += " Lĩnh vực do cơ quan cấp Thành phố phụ trách."
    elif kind is AgencyType.WARD and match is not None:
        try:
            agency_code = places.ward_agency(session, match.unit_code).code
        except NotFound:
            note += " Không tìm thấy UBND của phường, xã này."
    elif kind is AgencyType.DISPATCH:
        note += " Lĩnh vực cần điều phối."
    # Forwarded = in the responsible unit's inbox (the dispatch queue is not a unit).
    report.forwarded_at = ctx.now if agency_code else None
    report.due_at = ctx.calendar.add_working_time(
        report.received_at, cat.answer_days, TimeUnit.WORKING_DAYS
    )
    report.agency_code = agency_code
    report.state = (State.ASSIGNED if agency_code else State.DISPATCH).value
    report.routing_note = note[:300]
    ev = event(
        ctx,
        report,
        "route",
        State.NEW.value,
        data={
            "unit": report.unit_code,
            "method": match.method if match else None,
            "forward_seconds": round((ctx.now - report.received_at).total_seconds(), 3),
        },
    )
    agency_name = None
    if agency_code:
        found = places.agencies_by_code(session, [agency_code]).get(agency_code)
        agency_name = found.name if found else agency_code
    notices.to_reporter(session, ctx.calendar, report, ev, settings, agency_name=agency_name)
    notices.to_officers(session, ctx.calendar, report, ev, settings, category_name=cat.name)
    return True
