"""Reading the catalogue's YAML files: parse and validate every file, report every problem.

Pure (no database): ``cityhall catalog import`` calls :func:`read_catalog` first and writes
nothing unless it returns no problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from cityhall.catalog.schemas import FieldFile, ProcedureFile

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class FileProblem:
    path: str  # the file, relative to the catalogue folder
    where: str  # the place in the file: "versions.0.steps.2.share"
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}: {self.where}: {self.message}"
            if self.where
            else (f"{self.path}: {self.message}")
        )


@dataclass(frozen=True)
class Catalog:
    fields: list[FieldFile]
    procedures: list[tuple[str, ProcedureFile]]  # (relative path, procedure)
    problems: list[FileProblem]


def _load_yaml(path: Path, rel: str, problems: list[FileProblem]) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problems.append(FileProblem(rel, "", "not UTF-8 text"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(FileProblem(rel, where, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
    return None


def _validation_problems(rel: str, exc: ValidationError) -> list[FileProblem]:
    return [
        FileProblem(rel, ".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
    ]


def read_catalog(root: Path = DATA_DIR) -> Catalog:
    """Every field and procedure under ``root`` (``fields.yaml``, ``procedures/**/*.yaml``)."""
    problems: list[FileProblem] = []
    fields: list[FieldFile] = []
    fields_path = root / "fields.yaml"
    if not fields_path.exists():
        problems.append(FileProblem("fields.yaml", "", "missing"))
    else:
        raw = _load_yaml(fields_path, "fields.yaml", problems)
        if raw is not None and not isinstance(raw, list):
            problems.append(FileProblem("fields.yaml", "", "must be a list of fields"))
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            try:
                fields.append(FieldFile.model_validate(item))
            except ValidationError as exc:
                for p in _validation_problems("fields.yaml", exc):
                    problems.append(FileProblem(p.path, f"{i}.{p.where}", p.message))
    known_fields = {f.code for f in fields}
    procedures: list[tuple[str, ProcedureFile]] = []
    seen: dict[str, str] = {}
    files = sorted((root / "procedures").rglob("*.yaml")) if (root / "procedures").exists() else []
    if not files:
        problems.append(FileProblem("procedures", "", "no procedure file (*.yaml) found"))
    for path in files:
        rel = str(path.relative_to(root))
        raw = _load_yaml(path, rel, problems)
        if raw is None:
            continue
        try:
            procedure = ProcedureFile.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_validation_problems(rel, exc))
            continue
        if procedure.field not in known_fields:
            problems.append(FileProblem(rel, "field", f"unknown field {procedure.field!r}"))
        if procedure.code in seen:
            problems.append(
                FileProblem(
                    rel, "code", f"{procedure.code} is also defined in {seen[procedure.code]}"
                )
            )
        seen[procedure.code] = rel
        procedures.append((rel, procedure))
    return Catalog(fields, procedures, problems)


if __name__ == "__main__":  # python -m cityhall.catalog.files [folder]: check the files
    import sys

    catalog = read_catalog(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR)
    for problem in catalog.problems:
        print(problem)
    print(f"{len(catalog.procedures)} procedures, {len(catalog.problems)} problems")
    raise SystemExit(1 if catalog.problems else 0)
