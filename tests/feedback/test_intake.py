"""Intake from every channel produces the same report, routed to the right unit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import ANONYMOUS, Role, system_admin
from cityhall.core.calendar.rules import TimeUnit
from cityhall.core.calendar.service import load_calendar
from cityhall.errors import Forbidden, Invalid, NotFound, Unauthenticated
from cityhall.feedback import service
from cityhall.feedback.categories import import_categories
from cityhall.feedback.schemas import HotlineReportIn, Open311RequestIn
from tests.feedback.conftest import (
    UNIT_A,
    UNIT_B,
    WARD_A,
    WARD_B,
    WORKS,
    jobs_for,
    notifications,
    portal,
    report,
)


def test_categories_are_reference_data_imported_once(session: Session, settings: Settings) -> None:
    # Loaded with the reference data already: a second import changes nothing.
    assert import_categories(session, actor=system_admin(), settings=settings) == 0
    with pytest.raises(Forbidden):
        import_categories(session, actor=ANONYMOUS, settings=settings)


def test_a_citizen_report_gets_an_id_a_token_and_reaches_the_ward_within_the_job(
    session: Session, settings: Settings, citizen, staff
) -> None:  # type: ignore[no-untyped-def]
    officer = staff(Role.FEEDBACK_OFFICER, WARD_A)
    reporter = citizen()
    submitted = service.submit_portal(session, actor=reporter, data=portal(), settings=settings)
    assert re.fullmatch(r"PA-\d{4}-\d{6,}", submitted.public_id)
    assert submitted.token
    assert len(submitted.token) >= 32
    row = report(session, submitted.public_id)
    assert row.state == "new"
    assert row.reporter_citizen_id == int(reporter.id or 0)
    assert row.token_hash != submitted.token  # stored hashed
    # The routing job was queued in the same transaction.
    assert {"report_id": row.id} in jobs_for(session, "feedback:route")

    assert service.route(session, report_id=row.id, settings=settings)
    row = report(session, submitted.public_id)
    assert (row.state, row.unit_code, row.agency_code) == ("assigned", UNIT_A, WARD_A)
    assert row.forwarded_at is not None
    assert row.forwarded_at >= row.received_at
    assert "Phường Sài Gòn" in (row.routing_note or "")
    calendar = load_calendar(session, settings)
    assert row.due_at == calendar.add_working_time(row.received_at, 3, TimeUnit.WORKING_DAYS)
    # Routing twice does nothing.
    assert not service.route(session, report_id=row.id, settings=settings)
    # The reporter was told (with the tracking link), and so was the unit's focal officer.
    mails = notifications(session, f"feedback:{row.public_id}:%:email:%")
    assert any(f"/phan-anh/theo-doi/{submitted.token}" in body for _, _, body in mails)
    staff_push = notifications(session, f"feedback-staff:{row.public_id}:%")
    assert ("push", f"official:{officer.id}") in {(c, r) for c, r, _ in staff_push}


def test_city_matters_go_to_the_department_and_addresses_find_their_ward(
    session: Session, settings: Settings, citizen, file_report
) -> None:  # type: ignore[no-untyped-def]
    road = file_report(
        citizen(), category_code="traffic.road_damage", attributes={"hazard": "high"}
    )
    assert report(session, road.public_id).agency_code == WORKS
    by_address = file_report(
        citizen(), lat=None, long=None, address="45 Lê Thánh Tôn, phuong Ben Thanh"
    )
    row = report(session, by_address.public_id)
    assert (row.unit_code, row.agency_code) == (UNIT_B, WARD_B)
    assert "Theo địa chỉ" in (row.routing_note or "")
    # Former units are understood too: Phường Bến Nghé, Quận 1 is now in Phường Sài Gòn.
    old = file_report(citizen(), lat=None, long=None, address="12 Pasteur, Phường Bến Nghé, Quận 1")
    assert report(session, old.public_id).agency_code == WARD_A


def test_unclear_reports_wait_in_the_dispatch_queue(
    session: Session, settings: Settings, citizen, file_report
) -> None:  # type: ignore[no-untyped-def]
    nowhere = file_report(citizen(), lat=None, long=None, address="đầu hẻm nhà tôi")
    row = report(session, nowhere.public_id)
    assert (row.state, row.agency_code, row.forwarded_at) == ("dispatch", None, None)
    general = file_report(citizen(), category_code="other.general", attributes={})
    assert report(session, general.public_id).state == "dispatch"


def test_every_problem_of_a_report_is_named_at_once(
    session: Session, settings: Settings, citizen
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as caught:
        service.submit_portal(
            session,
            actor=citizen(),
            data=portal(
                category_code="env.noise",
                attributes={"hours": ["night", "dawn"], "colour": "red"},
                photos=["0" * 64],
            ),
            settings=settings,
        )
    fields = {e.field for e in caught.value.errors}
    assert fields == {"attributes.source", "attributes.hours", "attributes.colour", "photos.0"}
    with pytest.raises(NotFound):
        service.submit_portal(
            session, actor=citizen(), data=portal(category_code="no.such"), settings=settings
        )


def test_anonymous_only_where_the_category_allows_it(
    session: Session, settings: Settings, citizen
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unauthenticated):
        service.submit_portal(session, actor=ANONYMOUS, data=portal(), settings=settings)
    with pytest.raises(Invalid):
        service.submit_portal(
            session, actor=citizen(), data=portal(anonymous=True), settings=settings
        )
    sensitive = portal(category_code="security.social_evils", attributes={}, anonymous=True)
    submitted = service.submit_portal(session, actor=citizen(), data=sensitive, settings=settings)
    row = report(session, submitted.public_id)
    assert row.anonymous
    assert row.reporter_citizen_id is None
    assert row.reporter_name is None


def test_a_retried_submission_returns_the_first_report(
    session: Session, settings: Settings, citizen
) -> None:  # type: ignore[no-untyped-def]
    reporter = citizen()
    first = service.submit_portal(
        session, actor=reporter, data=portal(submission_key="form-nonce-123"), settings=settings
    )
    again = service.submit_portal(
        session, actor=reporter, data=portal(submission_key="form-nonce-123"), settings=settings
    )
    assert (again.public_id, again.replayed, again.token) == (first.public_id, True, None)
    other = service.submit_portal(
        session, actor=reporter, data=portal(submission_key="form-nonce-456"), settings=settings
    )
    assert other.public_id != first.public_id


def test_the_hotline_enters_a_call_for_a_caller(
    session: Session, settings: Settings, staff, citizen
) -> None:  # type: ignore[no-untyped-def]
    operator = staff(Role.HOTLINE_OPERATOR, "000.00.00.H29")
    call = HotlineReportIn(
        category_code="light.streetlight",
        description="Ba trụ đèn trên đường Lê Lợi không sáng từ tối qua.",
        attributes={"condition": "off"},
        address="Lê Lợi, Phường Bến Thành",
        caller_name="Phạm Văn Tư",
        caller_phone="0912345678",
    )
    with pytest.raises(Forbidden):
        service.submit_hotline(session, actor=citizen(), data=call, settings=settings)
    submitted = service.submit_hotline(session, actor=operator, data=call, settings=settings)
    row = report(session, submitted.public_id)
    assert (row.channel, row.reporter_name, row.reporter_phone) == (
        "phone",
        "Phạm Văn Tư",
        "0912345678",
    )
    assert row.entered_by == f"official:{operator.id}"
    with pytest.raises(Invalid) as caught:
        service.submit_hotline(
            session,
            actor=operator,
            data=call.model_copy(update={"caller_name": None, "caller_phone": None}),
            settings=settings,
        )
    assert {e.field for e in caught.value.errors} == {"caller_name", "caller_phone"}


def test_open311_keys_are_shown_once_and_checked(session: Session, settings: Settings) -> None:
    key = service.create_api_key(
        session, actor=system_admin(), name="FixMyStreet HCMC", contact=None
    )
    client = service.authenticate_api_key(session, key)
    assert client.label == "FixMyStreet HCMC"
    for wrong in (None, "", key + "x"):
        with pytest.raises(Forbidden):
            service.authenticate_api_key(session, wrong)
    data = Open311RequestIn(
        service_code="flood.street",
        lat=10.7805,
        long=106.7030,
        attributes={"depth": "20_50"},
        description="Nước ngập ngang bánh xe.",
        device_id="device-1",
    )
    first = service.submit_open311(session, actor=client, data=data, settings=settings)
    # A retry of the same request by the same client within the window: the same report.
    again = service.submit_open311(session, actor=client, data=data, settings=settings)
    assert again.public_id == first.public_id
    assert again.replayed
    row = report(session, first.public_id)
    assert row.channel == "open311"
    assert row.anonymous
    assert row.device_id == "device-1"
    assert row.received_at - row.updated_at <= timedelta(0)
