"""The public catalogue (API and page), the administrators' rights and monitoring, and the
Prometheus metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cityhall.core.actors import Role
from tests.exchange.conftest import CLIENT_ID, SERVICE_ID, Parties, send

POPULATION = "VN/GOV/BCA/CSDLQGDC/dan-cu"


def test_the_catalogue_is_public_and_searchable(client: TestClient) -> None:
    everything = client.get("/api/v1/exchange/services").json()
    ids = {s["id"] for s in everything["items"]}
    assert {POPULATION, "VN/GOV/BTC/CSDLQGDKDN/doanh-nghiep", "VN/GOV/BNNMT/CSDLDD/dat-dai"} <= ids
    # Without diacritics, by the owner's name too.
    found = client.get("/api/v1/exchange/services", params={"q": "dan cu"}).json()
    assert [s["id"] for s in found["items"]] == [POPULATION]
    by_owner = client.get("/api/v1/exchange/services", params={"q": "dang ky kinh doanh"}).json()
    assert "VN/GOV/BTC/CSDLQGDKDN/doanh-nghiep" in {s["id"] for s in by_owner["items"]}
    personal = client.get("/api/v1/exchange/services", params={"classification": "public"})
    assert personal.json()["items"] == [] or all(
        s["classification"] == "public" for s in personal.json()["items"]
    )
    detail = client.get(f"/api/v1/exchange/services/{POPULATION}").json()
    assert detail["classification"] == "personal"
    assert {p["code"] for p in detail["purposes"]} >= {"administrative_procedure"}
    assert "/citizens/{pin}" in detail["paths"]
    spec = client.get(detail["openapi_url"]).json()
    assert spec["openapi"].startswith("3.")


def test_catalogue_errors_are_precise(client: TestClient) -> None:
    r = client.get("/api/v1/exchange/services", params={"classification": "secret"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/exchange/services/VN/GOV/BCA/NONE/x").status_code == 404


def test_the_catalogue_page(client: TestClient) -> None:
    page = client.get("/trao-doi-du-lieu", params={"q": "đất đai"})
    assert page.status_code == 200
    assert "Tra cứu thửa đất và người sử dụng đất" in page.text
    assert "Tra cứu thông tin công dân" not in page.text
    link = re.search(r'href="(/trao-doi-du-lieu/dich-vu\?id=[^"]+)"', page.text)
    assert link
    detail = client.get(link.group(1).replace("&amp;", "&"))
    assert detail.status_code == 200
    assert "Cơ sở dữ liệu đất đai quốc gia" in detail.text
    assert "Tải mô tả OpenAPI" in detail.text


def test_rights_are_granted_and_revoked_by_administrators_only(
    client: TestClient, parties: Parties, official_headers
) -> None:  # type: ignore[no-untyped-def]
    handler = official_headers(role=Role.HANDLER)
    body = {"client": CLIENT_ID, "service": POPULATION, "purposes": ["administrative_procedure"]}
    assert client.post("/api/v1/exchange/rights", json=body, headers=handler).status_code == 403
    admin = official_headers(role=Role.ADMIN)
    granted = client.post("/api/v1/exchange/rights", json=body, headers=admin)
    assert granted.status_code == 201, granted.text
    right = granted.json()
    assert right["purposes"] == ["administrative_procedure"]
    again = client.post("/api/v1/exchange/rights", json={**body, "purposes": None}, headers=admin)
    assert again.status_code == 409
    wrong = client.post(
        "/api/v1/exchange/rights", json={**body, "purposes": ["marketing"]}, headers=admin
    )
    assert wrong.status_code in (409, 422)
    bad = client.post(
        "/api/v1/exchange/rights", json={**body, "client": "not-an-id"}, headers=admin
    )
    assert bad.status_code == 422
    assert any(e["field"] == "client" for e in bad.json()["errors"])
    gone = client.delete(f"/api/v1/exchange/rights/{right['id']}", headers=admin)
    assert gone.status_code == 204
    assert client.delete(f"/api/v1/exchange/rights/{right['id']}", headers=admin).status_code == 409
    assert client.delete("/api/v1/exchange/rights/999999", headers=admin).status_code == 404


def test_monitoring_and_metrics(client: TestClient, parties: Parties, official_headers) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert send(client, parties.key).status_code == 200
    send(client, parties.key, purpose="marketing")  # refused
    admin = official_headers(role=Role.ADMIN)
    rows = client.get("/api/v1/exchange/monitoring", headers=admin).json()
    mine = next(r for r in rows if r["client"] == CLIENT_ID and r["service"] == SERVICE_ID)
    assert mine["calls"] == 4
    assert mine["refused"] == 1
    assert mine["p50_ms"] is not None
    assert client.get("/api/v1/exchange/monitoring").status_code == 401
    metrics = client.get("/metrics").text
    ok = re.search(
        "cityhall_exchange_calls_total"
        + rf'{{client="{CLIENT_ID}",outcome="ok",service="{SERVICE_ID}"}} (\S+)',
        metrics,
    )
    assert ok, metrics[-2000:]
    assert float(ok.group(1)) == 3.0
    assert "cityhall_exchange_latency_recent_seconds" in metrics


def test_the_admin_page(client: TestClient, parties: Parties, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official(role=Role.ADMIN)
    login = client.get("/dang-nhap")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf
    client.post(
        "/dang-nhap",
        data={"username": official.username, "password": password, "csrf_token": csrf.group(1)},
    )
    send(client, parties.key)
    page = client.get("/quan-tri/trao-doi-du-lieu")
    assert page.status_code == 200, page.text[:500]
    assert SERVICE_ID in page.text  # in the monitoring table and the rights
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    wrong = client.post(
        "/quan-tri/trao-doi-du-lieu/cap-quyen",
        data={"client": "xyz", "service": POPULATION, "csrf_token": token.group(1)},
    )
    assert wrong.status_code == 422
    assert "VN/GOV/" in wrong.text
    ok = client.post(
        "/quan-tri/trao-doi-du-lieu/cap-quyen",
        data={"client": CLIENT_ID, "service": POPULATION, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert "Đã cấp quyền" in client.get(ok.headers["location"]).text
