"""Importing the catalogue: the only write path to its tables.

``import_catalog`` validates every file (format, then agencies against the database) and
writes nothing unless all of them are valid; then it upserts fields and procedures, and
inserts a new version row for every version whose content changed (the old row is marked
superseded, never edited: dossiers keep the version they were received under).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cityhall.catalog.files import DATA_DIR, FileProblem, read_catalog
from cityhall.catalog.models import Procedure, ProcedureField, ProcedureVersion
from cityhall.catalog.schemas import ProcedureFile, Version
from cityhall.core import audit
from cityhall.core.actors import Actor
from cityhall.core.i18n import N_
from cityhall.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityhall.places import queries as places


@dataclass
class ImportReport:
    fields: int = 0
    procedures: int = 0
    versions: int = 0
    created: list[str] = field(default_factory=list)  # procedure codes new to the database
    new_versions: list[str] = field(default_factory=list)  # "code@valid_from"
    superseded: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.new_versions or self.superseded)


class CatalogInvalid(Invalid):
    """The files have problems; nothing was imported."""

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__(
            N_("Danh mục thủ tục có {count} lỗi; không có gì được nhập."),
            errors=[FieldError(f"{p.path}:{p.where}", p.message) for p in problems],
            count=len(problems),
        )


def version_hash(version: Version) -> str:
    payload = json.dumps(version.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _agency_problems(
    session: Session, procedures: list[tuple[str, ProcedureFile]]
) -> list[FileProblem]:
    wanted: list[tuple[str, str, str]] = []  # (file, where, code)
    problems: list[FileProblem] = []
    for rel, p in procedures:
        if p.agency:
            wanted.append((rel, "agency", p.agency))
        for i, v in enumerate(p.versions):
            if v.inter_agency is None:
                continue
            where = f"versions.{i}.inter_agency"
            wanted.append((rel, f"{where}.lead", v.inter_agency.lead))
            if v.inter_agency.lead != p.agency:
                problems.append(
                    FileProblem(rel, f"{where}.lead", "the lead must be the procedure's agency")
                )
            for j, partner in enumerate(v.inter_agency.partners):
                wanted.append((rel, f"{where}.partners.{j}.agency", partner.agency))
    known = places.agencies_by_code(session, [code for _, _, code in wanted])
    problems += [
        FileProblem(rel, where, f"no agency has the code {code}")
        for rel, where, code in wanted
        if code not in known
    ]
    return problems


def import_catalog(session: Session, *, actor: Actor, root: Path = DATA_DIR) -> ImportReport:
    """Import every file under ``root``; raises :class:`CatalogInvalid` listing every
    problem (and writes nothing) if any file is broken. Flushes; the caller commits."""
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị viên được nhập danh mục thủ tục.")
    catalog = read_catalog(root)
    problems = list(catalog.problems)
    if not problems:
        problems = _agency_problems(session, catalog.procedures)
    if problems:
        raise CatalogInvalid(problems)

    report = ImportReport(fields=len(catalog.fields), procedures=len(catalog.procedures))
    if catalog.fields:
        stmt = insert(ProcedureField).values([f.model_dump() for f in catalog.fields])
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[ProcedureField.code],
                set_={"name": stmt.excluded.name, "name_en": stmt.excluded.name_en},
            )
        )
    existing = set(session.scalars(select(Procedure.code)).all())
    now = datetime.now(UTC)
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "field_code": p.field,
            "level": p.level.value,
            "agency_code": p.agency,
            "keywords": " | ".join(p.keywords),
            "source_file": rel,
            "updated_at": now,
        }
        for rel, p in catalog.procedures
    ]
    report.created = sorted(p.code for _, p in catalog.procedures if p.code not in existing)
    if rows:
        stmt_p = insert(Procedure).values(rows)
        session.execute(
            stmt_p.on_conflict_do_update(
                index_elements=[Procedure.code],
                set_={
                    k: stmt_p.excluded[k]
                    for k in ("name", "field_code", "level", "agency_code", "keywords")
                }
                | {"source_file": stmt_p.excluded.source_file},
                where=(Procedure.name != stmt_p.excluded.name)
                | (Procedure.field_code != stmt_p.excluded.field_code)
                | (Procedure.level != stmt_p.excluded.level)
                | Procedure.agency_code.is_distinct_from(stmt_p.excluded.agency_code)
                | (Procedure.keywords != stmt_p.excluded.keywords)
                | (Procedure.source_file != stmt_p.excluded.source_file),
            )
        )
    current: dict[tuple[str, Any], ProcedureVersion] = {
        (v.procedure_code, v.valid_from): v
        for v in session.scalars(
            select(ProcedureVersion).where(ProcedureVersion.superseded_at.is_(None))
        ).all()
    }
    for _, p in catalog.procedures:
        for version in p.versions:
            report.versions += 1
            digest = version_hash(version)
            old = current.get((p.code, version.valid_from))
            if old is not None and old.content_hash == digest:
                continue
            if old is not None:
                old.superseded_at = now
                report.superseded.append(f"{p.code}@{version.valid_from}")
                session.flush()  # free the partial unique index before the new row
            session.add(
                ProcedureVersion(
                    procedure_code=p.code,
                    valid_from=version.valid_from,
                    valid_to=version.valid_to,
                    time_limit_value=version.time_limit.value,
                    time_limit_unit=version.time_limit.unit.value,
                    online_mode=version.online_mode.value,
                    supplement_clock=version.supplement_clock.value,
                    content=version.model_dump(mode="json"),
                    content_hash=digest,
                )
            )
            report.new_versions.append(f"{p.code}@{version.valid_from}")
    # A version whose start date vanished from its file is superseded too.
    in_files = {(p.code, v.valid_from) for _, p in catalog.procedures for v in p.versions}
    for key, row in current.items():
        if key not in in_files:
            row.superseded_at = now
            report.superseded.append(f"{key[0]}@{key[1]}")
    session.flush()
    if report.changed:
        audit.record(
            session,
            actor=actor,
            action="catalog.imported",
            object_type="catalog",
            data={
                "created": report.created,
                "new_versions": report.new_versions,
                "superseded": report.superseded,
            },
        )
    return report


def set_version_active(session: Session, *, actor: Actor, version_id: int, active: bool) -> None:
    """Take a version out of service, or put it back (administrators; audited). A
    suspended version is not offered to new applicants; dossiers keep theirs."""
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị viên được bật, tắt phiên bản thủ tục.")
    row = session.get(ProcedureVersion, version_id, with_for_update=True)
    if row is None:
        raise NotFound("Không tìm thấy phiên bản thủ tục {id}.", id=version_id)
    if row.superseded_at is not None:
        raise Conflict("Phiên bản này đã được thay thế; hãy bật, tắt phiên bản hiện hành.")
    before = row.suspended_at is None
    if before == active:
        return
    row.suspended_at = None if active else datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="catalog.version.activate" if active else "catalog.version.suspend",
        object_type="procedure_version",
        object_id=str(row.id),
        data={"procedure": row.procedure_code, "valid_from": row.valid_from.isoformat()},
    )
