"""The public rankings: satisfaction and on-time rates per ward and agency, a period filter,
the minimum-sample rule, sorting, the page with its chart and the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import ANONYMOUS
from cityhall.engagement import service
from cityhall.engagement.schemas import Level, RatingIn, SubjectKind
from cityhall.engagement.subjects import Subject
from tests.dossiers.conftest import UNIT_A, UNIT_B, WARD_A, WARD_B, Person
from tests.engagement.conftest import Desk, citizen_actor

API = "/api/v1/ratings/rankings"


def _rate(
    session: Session, settings: Settings, unit: str, agency: str, levels: list[Level]
) -> None:
    for i, level in enumerate(levels):
        subject = Subject(
            kind=SubjectKind.REPORT,
            ref=f"PA-2612-{unit}{i:03d}",
            label="Ngập nước",
            unit_code=unit,
            agency_code=agency,
            closed_at=datetime.now(UTC),
            rater_kind="anonymous",
            rater_citizen_id=None,
        )
        reasons = ["late"] if level is Level.NOT_SATISFIED else []
        service.rate(
            session,
            actor=ANONYMOUS,
            subject=subject,
            data=RatingIn(level=level, reasons=reasons),
            settings=settings,
        )
    session.commit()


def test_wards_are_ranked_by_satisfaction_with_a_minimum_sample(
    client: TestClient,
    session: Session,
    settings: Settings,
    citizen: Callable[..., Person],
    dossier_of: Callable[..., str],
    desk: Desk,
) -> None:
    very, sat, bad = Level.VERY_SATISFIED, Level.SATISFIED, Level.NOT_SATISFIED
    _rate(session, settings, UNIT_A, WARD_A, [very, very, sat, sat, bad, sat])  # 5/6
    _rate(session, settings, UNIT_B, WARD_B, [very, very, very])  # 3/3, too few to rank
    dossier_of(citizen())  # one dossier of ward A returned, on time
    answered = desk.file(citizen_actor(session, citizen()))  # one report answered on time
    desk.resolve(answered.public_id)
    desk.file(citizen_actor(session, citizen()))  # and one still open

    r = client.get(API, params={"kind": "wards"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["key"] == str(datetime.now(UTC).year)
    assert body["min_ratings"] == settings.ranking_min_ratings == 5
    rows = {row["code"]: row for row in body["rows"]}
    a, b = rows[UNIT_A], rows[UNIT_B]
    assert (a["rank"], a["ratings"], round(a["satisfaction"], 4)) == (1, 6, round(5 / 6, 4))
    assert (a["very_satisfied"], a["satisfied"], a["not_satisfied"]) == (2, 3, 1)
    assert (a["dossiers_finished"], a["dossiers_on_time"]) == (1, 1.0)
    assert (a["reports_answered"], a["reports_on_time"]) == (1, 1.0)
    assert (b["rank"], b["ratings"], b["satisfaction"]) == (None, 3, 1.0)  # shown, not ranked
    assert [row["code"] for row in body["rows"]][:2] == [UNIT_A, UNIT_B]  # ranked first
    assert body["total_ratings"] == 9

    # Sorted by satisfaction, descending: B (100 %) before A.
    r = client.get(API, params={"kind": "wards", "sort": "satisfaction", "order": "desc"})
    assert [row["code"] for row in r.json()["rows"]][:2] == [UNIT_B, UNIT_A]

    # Agencies: the same ratings under the wards' People's Committees.
    r = client.get(API, params={"kind": "agencies"})
    codes = {row["code"]: row for row in r.json()["rows"]}
    assert codes[WARD_A]["rank"] == 1
    assert codes[WARD_A]["name"].startswith("Ủy ban nhân dân")

    # Another period: nothing.
    r = client.get(API, params={"kind": "wards", "period": "2020-Q1"})
    assert r.json()["rows"] == []
    assert r.json()["period"]["label"] == "Q1/2020"


def test_a_bad_period_is_a_precise_error(client: TestClient) -> None:
    r = client.get(API, params={"period": "2026-13"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "period"
    r = client.get(API, params={"kind": "streets"})
    assert r.status_code == 422
    r = client.get("/xep-hang", params={"period": "hôm qua"})
    assert r.status_code == 422
    assert "Kỳ không hợp lệ" in r.text


def test_the_rankings_page_table_chart_and_csv(
    client: TestClient, session: Session, settings: Settings
) -> None:
    very, sat = Level.VERY_SATISFIED, Level.SATISFIED
    _rate(session, settings, UNIT_A, WARD_A, [very, sat, sat, sat, very])
    year = datetime.now(UTC).year

    page = client.get("/xep-hang")
    assert page.status_code == 200
    html = page.text
    assert "Xếp hạng mức độ hài lòng" in html
    assert "Phường Sài Gòn" in html
    assert "100.0%" in html
    assert 'aria-sort="ascending"' in html  # sorted by rank
    assert '<svg class="bar"' in html  # the chart, drawn on the server
    assert f"/xep-hang.csv?kind=wards&amp;period={year}" in html

    r = client.get("/xep-hang.csv", params={"kind": "wards", "period": str(year)})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Hạng", "Mã", "Tên", "Số đánh giá"]
    assert rows[1][:8] == ["1", UNIT_A, "Phường Sài Gòn", "5", "2", "3", "0", "100.0"]

    english = client.get(
        "/xep-hang.csv", params={"kind": "wards"}, headers={"Accept-Language": "en"}
    )
    assert english.status_code == 200
