"""The procedure catalogue: files in the repo, an all-or-nothing import, search, versions."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall.catalog import queries
from cityhall.catalog.files import DATA_DIR, read_catalog
from cityhall.catalog.models import Procedure, ProcedureVersion
from cityhall.catalog.service import CatalogInvalid, import_catalog
from cityhall.core.actors import system_admin

BIRTH_FILE = DATA_DIR / "procedures/civil_status/1.001193-dang-ky-khai-sinh.yaml"


def test_the_shipped_catalogue_is_valid_and_broad() -> None:
    catalog = read_catalog()
    assert catalog.problems == []
    procedures = [p for _, p in catalog.procedures]
    assert len(procedures) >= 40
    fields = Counter(p.field for p in procedures)
    assert len(fields) >= 8
    assert {p.level.value for p in procedures} == {"ward", "city"}
    assert any(v.inter_agency for p in procedures for v in p.versions)
    modes = {v.online_mode.value for p in procedures for v in p.versions}
    assert {"end_to_end", "partial"} <= modes
    sources = {d.source.value for p in procedures for v in p.versions for d in v.documents}
    assert "registry:population" in sources
    assert "none" in sources


def test_import_is_idempotent_and_the_reference_data_has_it(session: Session) -> None:
    # The test database was seeded with the catalogue (setup does it): nothing changes.
    report = import_catalog(session, actor=system_admin())
    assert not report.changed
    assert session.scalar(select(func.count()).select_from(Procedure)) == len(
        read_catalog().procedures
    )


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(DATA_DIR, root)
    return root


def test_a_broken_file_gets_a_precise_message_and_nothing_is_imported(
    session: Session, tmp_path: Path
) -> None:
    root = _copy(tmp_path)
    target = root / BIRTH_FILE.relative_to(DATA_DIR)
    data = yaml.safe_load(target.read_text())
    data["name"] = "Đăng ký khai sinh (sửa)"
    data["versions"][0]["steps"][1]["share"] = 0.9  # shares no longer add up to 1
    target.write_text(yaml.safe_dump(data, allow_unicode=True))
    (root / "procedures/civil_status/broken.yaml").write_text("code: [unclosed\n")
    with pytest.raises(CatalogInvalid) as caught:
        import_catalog(session, actor=system_admin(), root=root)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert (
        "1.001193-dang-ky-khai-sinh.yaml: versions.0: Value error, the steps' shares add up to"
        in text
    )
    assert "broken.yaml: line" in text
    assert "not valid YAML" in text
    assert session.scalar(select(Procedure.name).where(Procedure.code == "1.001193")) == (
        "Đăng ký khai sinh"
    )


def test_the_command_reports_problems_and_exits_1(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = _copy(tmp_path)
    (root / "procedures/civil_status/bad.yaml").write_text(
        "code: '1.2'\nname: X\nfield: civil_status\nlevel: ward\nversions: []\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "cityhall", "catalog", "check", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "bad.yaml: code: String should match pattern" in run.stderr
    assert "bad.yaml: versions: List should have at least 1 item" in run.stderr


def test_an_edited_version_is_a_new_row_and_the_old_one_is_kept(
    session: Session, tmp_path: Path
) -> None:
    before = queries.get_procedure(session, "1.001193").version.id
    root = _copy(tmp_path)
    target = root / BIRTH_FILE.relative_to(DATA_DIR)
    data = yaml.safe_load(target.read_text())
    data["versions"][0]["fees"][1]["amount"] = 10000
    # And a new version from 2027 with a shorter limit, the old one ending the day before.
    newer = yaml.safe_load(yaml.safe_dump(data["versions"][0]))
    newer["valid_from"] = date(2027, 1, 1)
    newer["time_limit"] = {"value": 0.5, "unit": "working_days"}
    data["versions"][0]["valid_to"] = date(2026, 12, 31)
    data["versions"].append(newer)
    target.write_text(yaml.safe_dump(data, allow_unicode=True))
    report = import_catalog(session, actor=system_admin(), root=root)
    assert report.superseded == ["1.001193@2025-07-01"]
    assert sorted(report.new_versions) == ["1.001193@2025-07-01", "1.001193@2027-01-01"]
    old = session.get(ProcedureVersion, before)
    assert old is not None
    assert old.superseded_at is not None
    assert old.content["fees"][1]["amount"] == 8000  # what old dossiers were received under
    today = queries.get_procedure(session, "1.001193", day=date(2026, 12, 1))
    assert today.fees[1].amount == 10000
    assert today.version.id != before
    later = queries.get_procedure(session, "1.001193", day=date(2027, 3, 1))
    assert later.time_limit.text == "0,5 ngày làm việc"
    assert queries.get_version(session, before).fees[1].amount == 8000


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("đăng ký khai sinh", "1.001193"),
        ("dang ky khai sinh", "1.001193"),
        ("khai sin", "1.001193"),
        ("KHAI SINH", "1.001193"),
    ],
)
def test_search_with_or_without_diacritics_and_typos(
    client: TestClient, q: str, expected: str
) -> None:
    r = client.get("/api/v1/procedures", params={"q": q})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 1
    assert body["items"][0]["code"] == expected
    item = body["items"][0]
    assert {"code", "name", "field", "level", "time_limit", "online_mode"} <= item.keys()


def test_search_finds_the_building_permit_first(client: TestClient) -> None:
    r = client.get("/api/v1/procedures", params={"q": "giay phep xay dung"})
    names = [i["name"].lower() for i in r.json()["items"]]
    assert names
    assert "giấy phép xây dựng" in names[0]


def test_filters_and_pagination(client: TestClient) -> None:
    ward = client.get("/api/v1/procedures", params={"level": "ward", "page_size": 5}).json()
    assert ward["page_size"] == 5
    assert len(ward["items"]) == 5
    assert all(i["level"] == "ward" for i in ward["items"])
    page2 = client.get("/api/v1/procedures", params={"level": "ward", "page_size": 5, "page": 2})
    assert {i["code"] for i in page2.json()["items"]}.isdisjoint({i["code"] for i in ward["items"]})
    civil = client.get("/api/v1/procedures", params={"field": "civil_status"}).json()
    assert civil["total"] >= 5
    assert all(i["field"] == "civil_status" for i in civil["items"])
    bad = client.get("/api/v1/procedures", params={"level": "district"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "level"


def test_a_procedure_says_everything_a_citizen_needs(client: TestClient) -> None:
    r = client.get("/api/v1/procedures/1.001193")
    assert r.status_code == 200
    p = r.json()
    assert p["form_schema"]["type"] == "object"
    assert {d["code"] for d in p["documents"]} >= {"TO_KHAI", "GIAY_CHUNG_SINH"}
    assert p["fees"][0]["amount"] == 0
    assert p["steps"][0]["role"] == "intake_officer"
    assert any("Luật Hộ tịch" in basis for basis in p["legal_basis"])
    assert p["time_limit"]["text"] == "1 ngày làm việc"
    assert client.get("/api/v1/procedures/9.999999").status_code == 404
    fields = client.get("/api/v1/procedure-fields").json()
    assert len([f for f in fields if f["procedures"]]) >= 8
