"""The citizen's pages over HTTP: apply online with uploads, errors that lose nothing,
drafts, my dossiers, supplementing, withdrawing, the public look-up."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Role, system_admin
from cityhall.identity import service as identity

PDF = b"%PDF-1.4\n" + b"giay chung sinh " * 100 + b"\n%%EOF\n"
FORM = {
    "f_child_full_name": "Trần Minh Khang",
    "f_child_birth_date": "2026-11-20",
    "f_child_sex": "Nam",
    "f_birth_place": "Bệnh viện Từ Dũ",
    "f_mother_full_name": "Nguyễn Thị Mai",
    "f_relationship": "Mẹ",
    "street": "12 Lê Lợi",
    "address_unit": "26740",
    "phone": "0909123456",
    "email": "mai@example.vn",
}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _token(html: str) -> str:
    match = re.search(r'name="submit_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def mai(  # Trần Thị Bình, a demo citizen the population registry knows
    client: TestClient, session: Session, settings: Settings
) -> TestClient:
    person = identity.ensure_citizen(
        session, actor=system_admin(), pin="079185004321", full_name="Trần Thị Bình"
    )
    _, token = identity.open_citizen_session(
        session, citizen=person, kind="browser", settings=settings, method="test"
    )
    session.commit()
    client.cookies.set("ch_session", token)
    return client


def test_applying_asks_an_anonymous_visitor_to_log_in(client: TestClient) -> None:
    r = client.get("/thu-tuc/1.001193/nop-ho-so", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/dang-nhap-cong-dan?next=/thu-tuc/1.001193/nop-ho-so")


def test_apply_online_with_an_upload_then_follow_it(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    assert page.status_code == 200
    assert "079185004321" in page.text  # identity from the login, never typed
    assert 'name="f_child_full_name"' in page.text
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={**FORM, "csrf_token": _csrf(page.text), "submit_token": _token(page.text)},
        files={"doc_GIAY_CHUNG_SINH": ("chung-sinh.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    code = location.split("/")[2].split("?")[0]
    receipt = mai.get(location)
    assert "Đã nộp hồ sơ thành công" in receipt.text
    assert code in receipt.text
    assert "<svg" in receipt.text  # the QR code for the look-up
    mine = mai.get("/ho-so-cua-toi")
    assert code in mine.text
    timeline = mai.get(f"/ho-so-cua-toi/{code}/tien-do")
    assert "Nộp hồ sơ" in timeline.text
    public = mai.get(f"/tra-cuu/{code}")
    assert "Đăng ký khai sinh" in public.text
    assert "079185004321" not in public.text


def test_errors_are_inline_and_nothing_is_lost(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    data = {
        **FORM,
        "f_child_full_name": "",
        "csrf_token": _csrf(page.text),
        "submit_token": _token(page.text),
    }
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data=data,
        files={"doc_GIAY_CHUNG_SINH": ("chung-sinh.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 422
    assert 'id="f_child_full_name-error"' in r.text
    assert "Chưa nhập Họ, chữ đệm, tên của trẻ." in r.text
    assert 'value="Bệnh viện Từ Dũ"' in r.text  # what was typed is still there
    assert "Đã tải lên:" in r.text
    assert "chung-sinh.pdf" in r.text
    sha = re.search(r'name="doc_GIAY_CHUNG_SINH_sha256" value="([0-9a-f]{64})"', r.text)
    assert sha
    # The file came back as its hash: fixing the field is enough to submit.
    fixed = {
        **data,
        "f_child_full_name": "Trần Minh Khang",
        "doc_GIAY_CHUNG_SINH_sha256": sha.group(1),
    }
    ok = mai.post("/thu-tuc/1.001193/nop-ho-so", data=fixed, follow_redirects=False)
    assert ok.status_code == 303, ok.text


def test_a_wrong_upload_is_refused_on_its_field(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={**FORM, "csrf_token": _csrf(page.text), "submit_token": _token(page.text)},
        files={
            "doc_GIAY_CHUNG_SINH": (
                "virus.exe",
                b"MZ\x90\x00" + b"\x00" * 200,
                "application/octet-stream",
            )
        },
    )
    assert r.status_code == 422
    assert 'id="doc_GIAY_CHUNG_SINH-error"' in r.text
    assert 'value="Trần Minh Khang"' in r.text


def test_a_draft_is_kept_until_submitted(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={
            "f_child_full_name": "Bé Na",
            "street": "5 Pasteur",
            "save_draft": "1",
            "csrf_token": _csrf(page.text),
            "submit_token": _token(page.text),
        },
    )
    assert r.status_code == 200
    assert "Đã lưu bản nháp" in r.text
    again = mai.get("/thu-tuc/1.001193/nop-ho-so")
    assert 'value="Bé Na"' in again.text
    assert 'value="5 Pasteur"' in again.text


def test_upload_endpoint_reports_progressless_errors_as_json(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    csrf = _csrf(page.text)
    ok = mai.post(
        "/tai-len",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers={"X-CSRF-Token": csrf},
    )
    assert ok.status_code == 200
    assert len(ok.json()["sha256"]) == 64
    bad = mai.post(
        "/tai-len",
        files={"file": ("a.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/x-msdownload")},
        headers={"X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]
    assert (
        mai.post("/tai-len", files={"file": ("a.pdf", PDF, "application/pdf")}).status_code == 403
    )


def test_supplement_and_withdraw_on_the_page(
    mai: TestClient,
    client: TestClient,
    make_official,  # type: ignore[no-untyped-def]
) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={**FORM, "csrf_token": _csrf(page.text), "submit_token": _token(page.text)},
        files={"doc_GIAY_CHUNG_SINH": ("chung-sinh.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    code = r.headers["location"].split("/")[2].split("?")[0]
    official, password = make_official(
        role=Role.INTAKE_OFFICER, agency_code="000.67.40.H29", unit_code="26740"
    )
    with TestClient(client.app) as desk:
        token = desk.post(
            "/api/v1/auth/token", json={"username": official.username, "password": password}
        ).json()["access_token"]
        desk.post(
            f"/api/v1/dossiers/{code}/actions/request-supplement",
            json={"missing": ["GIAY_CHUNG_SINH"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    own = mai.get(f"/ho-so-cua-toi/{code}")
    assert "Cơ quan yêu cầu bổ sung hồ sơ" in own.text
    assert "Giấy chứng sinh do cơ sở y tế cấp" in own.text
    empty = mai.post(f"/ho-so-cua-toi/{code}/bo-sung", data={"csrf_token": _csrf(own.text)})
    assert empty.status_code == 422
    done = mai.post(
        f"/ho-so-cua-toi/{code}/bo-sung",
        data={"csrf_token": _csrf(own.text), "note": "Ảnh rõ hơn"},
        files={"doc_GIAY_CHUNG_SINH": ("chung-sinh-2.pdf", PDF + b"2", "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    after = mai.get(f"/ho-so-cua-toi/{code}")
    assert "Mới nộp, chờ tiếp nhận" in after.text
    withdrawn = mai.post(
        f"/ho-so-cua-toi/{code}/rut",
        data={"csrf_token": _csrf(after.text), "note": "Nộp nhầm"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    assert "Đã dừng xử lý" in mai.get(f"/ho-so-cua-toi/{code}").text


def test_public_lookup_page(client: TestClient) -> None:
    r = client.get("/tra-cuu/000.00.01.H29-260101-9999")
    assert r.status_code == 404
    assert "Không tìm thấy hồ sơ mã 000.00.01.H29-260101-9999" in r.text
    form = client.get("/tra-cuu", params={"ma": "abc"}, follow_redirects=False)
    assert form.status_code == 303


def test_an_empty_submission_lists_every_problem_at_once(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={"csrf_token": _csrf(page.text), "submit_token": _token(page.text)},
    )
    assert r.status_code == 422
    for field in (
        "street",
        "address_unit",
        "f_child_full_name",
        "f_mother_full_name",
        "doc_GIAY_CHUNG_SINH",
    ):
        assert f'id="{field}-error"' in r.text, field
    assert "Chưa nhập địa chỉ nơi cư trú." in r.text


def test_an_expired_session_loses_nothing(mai: TestClient) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    csrf = _csrf(page.text)
    up = mai.post(
        "/tai-len",
        files={"file": ("cs.pdf", PDF, "application/pdf")},
        headers={"X-CSRF-Token": csrf},
    )
    sha = up.json()["sha256"]
    session_cookie = mai.cookies.get("ch_session")
    mai.cookies.delete("ch_session")  # the session expired meanwhile
    r = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={
            **FORM,
            "csrf_token": csrf,
            "submit_token": _token(page.text),
            "doc_GIAY_CHUNG_SINH_sha256": sha,
        },
        follow_redirects=False,
    )
    assert r.status_code == 401
    assert "Phiên đăng nhập đã hết hạn" in r.text
    assert 'href="/dang-nhap-cong-dan?next=/thu-tuc/1.001193/nop-ho-so' in r.text
    expired_upload = mai.post(
        "/tai-len",
        files={"file": ("cs.pdf", PDF, "application/pdf")},
        headers={"X-CSRF-Token": csrf},
    )
    assert expired_upload.status_code == 401
    assert "Phiên đăng nhập đã hết hạn" in expired_upload.json()["error"]
    mai.cookies.set("ch_session", session_cookie or "")  # logged in again
    back = mai.get("/thu-tuc/1.001193/nop-ho-so?khoi_phuc=1")
    assert "những gì bạn đã nhập được giữ lại" in back.text
    assert 'value="Bệnh viện Từ Dũ"' in back.text
    assert f'value="{sha}"' in back.text
    ok = mai.post(
        "/thu-tuc/1.001193/nop-ho-so",
        data={
            **FORM,
            "csrf_token": _csrf(back.text),
            "submit_token": _token(back.text),
            "doc_GIAY_CHUNG_SINH_sha256": sha,
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text


def test_an_oversized_upload_is_refused_before_it_is_read(
    mai: TestClient, settings: Settings
) -> None:
    page = mai.get("/thu-tuc/1.001193/nop-ho-so")
    big = b"%PDF-1.4\n" + b"0" * (settings.blob_max_bytes + 300 * 1024)
    r = mai.post(
        "/tai-len",
        files={"file": ("lon.pdf", big, "application/pdf")},
        headers={"X-CSRF-Token": _csrf(page.text)},
    )
    assert r.status_code == 413
    assert "Tệp quá lớn: dung lượng tối đa là" in r.json()["error"]
