"""The citizen portal's feedback pages over HTTP: filing a report (photos, point or address,
anonymous when allowed, nothing lost on an error or a login), the nearby hint and following,
the tracking page (reopen, rating), the public map, list, GeoJSON and report pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.engagement.models import Rating
from cityhall.feedback.models import Report
from tests.dossiers.conftest import UNIT_A, Person
from tests.engagement.conftest import PNG, POINT_A, Desk, citizen_actor, login

FORM = {
    "category_code": "env.waste",
    "description": "Rác tồn đọng ba ngày ở đầu hẻm 12 Lê Lợi, bốc mùi.",
    "attr_volume": "medium",
    "lat": str(POINT_A[0]),
    "long": str(POINT_A[1]),
}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _form_page(client: TestClient, path: str = "/phan-anh/gui") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return _csrf(r.text)


def test_the_form_offers_categories_by_keyword_and_their_questions(client: TestClient) -> None:
    html = client.get("/phan-anh/gui").text
    assert 'accept="image/*" capture="environment" multiple' in html
    assert "Lĩnh vực phản ánh" in html
    assert "Địa chỉ" in html
    found = client.get("/phan-anh/gui", params={"q": "rac"}).text  # without diacritics
    assert "Rác thải, xả rác không đúng nơi quy định" in found
    assert "Đèn đường" not in found
    chosen = client.get("/phan-anh/gui", params={"category_code": "env.waste"}).text
    assert "Khối lượng ước tính" in chosen
    assert "Khoảng một xe đẩy" in chosen
    # htmx: the questions, and who may send it out of band.
    fragment = client.get("/phan-anh/gui/cau-hoi", params={"category_code": "env.waste"}).text
    assert "Khối lượng ước tính" in fragment
    assert 'hx-swap-oob="true"' in fragment
    assert "cần đăng nhập bằng VNeID" in fragment  # env.waste is not anonymous


def test_a_logged_in_citizen_files_a_report_with_a_photo_and_a_point(
    client: TestClient, session: Session, settings: Settings, citizen: Callable[..., Person]
) -> None:
    mai = citizen()
    login(client, session, settings, mai)
    page = client.get("/phan-anh/gui", params={"category_code": "env.waste"}).text
    assert "Nguyễn Thị Mai" in page
    assert "(từ VNeID)" in page
    csrf = _csrf(page)
    r = client.post(
        "/phan-anh/gui",
        data={**FORM, "csrf_token": csrf, "submission_key": "k-0123456789"},
        files=[("photos", ("rac.png", PNG, "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    target = r.headers["location"]
    assert re.fullmatch(r"/phan-anh/theo-doi/[\w-]{32,}\?moi=1", target)
    row = session.scalars(select(Report)).one()
    assert row.reporter_citizen_id == mai.id
    assert not row.anonymous
    assert (row.attributes, len(row.photos)) == ({"volume": "medium"}, 1)

    track = client.get(target)
    assert track.status_code == 200
    assert row.public_id in track.text
    assert "Đã gửi phản ánh thành công." in track.text
    assert track.headers["referrer-policy"] == "same-origin"
    photo = re.search(r'src="(/phan-anh/theo-doi/[^"]+/anh/[0-9a-f]{64})"', track.text)
    assert photo
    assert client.get(photo.group(1)).content == PNG
    # Someone else's photo cannot be read through this link.
    assert client.get(photo.group(1)[:-64] + "0" * 64).status_code == 404
    # The citizen's own list and view.
    assert row.public_id in client.get("/phan-anh/cua-toi").text
    assert client.get(f"/phan-anh/cua-toi/{row.public_id}").status_code == 200


def test_errors_keep_everything_including_photos(
    client: TestClient, session: Session, settings: Settings, citizen: Callable[..., Person]
) -> None:
    login(client, session, settings, citizen())
    csrf = _form_page(client)
    r = client.post(
        "/phan-anh/gui",
        data={**FORM, "csrf_token": csrf, "description": "ngắn", "attr_volume": "", "lat": "abc"},
        files=[
            ("photos", ("rac.png", PNG, "image/png")),
            ("photos", ("virus.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream")),
        ],
    )
    assert r.status_code == 422
    html = r.text
    assert "Nội dung phản ánh cần từ 10" in html
    assert "Tọa độ không hợp lệ." in html
    assert 'id="photos-error"' in html
    sha = re.search(r'name="photo_sha" value="([0-9a-f]{64})"', html)
    assert sha, "the good photo comes back by hash"
    # Fixed: the photo is not sent again, the kept hash is enough.
    r = client.post(
        "/phan-anh/gui",
        data={**FORM, "csrf_token": csrf, "photo_sha": sha.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert len(session.scalars(select(Report)).one().photos) == 1
    # The service's own checks (a required question) land on their field too.
    r = client.post("/phan-anh/gui", data={**FORM, "csrf_token": csrf, "attr_volume": ""})
    assert r.status_code == 422
    assert 'id="attr_volume-error"' in r.text


def test_the_form_without_a_login_keeps_the_report_until_after_login(
    client: TestClient, session: Session, settings: Settings, citizen: Callable[..., Person]
) -> None:
    csrf = _form_page(client)
    r = client.post("/phan-anh/gui", data={**FORM, "csrf_token": csrf})
    assert r.status_code == 422
    assert "cần đăng nhập bằng VNeID" in r.text
    assert "ch_pending_report" in r.headers.get("set-cookie", "")
    assert FORM["description"] in r.text
    login(client, session, settings, citizen())
    restored = client.get("/phan-anh/gui", params={"category_code": "env.waste", "khoi_phuc": "1"})
    assert "những gì bạn đã nhập được giữ lại" in restored.text
    assert FORM["description"] in restored.text


def test_an_anonymous_report_with_an_address_only(client: TestClient, session: Session) -> None:
    csrf = _form_page(client)
    r = client.post(
        "/phan-anh/gui",
        data={
            "csrf_token": csrf,
            "category_code": "security.disorder",
            "description": "Tụ tập gây ồn ào, đánh nhau vào ban đêm trước số 5 Nguyễn Huệ.",
            "address": "5 Nguyễn Huệ, Phường Sài Gòn",
            "contact_email": "khongten@example.vn",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    row = session.scalars(select(Report)).one()
    assert row.anonymous
    assert row.reporter_citizen_id is None
    assert row.lat is None
    assert client.get(r.headers["location"]).status_code == 200
    # A bad tracking link is a clear 404 page.
    r = client.get("/phan-anh/theo-doi/" + "x" * 40)
    assert r.status_code == 404
    assert "Không tìm thấy phản ánh" in r.text
    # No CSRF token: refused.
    assert client.post("/phan-anh/gui", data={"category_code": "x"}).status_code == 403


def test_nearby_open_reports_and_following_one_instead(
    client: TestClient,
    session: Session,
    settings: Settings,
    citizen: Callable[..., Person],
    desk: Desk,
) -> None:
    first = desk.file(citizen_actor(session, citizen(name="Trần Văn Bảy")))
    desk.publish(first.public_id)

    r = client.get(
        "/phan-anh/gan-day",
        params={"category_code": "env.waste", "lat": POINT_A[0] + 0.0003, "long": POINT_A[1]},
    )
    assert first.public_id in r.text
    assert "Theo dõi phản ánh này" in r.text
    assert "Trần Văn Bảy" not in r.text  # nothing personal
    far = client.get(
        "/phan-anh/gan-day", params={"category_code": "env.waste", "lat": 10.9, "long": 106.8}
    )
    assert first.public_id not in far.text

    # The form shows the hint without JavaScript too, with the follow button.
    page = client.get("/phan-anh/gui", params={**FORM, "q": ""})
    assert f'formaction="/phan-anh/{first.public_id}/theo-doi"' in page.text
    csrf = _csrf(page.text)

    # Anonymous, without a contact: asked for one, the form kept.
    r = client.post(
        f"/phan-anh/{first.public_id}/theo-doi", data={**FORM, "csrf_token": csrf, "from": "report"}
    )
    assert r.status_code == 422
    assert "để lại thư điện tử" in r.text
    assert FORM["description"] in r.text

    mai = citizen()
    login(client, session, settings, mai)
    r = client.post(
        f"/phan-anh/{first.public_id}/theo-doi",
        data={**FORM, "csrf_token": csrf, "from": "report"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/phan-anh/{first.public_id}?da_theo_doi=1"
    assert "Bạn đang theo dõi phản ánh này" in client.get(r.headers["location"]).text
    assert session.scalars(select(Report)).all().__len__() == 1  # no duplicate filed


def test_the_public_map_list_and_pages_show_moderated_reports_only(
    client: TestClient, session: Session, citizen: Callable[..., Person], desk: Desk
) -> None:
    reporter = citizen(name="Phạm Thị Chín")
    shown = desk.file(citizen_actor(session, reporter))
    hidden = desk.file(citizen_actor(session, reporter), lat=POINT_A[0] + 0.01)
    desk.publish(shown.public_id, "Rác tồn đọng ở đầu hẻm (đã kiểm duyệt).")

    page = client.get("/phan-anh")
    assert page.status_code == 200
    assert shown.public_id in page.text
    assert hidden.public_id not in page.text
    assert "Phạm Thị Chín" not in page.text
    assert 'data-geojson="/phan-anh/ban-do.geojson"' in page.text
    assert "tile.openstreetmap.org" in page.headers["content-security-policy"]

    geo = client.get("/phan-anh/ban-do.geojson").json()
    assert geo["type"] == "FeatureCollection"
    assert [f["properties"]["public_id"] for f in geo["features"]] == [shown.public_id]
    assert "Phạm" not in str(geo)

    # Filters, server-side (no JavaScript needed).
    assert shown.public_id in client.get("/phan-anh", params={"status": "open"}).text
    assert shown.public_id not in client.get("/phan-anh", params={"status": "closed"}).text
    assert shown.public_id in client.get("/phan-anh", params={"unit_code": UNIT_A}).text
    assert shown.public_id not in client.get("/phan-anh", params={"unit_code": "26743"}).text
    other = client.get("/phan-anh", params={"category_code": "light.streetlight"})
    assert shown.public_id not in other.text
    # Nonsense filters are dropped, not a 500.
    assert (
        client.get(
            "/phan-anh", params={"status": "x", "unit_code": "abc", "page": "-1"}
        ).status_code
        == 200
    )

    public = client.get(f"/phan-anh/{shown.public_id}")
    assert public.status_code == 200
    assert "(đã kiểm duyệt)" in public.text
    assert "ba ngày ở đầu hẻm 12" not in public.text
    assert client.get(f"/phan-anh/{hidden.public_id}").status_code == 404
    assert client.get("/phan-anh/khong-phai-ma").status_code == 404


def test_tracking_a_resolved_report_reopen_and_rate_by_token(
    client: TestClient, session: Session, desk: Desk
) -> None:
    csrf = _form_page(client)
    r = client.post(
        "/phan-anh/gui",
        data={
            "csrf_token": csrf,
            "category_code": "tree.illegal_cutting",
            "description": "Có người chặt hạ cây xanh trên vỉa hè trước số 20 Lê Lợi.",
            "lat": str(POINT_A[0]),
            "long": str(POINT_A[1]),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    track_url = r.headers["location"].split("?")[0]
    row = session.scalars(select(Report)).one()
    desk.route(row.id)
    desk.resolve(row.public_id, "Đã lập biên bản, yêu cầu trồng lại cây.")

    page = client.get(track_url).text
    assert "Đã lập biên bản, yêu cầu trồng lại cây." in page
    assert f'hx-get="{track_url}/danh-gia?khung=1"' in page
    assert "Mở lại phản ánh" in page
    fragment = client.get(f"{track_url}/danh-gia", params={"khung": "1"}).text
    assert "Bạn có hài lòng" in fragment
    csrf = _csrf(page)

    r = client.post(
        f"{track_url}/danh-gia",
        data={"csrf_token": csrf, "level": "satisfied", "reasons_satisfied": ["on_time"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    rating = session.scalars(select(Rating)).one()
    assert (rating.subject_kind, rating.subject_ref, rating.rater_kind) == (
        "report",
        row.public_id,
        "anonymous",
    )
    assert (rating.unit_code, rating.agency_code) == (UNIT_A, "000.67.40.H29")
    # Over the API, with the tracking token in a header.
    token = track_url.rsplit("/", 1)[1]
    api = client.get(
        f"/api/v1/ratings/reports/{row.public_id}", headers={"X-Tracking-Token": token}
    )
    assert api.status_code == 200
    assert api.json()["level"] == "satisfied"
    assert client.get(f"/api/v1/ratings/reports/{row.public_id}").status_code in (401, 404)

    # Reopen: a reason is needed.
    r = client.post(f"{track_url}/mo-lai", data={"csrf_token": csrf, "reason": "x"})
    assert r.status_code == 422
    assert "lý do mở lại" in r.text
    r = client.post(
        f"{track_url}/mo-lai",
        data={"csrf_token": csrf, "reason": "Cây vẫn bị chặt tiếp, chưa ai xử lý."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.refresh(row)
    assert row.state == "reopened"


def test_rating_a_report_not_answered_yet_is_refused(
    client: TestClient, session: Session, citizen: Callable[..., Person], desk: Desk
) -> None:
    submitted = desk.file(citizen_actor(session, citizen()))
    assert submitted.token
    r = client.put(
        f"/api/v1/ratings/reports/{submitted.public_id}",
        json={"level": "satisfied"},
        headers={"X-Tracking-Token": submitted.token},
    )
    assert r.status_code == 409, r.text
