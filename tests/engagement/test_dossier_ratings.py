"""Rating a returned dossier: only its applicant, only once returned, one rating changeable
for a few days; over the API and on the citizen's pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.audit.models import AuditEvent
from cityhall.engagement.models import Rating
from tests.dossiers.conftest import WARD_A, Person
from tests.engagement.conftest import login

RATINGS = "/api/v1/ratings/dossiers"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_applicant_rates_a_returned_dossier_and_may_change_it(
    client: TestClient,
    session: Session,
    citizen: Callable[..., Person],
    dossier_of: Callable[..., str],
) -> None:
    mai = citizen()
    code = dossier_of(mai)

    r = client.get(f"{RATINGS}/{code}", headers=mai.headers)
    assert r.status_code == 404  # not rated yet

    r = client.put(
        f"{RATINGS}/{code}",
        json={"level": "satisfied", "reasons": ["on_time", "met_needs"], "comment": " Tốt "},
        headers=mai.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["level"], body["reasons"], body["comment"]) == (
        "satisfied",
        ["on_time", "met_needs"],
        "Tốt",
    )
    assert body["reason_labels"] == ["Giải quyết đúng hạn", "Kết quả đáp ứng yêu cầu"]
    assert body["changeable_until"] is not None

    r = client.put(
        f"{RATINGS}/{code}",
        json={"level": "not_satisfied", "reasons": ["late"]},
        headers=mai.headers,
    )
    assert r.status_code == 200, r.text  # changed, not a second rating
    rows = session.scalars(select(Rating)).all()
    assert [(x.subject_ref, x.level, x.changes, x.agency_code) for x in rows] == [
        (code, "not_satisfied", 1, WARD_A)
    ]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "rating")
    ).all()
    assert actions == ["rating.create", "rating.change"]

    # After the window, the rating is final.
    session.execute(update(Rating).values(rated_at=Rating.rated_at - timedelta(days=8)))
    session.commit()
    r = client.put(f"{RATINGS}/{code}", json={"level": "satisfied"}, headers=mai.headers)
    assert r.status_code == 409
    assert "không sửa được nữa" in r.json()["detail"]
    assert client.get(f"{RATINGS}/{code}", headers=mai.headers).json()["changeable_until"] is None


def test_only_the_applicant_and_only_once_returned(
    client: TestClient,
    citizen: Callable[..., Person],
    dossier_of: Callable[..., str],
    official_headers,  # type: ignore[no-untyped-def]
) -> None:
    mai, other = citizen(), citizen(name="Lê Văn Tám")
    code = dossier_of(mai)
    open_code = dossier_of(mai, returned=False)
    good = {"level": "very_satisfied", "reasons": ["fast"]}

    assert client.put(f"{RATINGS}/{code}", json=good).status_code == 401
    assert client.put(f"{RATINGS}/{code}", json=good, headers=other.headers).status_code == 404
    assert client.put(f"{RATINGS}/{code}", json=good, headers=official_headers()).status_code == 403
    r = client.put(f"{RATINGS}/{open_code}", json=good, headers=mai.headers)
    assert r.status_code == 409
    assert r.json()["state"] == "submitted"
    assert (
        client.put(
            f"{RATINGS}/000.00.00.H29-260101-9999", json=good, headers=mai.headers
        ).status_code
        == 404
    )


def test_invalid_ratings_are_refused_with_the_field_named(
    client: TestClient, citizen: Callable[..., Person], dossier_of: Callable[..., str]
) -> None:
    mai = citizen()
    code = dossier_of(mai)

    r = client.put(f"{RATINGS}/{code}", json={"level": "happy"}, headers=mai.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "level"

    r = client.put(
        f"{RATINGS}/{code}", json={"level": "satisfied", "reasons": ["late"]}, headers=mai.headers
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "reasons", "message": "Lý do không thuộc mức đánh giá đã chọn: late."}
    ]

    r = client.put(f"{RATINGS}/{code}", json={"level": "not_satisfied"}, headers=mai.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reasons"

    r = client.put(
        f"{RATINGS}/{code}",
        json={"level": "satisfied", "comment": "x" * 1001},
        headers=mai.headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "comment"

    r = client.put(
        f"{RATINGS}/{code}", json={"level": "satisfied", "extra": 1}, headers=mai.headers
    )
    assert r.status_code == 422


def test_reasons_are_published(client: TestClient) -> None:
    r = client.get("/api/v1/ratings/reasons")
    assert r.status_code == 200
    levels = {x["level"]: [reason["code"] for reason in x["reasons"]] for x in r.json()}
    assert list(levels) == ["very_satisfied", "satisfied", "not_satisfied"]
    assert "late" in levels["not_satisfied"]


def test_rating_on_the_citizens_pages(
    client: TestClient,
    session: Session,
    settings: Settings,
    citizen: Callable[..., Person],
    dossier_of: Callable[..., str],
) -> None:
    mai = citizen()
    code = dossier_of(mai)
    # Anonymous: asked to log in.
    r = client.get(f"/danh-gia/ho-so/{code}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/dang-nhap-cong-dan?next=/danh-gia/ho-so/")

    login(client, session, settings, mai)
    # The dossier page offers the rating; htmx's fragment says it is not given yet.
    page = client.get(f"/ho-so-cua-toi/{code}")
    assert f"/danh-gia/ho-so/{code}" in page.text
    fragment = client.get(f"/danh-gia/ho-so/{code}?khung=nut")
    assert "Đánh giá" in fragment.text
    assert "Bạn đã đánh giá" not in fragment.text

    form = client.get(f"/danh-gia/ho-so/{code}")
    assert form.status_code == 200
    assert "Rất hài lòng" in form.text
    assert "Không hài lòng" in form.text
    csrf = _csrf(form.text)

    # No level chosen: said on the page, what was typed is kept.
    r = client.post(f"/danh-gia/ho-so/{code}", data={"csrf_token": csrf, "comment": "Nhanh gọn"})
    assert r.status_code == 422
    assert "Vui lòng chọn mức độ hài lòng." in r.text
    assert "Nhanh gọn" in r.text

    # "Not satisfied" without a reason: asked why.
    r = client.post(f"/danh-gia/ho-so/{code}", data={"csrf_token": csrf, "level": "not_satisfied"})
    assert r.status_code == 422
    assert "Vui lòng chọn ít nhất một lý do" in r.text

    # Reasons ticked under another level are ignored; the chosen level's are kept.
    r = client.post(
        f"/danh-gia/ho-so/{code}",
        data={
            "csrf_token": csrf,
            "level": "very_satisfied",
            "reasons_very_satisfied": ["fast", "friendly"],
            "reasons_not_satisfied": ["late"],
            "comment": "Nhanh gọn",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    thanks = client.get(r.headers["location"])
    assert "Cảm ơn bạn đã đánh giá." in thanks.text
    rating = session.scalars(select(Rating)).one()
    assert (rating.level, rating.reasons, rating.comment) == (
        "very_satisfied",
        ["fast", "friendly"],
        "Nhanh gọn",
    )
    fragment = client.get(f"/danh-gia/ho-so/{code}?khung=nut")
    assert "Bạn đã đánh giá:" in fragment.text
    assert "Rất hài lòng" in fragment.text

    # Without the CSRF token: refused.
    r = client.post(f"/danh-gia/ho-so/{code}", data={"level": "satisfied"})
    assert r.status_code == 403


def test_a_dossier_not_returned_yet_gets_a_clear_page(
    client: TestClient,
    session: Session,
    settings: Settings,
    citizen: Callable[..., Person],
    dossier_of: Callable[..., str],
) -> None:
    mai = citizen()
    code = dossier_of(mai, returned=False)
    login(client, session, settings, mai)
    r = client.get(f"/danh-gia/ho-so/{code}")
    assert r.status_code == 409
    assert "Chỉ đánh giá được sau khi hồ sơ đã trả kết quả." in r.text
    assert client.get(f"/danh-gia/ho-so/{code}?khung=nut").status_code == 204
