"""The categories of feedback (Open311 services): read from ``data/categories.yaml``,
validated, and imported idempotently as reference data (a second import changes nothing).

A category that disappears from the file is retired (``active = false``), never deleted:
reports keep pointing at it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor
from cityhall.errors import FieldError, Forbidden, Invalid
from cityhall.feedback.models import Category, CategoryGroup
from cityhall.places import queries as places

DATA_FILE = Path(__file__).resolve().parent / "data" / "categories.yaml"

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueFile(_File):
    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class AttributeFile(_File):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    datatype: Datatype
    required: bool = False
    description: str = Field(min_length=1, max_length=300)
    datatype_description: str | None = None
    values: list[ValueFile] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists_have_values(self) -> AttributeFile:
        listed = self.datatype in ("singlevaluelist", "multivaluelist")
        if listed != bool(self.values):
            raise ValueError("list attributes (and only they) have values")
        if len({v.key for v in self.values}) != len(self.values):
            raise ValueError("value keys must be unique")
        return self


class ServiceFile(_File):
    code: str = Field(pattern=r"^[a-z0-9_.-]{2,64}$")
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(min_length=2)
    keywords: list[str] = Field(default_factory=list)
    agency: str = Field(description='"ward", "dispatch" or a city agency code')
    answer_days: int | None = Field(None, ge=1, le=60)
    radius_m: int | None = Field(None, ge=1, le=5000)
    anonymous: bool = False
    attributes: list[AttributeFile] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_attributes(self) -> ServiceFile:
        if len({a.code for a in self.attributes}) != len(self.attributes):
            raise ValueError("attribute codes must be unique")
        return self


class GroupFile(_File):
    code: str = Field(pattern=r"^[a-z0-9_]{2,64}$")
    name: str = Field(min_length=2, max_length=200)
    services: list[ServiceFile] = Field(min_length=1)


class CategoriesFile(_File):
    groups: list[GroupFile] = Field(min_length=1)


def _problem(error: Any) -> FieldError:
    where, text = ".".join(str(p) for p in error["loc"]), str(error["msg"])
    return FieldError(where, text)


def read_file(path: Path = DATA_FILE) -> CategoriesFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = CategoriesFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise Invalid("Không đọc được tệp lĩnh vực phản ánh: {error}", error=str(exc)) from exc
    except ValidationError as exc:
        raise Invalid(
            "Tệp lĩnh vực phản ánh không hợp lệ.",
            errors=[_problem(e) for e in exc.errors()],
        ) from exc
    codes = [s.code for g in data.groups for s in g.services]
    if len(set(codes)) != len(codes):
        raise Invalid("Tệp lĩnh vực phản ánh có mã lĩnh vực trùng nhau.")
    return data


def _row(
    group: GroupFile, service: ServiceFile, position: int, settings: Settings
) -> dict[str, Any]:
    if service.agency in ("ward", "dispatch"):
        agency_type, agency_code = service.agency, None
    else:
        agency_type, agency_code = "city", service.agency
    return {
        "code": service.code,
        "group_code": group.code,
        "name": service.name,
        "description": service.description.strip(),
        "keywords": service.keywords,
        "agency_type": agency_type,
        "agency_code": agency_code,
        "answer_days": service.answer_days or settings.feedback_answer_days,
        "duplicate_radius_m": service.radius_m or settings.feedback_duplicate_radius_m,
        "anonymous_allowed": service.anonymous,
        "attributes": [
            {**a.model_dump(mode="json"), "order": i + 1} for i, a in enumerate(service.attributes)
        ],
        "position": position,
        "active": True,
    }


_FIELDS = (
    "group_code",
    "name",
    "description",
    "keywords",
    "agency_type",
    "agency_code",
    "answer_days",
    "duplicate_radius_m",
    "anonymous_allowed",
    "attributes",
    "position",
    "active",
)


def import_categories(
    session: Session, *, actor: Actor, settings: Settings, path: Path = DATA_FILE
) -> int:
    """Import the file; returns how many groups and categories were added or changed (0 on
    a second run). Admins (and the platform itself) only."""
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị viên được nhập danh mục lĩnh vực phản ánh.")
    data = read_file(path)
    wanted_agencies = {
        s.agency for g in data.groups for s in g.services if s.agency not in ("ward", "dispatch")
    }
    known = places.agencies_by_code(session, sorted(wanted_agencies))
    unknown = sorted(wanted_agencies - set(known))
    if unknown:
        raise Invalid(
            "Tệp lĩnh vực phản ánh nêu cơ quan không có: {codes}.", codes=", ".join(unknown)
        )
    changed = 0
    groups = {g.code: g for g in session.scalars(select(CategoryGroup)).all()}
    for i, g in enumerate(data.groups):
        row = groups.get(g.code)
        if row is None:
            session.add(CategoryGroup(code=g.code, name=g.name, position=i + 1))
            changed += 1
        elif (row.name, row.position) != (g.name, i + 1):
            row.name, row.position = g.name, i + 1
            changed += 1
    session.flush()
    existing = {c.code: c for c in session.scalars(select(Category)).all()}
    now = datetime.now(UTC)
    position = 0
    seen = set()
    for g in data.groups:
        for s in g.services:
            position += 1
            seen.add(s.code)
            values = _row(g, s, position, settings)
            current = existing.get(s.code)
            if current is None:
                session.add(Category(**values, updated_at=now))
                changed += 1
            elif any(getattr(current, k) != values[k] for k in _FIELDS):
                for k in _FIELDS:
                    setattr(current, k, values[k])
                current.updated_at = now
                changed += 1
    retired = [code for code, c in existing.items() if c.active and code not in seen]
    if retired:
        session.execute(
            update(Category).where(Category.code.in_(retired)).values(active=False, updated_at=now)
        )
        changed += len(retired)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="feedback.categories.import",
            object_type="feedback_categories",
            data={"changed": changed, "retired": retired, "total": position},
        )
    return changed
