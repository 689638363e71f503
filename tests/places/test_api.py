from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def _get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "q", ["ben thanh", "Bến Thành", "BEN THANH", "ben tanh", "Phuong Ben Thanh"]
)
def test_unit_search_ignores_diacritics_and_small_typos(
    reference: dict[str, int], client: TestClient, q: str
) -> None:
    page = _get(client, "/api/v1/units", q=q)
    assert page["items"], page
    assert page["items"][0]["name"] == "Phường Bến Thành"
    assert page["items"][0]["code"] == "26743"


def test_unit_search_by_code_and_kind(reference: dict[str, int], client: TestClient) -> None:
    assert _get(client, "/api/v1/units", q="26743")["items"][0]["name"] == "Phường Bến Thành"
    communes = _get(client, "/api/v1/units", kind="commune", limit=200)
    assert communes["total"] == 54
    assert {u["kind"] for u in communes["items"]} == {"commune"}
    zone = _get(client, "/api/v1/units", kind="special_zone")
    assert [u["name"] for u in zone["items"]] == ["Đặc khu Côn Đảo"]
    assert _get(client, "/api/v1/units", q="con dao")["items"][0]["code"] == "26732"


def test_unit_pagination(reference: dict[str, int], client: TestClient) -> None:
    default = _get(client, "/api/v1/units")
    assert (default["total"], default["limit"], default["offset"]) == (169, 50, 0)
    assert len(default["items"]) == 50
    assert default["items"][0]["code"] == "79"  # the city first, then wards by code
    first = _get(client, "/api/v1/units", limit=10, offset=0)
    second = _get(client, "/api/v1/units", limit=10, offset=10)
    assert len(first["items"]) == len(second["items"]) == 10
    assert not {u["code"] for u in first["items"]} & {u["code"] for u in second["items"]}
    everything = _get(client, "/api/v1/units", limit=200)
    assert len(everything["items"]) == 169
    past_the_end = _get(client, "/api/v1/units", limit=10, offset=500)
    assert (past_the_end["items"], past_the_end["total"]) == ([], 169)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"limit": "ten"},
        {"offset": -1},
        {"kind": "district"},
        {"x": 1},
    ],
)
def test_bad_query_parameters_are_422_problems(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/v1/units", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["field"] == next(iter(params))


def test_unit_detail_lists_former_units(reference: dict[str, int], client: TestClient) -> None:
    unit = _get(client, "/api/v1/units/26740")
    assert unit["name"] == "Phường Sài Gòn"
    wards = {f["name"]: f for f in unit["former_units"] if f["level"] == 3}
    assert wards["Phường Bến Nghé"]["full_name"].endswith("Quận 1, Thành phố Hồ Chí Minh")
    assert wards["Phường Bến Nghé"]["is_main"] is True
    assert "Quận 1" in {f["name"] for f in unit["former_units"] if f["level"] == 2}


def test_unknown_unit_is_a_404_problem(reference: dict[str, int], client: TestClient) -> None:
    response = client.get("/api/v1/units/99999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "not-found"
    assert "99999" in body["detail"]


def test_history_resolves_a_former_address(reference: dict[str, int], client: TestClient) -> None:
    for q in ("Phường Bến Nghé, Quận 1", "phuong ben nghe, quan 1", "Bến Nghé"):
        page = _get(client, "/api/v1/units/history", q=q)
        best = page["items"][0]
        assert (best["code"], best["name"]) == ("26740", "Phường Bến Nghé"), q
        assert best["successors"] == [
            {
                "code": "26740",
                "kind": "ward",
                "name": "Phường Sài Gòn",
                "is_main": True,
                "whole": True,
            }
        ]
    # Numbered wards exist in many districts: the district decides.
    best = _get(client, "/api/v1/units/history", q="Phường 1, Quận 3")["items"][0]
    assert best["full_name"] == "Phường 1, Quận 3, Thành phố Hồ Chí Minh"
    best = _get(client, "/api/v1/units/history", q="Phường 1, Quận 10")["items"][0]
    assert best["full_name"] == "Phường 1, Quận 10, Thành phố Hồ Chí Minh"
    # Former Bình Dương units are there too.
    district = _get(client, "/api/v1/units/history", q="Thành phố Thủ Dầu Một, Bình Dương")
    assert district["items"][0]["province_code"] == "74"
    assert district["items"][0]["successors"]


def test_history_detail_and_validation(reference: dict[str, int], client: TestClient) -> None:
    assert _get(client, "/api/v1/units/history/760")["name"] == "Quận 1"
    assert client.get("/api/v1/units/history/12").status_code == 404
    assert client.get("/api/v1/units/history").status_code == 422
    assert client.get("/api/v1/units/history", params={"q": "x"}).status_code == 422


def test_agencies(reference: dict[str, int], client: TestClient) -> None:
    everything = _get(client, "/api/v1/agencies", limit=200)
    assert everything["total"] == reference["agencies"]
    assert everything["items"][0]["code"] == "000.00.00.H29"
    justice = _get(client, "/api/v1/agencies", q="so tu phap")["items"][0]
    assert (justice["name"], justice["kind"], justice["level"]) == (
        "Sở Tư pháp",
        "department",
        "city",
    )
    departments = _get(client, "/api/v1/agencies", kind="department", limit=200)
    assert departments["total"] >= 12
    ward = _get(client, "/api/v1/agencies", unit_code="26743")
    assert [a["short_name"] for a in ward["items"]] == ["UBND phường Bến Thành"]
    committees = _get(client, "/api/v1/agencies", kind="ward_committee", level="commune")
    assert committees["total"] == 168
    city = _get(client, "/api/v1/agencies/000.00.00.H29")
    assert city["name"] == "Ủy ban nhân dân Thành phố Hồ Chí Minh"
    assert city["parent_code"] is None
    response = client.get("/api/v1/agencies/000.00.99.H29")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert client.get("/api/v1/agencies", params={"unit_code": "abc"}).status_code == 422


def test_punctuation_only_query_is_no_filter_and_openapi_lists_routes(
    reference: dict[str, int], client: TestClient
) -> None:
    assert _get(client, "/api/v1/units", q=",")["total"] == 169
    english = client.get("/api/v1/units", params={"limit": 500, "lang": "en"})
    assert english.status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/units", "/api/v1/units/history", "/api/v1/agencies/{code}"} <= set(paths)
