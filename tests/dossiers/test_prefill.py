"""Never ask twice: the application form is filled in from the national registries through
the exchange (the stand-ins run as separate processes for the whole suite), documents the
registries hold need no upload, and the dossier records which registries were consulted
and why. Without a legal basis or the citizen's consent, nothing is fetched."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import system_admin
from cityhall.dossiers.models import Dossier, DossierDocument, DossierRegistryLookup
from cityhall.exchange.models import ExchangeLogEntry
from cityhall.identity import service as identity

AN = "079090001234"  # Nguyễn Văn An, in the population, business and land stand-ins
BIRTH = "/thu-tuc/1.001193/nop-ho-so"
PDF = b"%PDF-1.4\n" + b"giay chung sinh " * 100 + b"\n%%EOF\n"
FORM = {
    "f_child_full_name": "Nguyễn Minh Khôi",
    "f_child_birth_date": "2026-11-20",
    "f_child_sex": "Nam",
    "f_birth_place": "Bệnh viện Từ Dũ",
    "f_mother_full_name": "Lê Thị Hoa",
    "f_relationship": "Cha",
    "phone": "0901234567",
}


def _login(client: TestClient, session: Session, settings: Settings, pin: str, name: str) -> None:
    person = identity.ensure_citizen(session, actor=system_admin(), pin=pin, full_name=name)
    _, token = identity.open_citizen_session(
        session, citizen=person, kind="browser", settings=settings, method="test"
    )
    session.commit()
    client.cookies.set("ch_session", token)


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, name
    return match.group(1)


def _lookups(session: Session, purpose: str | None = None) -> list[ExchangeLogEntry]:
    stmt = select(ExchangeLogEntry).where(
        ExchangeLogEntry.subject_pin == AN, ExchangeLogEntry.direction == "request"
    )
    if purpose:
        stmt = stmt.where(ExchangeLogEntry.purpose == purpose)
    return list(session.scalars(stmt))


@pytest.fixture
def an(client: TestClient, session: Session, settings: Settings) -> TestClient:
    _login(client, session, settings, AN, "Nguyễn Văn An")
    return client


def test_the_form_is_filled_in_from_the_population_registry(an: TestClient) -> None:
    page = an.get(BIRTH)
    assert page.status_code == 200
    assert "Đã xác thực với Cơ sở dữ liệu quốc gia về dân cư" in page.text
    # The residence the registry holds, typed by nobody.
    assert 'value="12 Lê Lợi"' in page.text
    assert re.search(r'<option value="26740"\s+selected', page.text)
    # The identity document is the registry's: no file asked for.
    assert 'name="doc_GIAY_TO_TUY_THAN"' not in page.text


def _submit(an: TestClient) -> str:
    page = an.get(BIRTH)
    data = {
        **FORM,
        "street": "12 Lê Lợi",
        "address_unit": "26740",
        "csrf_token": _hidden(page.text, "csrf_token"),
        "submit_token": _hidden(page.text, "submit_token"),
    }
    r = an.post(
        BIRTH,
        data=data,
        files={"doc_GIAY_CHUNG_SINH": ("chung-sinh.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/")[2].split("?")[0]


def test_submitting_without_the_documents_the_registry_holds(
    an: TestClient, session: Session
) -> None:
    code = _submit(an)
    dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one()
    docs = {
        d.document_code: d.source
        for d in session.scalars(
            select(DossierDocument).where(DossierDocument.dossier_id == dossier.id)
        )
    }
    assert docs == {"GIAY_CHUNG_SINH": "upload", "GIAY_TO_TUY_THAN": "registry"}
    lookups = list(
        session.scalars(
            select(DossierRegistryLookup).where(DossierRegistryLookup.dossier_id == dossier.id)
        )
    )
    population = [x for x in lookups if x.source == "population"]
    assert population
    assert population[0].basis == "law"
    assert "Nghị định 104/2022" in population[0].basis_detail
    assert "GIAY_TO_TUY_THAN" in population[0].used_for
    # The message the dossier points to is in the exchange's log, for this person.
    logged = session.scalars(
        select(ExchangeLogEntry).where(ExchangeLogEntry.message_id == population[0].message_id)
    ).all()
    assert {e.direction for e in logged} == {"request", "response"}
    assert all(e.subject_pin == AN for e in logged)


def test_someone_the_registry_does_not_know_is_asked_for_the_document(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _login(client, session, settings, "079190123456", "Nguyễn Thị Mai")
    page = client.get(BIRTH)
    assert 'name="doc_GIAY_TO_TUY_THAN"' in page.text
    assert "Cơ sở dữ liệu quốc gia về dân cư chưa có thông tin của bạn" in page.text


def test_no_legal_basis_and_no_consent_means_nothing_is_fetched(
    an: TestClient, session: Session
) -> None:
    an.get(BIRTH)  # birth registration needs no business or land data
    services = {e.service for e in _lookups(session)}
    assert services == {"VN/GOV/BCA/CSDLQGDC/dan-cu"}


def test_with_consent_the_other_registries_are_used(an: TestClient, session: Session) -> None:
    mine = an.get("/du-lieu-cua-toi")
    r = an.post(
        "/du-lieu-cua-toi/dong-y",
        data={"purpose": "form_prefill", "csrf_token": _hidden(mine.text, "csrf_token")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = an.get(BIRTH)
    assert "Đã xác thực với Cơ sở dữ liệu đất đai quốc gia" in page.text
    assert "Đã xác thực với Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp" in page.text
    consented = {e.service for e in _lookups(session, "form_prefill")}
    assert consented == {"VN/GOV/BTC/CSDLQGDKDN/doanh-nghiep", "VN/GOV/BNNMT/CSDLDD/dat-dai"}
    # Withdrawn, and the next form fetches them no more.
    mine = an.get("/du-lieu-cua-toi")
    an.post(
        "/du-lieu-cua-toi/dong-y",
        data={
            "purpose": "form_prefill",
            "action": "withdraw",
            "csrf_token": _hidden(mine.text, "csrf_token"),
        },
    )
    before = len(_lookups(session, "form_prefill"))
    an.get(BIRTH)
    assert len(_lookups(session, "form_prefill")) == before


def test_a_procedure_with_a_business_document_reads_that_registry_by_law(
    an: TestClient, session: Session
) -> None:
    page = an.get("/thu-tuc/2.002044/nop-ho-so")
    assert "Đã xác thực với Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp" in page.text
    assert 'name="doc_THONG_TIN_DOANH_NGHIEP"' not in page.text
    purposes = {(e.service, e.purpose) for e in _lookups(session)}
    assert ("VN/GOV/BTC/CSDLQGDKDN/doanh-nghiep", "administrative_procedure") in purposes


def test_the_citizen_sees_who_accessed_their_data(
    an: TestClient, session: Session, official_headers
) -> None:  # type: ignore[no-untyped-def]
    from cityhall.core.actors import Role
    from cityhall.places.queries import ward_agency

    code = _submit(an)
    ward = ward_agency(session, "26740")
    cookies = dict(an.cookies)
    an.cookies.clear()
    headers = official_headers(role=Role.HANDLER, agency_code=ward.code, unit_code="26740")
    assert an.get(f"/api/v1/dossiers/{code}", headers=headers).status_code == 200
    an.cookies.update(cookies)
    page = an.get("/du-lieu-cua-toi")
    assert page.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    # Through the exchange: the one-stop system read the population registry (Bộ Công an).
    assert any("Tra cứu thông tin công dân" in r and "Bộ Công an" in r for r in rows)
    # In the back office: the handler who opened the dossier, with their agency.
    seen = [r for r in rows if f"Xem hồ sơ {code}" in r]
    assert seen
    assert ward.name in seen[0]
    assert "Cán bộ handler" in seen[0]


def test_only_the_citizen_sees_their_accesses(client: TestClient) -> None:
    r = client.get("/du-lieu-cua-toi", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/dang-nhap-cong-dan")


def test_a_result_issued_earlier_is_taken_from_the_citizens_document_store(
    an: TestClient, session: Session, settings: Settings, officer
) -> None:  # type: ignore[no-untyped-def]
    from cityhall.core.actors import Role
    from tests.dossiers.conftest import submission

    social = "/thu-tuc/1.001776/nop-ho-so"
    before = an.get(social)
    assert 'name="doc_GIAY_KHAI_SINH"' in before.text  # nothing in the store yet

    person = identity.ensure_citizen(
        session, actor=system_admin(), pin=AN, full_name="Nguyễn Văn An"
    )
    _, token = identity.open_citizen_session(
        session, citizen=person, kind="api", settings=settings, method="test"
    )
    session.commit()
    api = {"Authorization": f"Bearer {token}"}
    desk, head, handler = (
        officer(Role.INTAKE_OFFICER),
        officer(Role.APPROVER),
        officer(Role.HANDLER),
    )
    cookies = dict(an.cookies)
    an.cookies.clear()
    r = an.post("/api/v1/dossiers", json=submission(AN), headers=api)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    steps = [
        ("accept", desk, {}),
        ("assign", head, {"handler_id": handler.id}),
        ("forward", handler, {}),
        ("approve", head, {}),
        ("return-result", desk, {}),
    ]
    for action, who, body in steps:
        done = an.post(
            f"/api/v1/dossiers/{code}/actions/{action}", json=body or None, headers=who.headers
        )
        assert done.status_code == 200, (action, done.text)
    an.cookies.update(cookies)

    after = an.get(social)
    assert 'name="doc_GIAY_KHAI_SINH"' not in after.text
    assert f"Giấy khai sinh (bản chính điện tử và bản giấy) · {code}" in after.text
    # Still asked for: a store document no earlier result matches.
    assert 'name="doc_GIAY_XAC_NHAN_KHUYET_TAT"' in after.text
