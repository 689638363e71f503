"""What every response carries, and what operators scrape."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/v1/officials/12345")  # 401, but counted under its template
    text = client.get("/metrics").text
    assert "cityhall_http_request_duration_seconds_bucket" in text
    assert 'route="/api/v1/officials/{official_id}"' in text


def test_security_headers_and_request_id(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert len(r.headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    hostile = client.get("/healthz", headers={"x-request-id": "x<script>"})
    assert hostile.headers["x-request-id"] != "x<script>"


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    missing = client.get("/api/v1/khong-co")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Không tìm thấy."
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    wrong = client.put("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method-not-allowed"


def test_problem_titles_in_english(client: TestClient) -> None:
    r = client.get("/api/v1/khong-co", headers={"Accept-Language": "en"})
    assert r.json()["title"] == "Not found."


def test_access_log_is_json_with_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from cityhall.core.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="cityhall.access"):
        r = client.get("/api/v1/khong-co")
    record = next(rec for rec in caplog.records if rec.name == "cityhall.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == r.headers["x-request-id"]
    assert line["status"] == 404
    assert line["route"] == "<unmatched>"
    assert line["msg"] == "GET /api/v1/khong-co 404"


def test_openapi_is_published(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/auth/token" in spec["paths"]
