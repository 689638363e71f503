"""The three registry stand-ins over real HTTP, each running as its own process
(``cityhall registry serve <kind>``), as the exchange gateway calls them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cityhall.config import get_settings
from cityhall.registries import schemas
from cityhall.registries.apps import openapi_document
from cityhall.registries.commands import serve_command
from cityhall.registries.synthetic import Dataset, generate
from tests.registry_process import free_port, running_registries, running_registry

AN = "079090001234"
BINH = "079185004321"
PEOPLE, SEED = 2000, 7
EXCHANGE = {
    "X-Exchange-Client": "VN/GOV/000.00.00.H29/mot-cua",
    "X-Exchange-Message-Id": "3f2c9a6e-5d1b-4c7e-9a55-2b8f0e1d7c44",
    "X-Exchange-Purpose": "giai-quyet-thu-tuc",
}


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with running_registries(people=PEOPLE, seed=SEED) as urls:
        yield urls


@pytest.fixture(scope="module")
def data() -> Dataset:
    """What the processes hold, generated here from the same seed."""
    return generate(SEED, PEOPLE)


def _get(url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("timeout", 10)
    return httpx.get(url, **kwargs)


def _problem(r: httpx.Response, status: int, code: str, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["code"] == code
    for word in words:
        assert word in body["detail"]
    return body


# --- population ----------------------------------------------------------------------------


def test_citizen(urls: dict[str, str], data: Dataset) -> None:
    r = _get(f"{urls['population']}/v1/citizens/{AN}", headers=EXCHANGE)
    assert r.status_code == 200
    assert r.headers["x-exchange-message-id"] == EXCHANGE["X-Exchange-Message-Id"]
    body = r.json()
    schemas.CitizenOut.model_validate(body)
    assert body == {
        "pin": AN,
        "full_name": "Nguyễn Văn An",
        "birth_date": "1990-05-12",
        "sex": "male",
        "permanent_residence": {
            "address_line": "12 Lê Lợi",
            "unit_code": "26740",
            "unit_name": "Phường Sài Gòn",
            "province": "Thành phố Hồ Chí Minh",
        },
        "current_residence": {
            "address_line": "12 Lê Lợi",
            "unit_code": "26740",
            "unit_name": "Phường Sài Gòn",
            "province": "Thành phố Hồ Chí Minh",
        },
        "household_id": data.population.people[AN].household_id,
        "relation_to_head": "chủ hộ",
    }
    # Any generated person: the process holds what the same seed generates here.
    someone = list(data.population.people.values())[1234]
    r = _get(f"{urls['population']}/v1/citizens/{someone.pin}")
    assert r.json() == someone.as_json()
    assert "x-exchange-message-id" not in r.headers


def test_household(urls: dict[str, str], data: Dataset) -> None:
    household_id = data.population.people[AN].household_id
    r = _get(f"{urls['population']}/v1/households/{household_id}", headers=EXCHANGE)
    assert r.status_code == 200
    body = r.json()
    schemas.HouseholdOut.model_validate(body)
    assert body["head_pin"] == AN
    assert body["address"]["address_line"] == "12 Lê Lợi"
    assert next(m["relation_to_head"] for m in body["members"]) == "chủ hộ"
    assert {m["relation_to_head"] for m in body["members"]} >= {"chủ hộ", "vợ", "con"}
    for member in body["members"]:
        person = _get(f"{urls['population']}/v1/citizens/{member['pin']}").json()
        assert person["household_id"] == household_id
        assert person["permanent_residence"] == body["address"]


@pytest.mark.parametrize(
    ("path", "status", "code", "words"),
    [
        ("/v1/citizens/07909000123", 400, "invalid-pin", ("12 chữ số", "07909000123")),
        ("/v1/citizens/07909000123x", 400, "invalid-pin", ("12 chữ số",)),
        ("/v1/citizens/003090001234", 400, "invalid-pin", ("003", "mã tỉnh")),
        ("/v1/citizens/079090009999", 404, "citizen-not-found", ("079090009999",)),
        ("/v1/households/12345", 400, "invalid-household-id", ("HK-", "12345")),
        ("/v1/households/HK-26740-999999", 404, "household-not-found", ("HK-26740-999999",)),
        ("/v1/people", 404, "no-such-path", ("/v1/people",)),
    ],
)
def test_population_errors(
    urls: dict[str, str], path: str, status: int, code: str, words: tuple[str, ...]
) -> None:
    r = _get(urls["population"] + path, headers=EXCHANGE)
    body = _problem(r, status, code, *words)
    assert body["instance"] == path
    assert r.headers["x-exchange-message-id"] == EXCHANGE["X-Exchange-Message-Id"]


def test_errors_in_english_on_request(urls: dict[str, str]) -> None:
    r = _get(f"{urls['population']}/v1/citizens/123", headers={"Accept-Language": "en"})
    assert r.status_code == 400
    assert r.headers["content-language"] == "en"


def test_only_get(urls: dict[str, str]) -> None:
    r = httpx.post(f"{urls['population']}/v1/citizens/{AN}", timeout=10)
    _problem(r, 405, "method-not-allowed", "GET", "POST")


# --- business ------------------------------------------------------------------------------


def test_enterprise_by_tax_code(urls: dict[str, str], data: Dataset) -> None:
    r = _get(f"{urls['business']}/v1/enterprises/0318000019", headers=EXCHANGE)
    assert r.status_code == 200
    assert r.headers["x-exchange-message-id"] == EXCHANGE["X-Exchange-Message-Id"]
    body = r.json()
    schemas.EnterpriseOut.model_validate(body)
    assert body["name"] == "Công ty TNHH Thương mại Dịch vụ Bình Minh"
    assert body["legal_representative"] == {"pin": BINH, "full_name": "Trần Thị Bình"}
    assert body["status"] == {"code": "active", "name": "Đang hoạt động"}
    assert body["kind"]["code"] == "llc_single"
    # A household business is found by its owner's 12-digit number.
    r = _get(f"{urls['business']}/v1/enterprises/{AN}")
    assert r.status_code == 200
    assert r.json()["kind"] == {"code": "household", "name": "Hộ kinh doanh"}
    company = next(e for e in data.businesses.values() if e.kind == "joint_stock")
    assert _get(f"{urls['business']}/v1/enterprises/{company.tax_code}").json() == (
        company.as_json()
    )


def test_enterprises_of_a_representative(urls: dict[str, str]) -> None:
    r = _get(f"{urls['business']}/v1/enterprises", params={"representative_pin": AN})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["tax_code"] for i in items] == [AN]
    schemas.EnterpriseList.model_validate(r.json())
    nobody = "079301999999"
    r = _get(f"{urls['business']}/v1/enterprises", params={"representative_pin": nobody})
    assert r.json() == {"items": []}


@pytest.mark.parametrize(
    ("path", "status", "code", "words"),
    [
        ("/v1/enterprises/0318000010", 400, "invalid-tax-code", ("chữ số kiểm tra", "9")),
        ("/v1/enterprises/031800001", 400, "invalid-tax-code", ("10 chữ số", "031800001")),
        ("/v1/enterprises/0318000019-001", 400, "invalid-tax-code", ("chi nhánh",)),
        ("/v1/enterprises/003090001234", 400, "invalid-tax-code", ("003",)),
        ("/v1/enterprises/0318000033", 404, "enterprise-not-found", ("0318000033",)),
        ("/v1/enterprises", 400, "missing-parameter", ("representative_pin",)),
        ("/v1/enterprises?representative_pin=12", 400, "invalid-pin", ("12 chữ số",)),
    ],
)
def test_business_errors(
    urls: dict[str, str], path: str, status: int, code: str, words: tuple[str, ...]
) -> None:
    _problem(_get(urls["business"] + path), status, code, *words)


# --- land ----------------------------------------------------------------------------------


def test_parcels_of_an_owner_and_a_parcel(urls: dict[str, str], data: Dataset) -> None:
    r = _get(f"{urls['land']}/v1/parcels", params={"owner_pin": AN}, headers=EXCHANGE)
    assert r.status_code == 200
    assert r.headers["x-exchange-message-id"] == EXCHANGE["X-Exchange-Message-Id"]
    schemas.ParcelList.model_validate(r.json())
    items = r.json()["items"]
    home = next(i for i in items if i["purpose"]["code"] == "ODT")
    assert home["address_line"] == "12 Lê Lợi"
    assert home["unit_code"] == "26740"
    assert home["purpose"]["name"] == "Đất ở tại đô thị"
    assert AN in {o["pin"] for o in home["owners"]}
    assert sum(o["share"] for o in home["owners"]) == 1.0
    r = _get(f"{urls['land']}/v1/parcels/{home['parcel_id']}", headers=EXCHANGE)
    assert r.status_code == 200
    assert r.json() == home
    schemas.ParcelOut.model_validate(r.json())
    assert home["parcel_id"] == f"{home['unit_code']}-{home['sheet']}-{home['number']}"


@pytest.mark.parametrize(
    ("path", "status", "code", "words"),
    [
        ("/v1/parcels/26740-12", 400, "invalid-parcel-id", ("26740-12",)),
        ("/v1/parcels/26740-0-5", 400, "invalid-parcel-id", ("tờ bản đồ",)),
        ("/v1/parcels/2674-1-5", 400, "invalid-parcel-id", ("5 chữ số",)),
        ("/v1/parcels/99999-1-5", 404, "unit-not-found", ("99999",)),
        ("/v1/parcels/26740-999-99999", 404, "parcel-not-found", ("99999", "999", "26740")),
        ("/v1/parcels", 400, "missing-parameter", ("owner_pin",)),
        ("/v1/parcels?owner_pin=0790900012345", 400, "invalid-pin", ("12 chữ số",)),
    ],
)
def test_land_errors(
    urls: dict[str, str], path: str, status: int, code: str, words: tuple[str, ...]
) -> None:
    _problem(_get(urls["land"] + path), status, code, *words)


# --- every service -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "paths"),
    [
        ("population", {"/v1/citizens/{pin}", "/v1/households/{household_id}"}),
        ("business", {"/v1/enterprises/{tax_code}", "/v1/enterprises"}),
        ("land", {"/v1/parcels/{parcel_id}", "/v1/parcels"}),
    ],
)
def test_health_openapi_and_dataset(
    urls: dict[str, str], data: Dataset, kind: str, paths: set[str]
) -> None:
    health = _get(f"{urls[kind]}/healthz").json()
    assert health["status"] == "ok"
    assert health["registry"] == kind
    assert health["synthetic"]
    assert (health["seed"], health["people"]) == (SEED, PEOPLE)
    spec = _get(f"{urls[kind]}/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    # A valid OpenAPI 3.1 document (the validator comes with the dev tools, through moto).
    pytest.importorskip("openapi_spec_validator").validate(spec)
    assert "mô phỏng" in spec["info"]["title"]
    assert paths <= set(spec["paths"])
    for path in paths:
        responses = spec["paths"][path]["get"]["responses"]
        assert {"200", "400", "404"} <= set(responses)
    for status in ("400", "404"):
        assert set(responses[status]["content"]) == {"application/problem+json"}
    # What the catalogue can register without a running stand-in is what it serves.
    assert openapi_document(kind, get_settings()) == spec
    # The data served is the data the seed generates, byte for byte.
    digests = data.digests()
    served = _get(f"{urls[kind]}/v1/dataset", timeout=60).json()
    assert served["sha256"] == digests[kind]
    assert (
        served["records"]
        == {
            "population": len(data.population.people),
            "business": len(data.businesses),
            "land": len(data.parcels),
        }[kind]
    )


def test_serve_command_starts_a_registry(data: Dataset) -> None:
    """The argv ``cityhall run`` uses: the seed and size come from the environment."""
    port = free_port()
    argv = serve_command("land", port)
    assert argv[:3] == [sys.executable, "-m", "cityhall.registries"]
    assert argv[3:] == ["serve", "land", "--port", str(port)]
    env = {**os.environ, "CITYHALL_REGISTRY_SEED": str(SEED), "CITYHALL_REGISTRY_PEOPLE": "2000"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        assert "DỮ LIỆU TỔNG HỢP" in proc.stdout.readline().decode()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=1).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert health["registry"] == "land"
        assert (health["seed"], health["people"]) == (SEED, PEOPLE)
        assert _get(f"{url}/v1/dataset", timeout=60).json()["sha256"] == data.digests()["land"]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    with pytest.raises(ValueError, match="unknown registry"):
        serve_command("tax", 1)


def test_show_prints_a_record() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cityhall", "registry", "show", "business", AN, "--people", "200"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout)["name"] == "Hộ kinh doanh Cà phê An"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cityhall.registries",
            "show",
            "population",
            "079090009999",
            "--people",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert "không có 079090009999" in done.stdout


# --- the optional token --------------------------------------------------------------------


def test_token_when_configured() -> None:
    env = {"CITYHALL_REGISTRY_TOKEN": "s3cret-token-for-registries"}
    with running_registry("population", people=200, env=env) as url:
        r = _get(f"{url}/v1/citizens/{AN}", headers=EXCHANGE)
        _problem(r, 401, "unauthorized", "Authorization")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["x-exchange-message-id"] == EXCHANGE["X-Exchange-Message-Id"]
        wrong = {"Authorization": "Bearer nope"}
        _problem(_get(f"{url}/v1/citizens/{AN}", headers=wrong), 401, "unauthorized", "không đúng")
        right = {"Authorization": "Bearer s3cret-token-for-registries"}
        assert _get(f"{url}/v1/citizens/{AN}", headers=right).status_code == 200
        # Liveness and the description stay public.
        assert _get(f"{url}/healthz").status_code == 200
        assert _get(f"{url}/openapi.json").status_code == 200


# --- the log -------------------------------------------------------------------------------


def test_one_structured_log_line_per_request_without_the_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fastapi.testclient import TestClient

    from cityhall.config import get_settings
    from cityhall.registries.apps import build_app

    app = build_app("population", seed=SEED, people=200, settings=get_settings())
    with TestClient(app) as client, caplog.at_level("INFO", "cityhall.registries"):
        assert client.get(f"/v1/citizens/{AN}", headers=EXCHANGE).status_code == 200
        assert client.get("/v1/citizens/079090009999", headers=EXCHANGE).status_code == 404
    records = [r for r in caplog.records if r.name == "cityhall.registries.population"]
    assert len(records) == 2
    for record, status in zip(records, (200, 404), strict=True):
        fields = vars(record)
        assert fields["route"] == "/v1/citizens/{pin}"
        assert fields["status"] == status
        assert fields["exchange_client"] == EXCHANGE["X-Exchange-Client"]
        assert fields["exchange_message_id"] == EXCHANGE["X-Exchange-Message-Id"]
        assert fields["exchange_purpose"] == EXCHANGE["X-Exchange-Purpose"]
        assert fields["duration_ms"] >= 0
        assert "079090" not in record.getMessage() + str(fields["route"])
