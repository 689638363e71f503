"""An application form from a procedure's JSON Schema: fields to render, and the posted
strings turned back into the JSON the schema describes.

Pure (no I/O, no web framework): the pages render :class:`FormField` values with one Jinja
macro, and validation stays the JSON Schema's (the same rules as the API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Strings longer than this get a text area.
TEXTAREA_FROM = 300


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, date, number, integer, select, checkbox, email, tel, radio
    required: bool
    options: tuple[str, ...] = ()
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str | None = None
    default: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_pattern(self) -> str | None:
        """The HTML ``pattern`` (anchors implied there), when the schema gives one."""
        if not self.pattern:
            return None
        return self.pattern.removeprefix("^").removesuffix("$")


def _widget(name: str, spec: dict[str, Any]) -> str:
    kind = spec.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in spec:
        return "radio" if len(spec["enum"]) <= 3 else "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return str(kind)
    fmt = spec.get("format")
    if fmt == "date":
        return "date"
    if fmt == "email":
        return "email"
    if "phone" in name or "dien_thoai" in name:
        return "tel"
    if spec.get("maxLength", 0) > TEXTAREA_FROM:
        return "textarea"
    return "text"


def fields_from_schema(schema: Mapping[str, Any]) -> list[FormField]:
    """The top-level properties of an object schema, in their order. Nested objects and
    arrays of strings are shown as text (one value per line for arrays)."""
    required = set(schema.get("required", []))
    result = []
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        widget = _widget(name, spec)
        if spec.get("type") == "array":
            widget = "textarea"
        result.append(
            FormField(
                name=name,
                label=str(spec.get("title") or name),
                widget=widget,
                required=name in required,
                options=tuple(str(o) for o in spec.get("enum", ())),
                pattern=spec.get("pattern"),
                min_length=spec.get("minLength"),
                max_length=spec.get("maxLength"),
                minimum=spec.get("minimum"),
                maximum=spec.get("maximum"),
                description=spec.get("description"),
                default=spec.get("default"),
                extra={"array": spec.get("type") == "array"},
            )
        )
    return result


def parse_posted(schema: Mapping[str, Any], posted: Mapping[str, str]) -> dict[str, Any]:
    """Posted strings (field name → value, empty = not given) to the schema's JSON.

    Values that do not convert are kept as strings, so the schema's validation reports them
    on the right field with its message, and the page shows back what was typed.
    """
    form: dict[str, Any] = {}
    for f in fields_from_schema(schema):
        raw = posted.get(f.name)
        if f.widget == "checkbox":
            if raw is not None:
                form[f.name] = raw in ("on", "true", "1", "yes")
            continue
        if raw is None or not raw.strip():
            continue
        value = raw.strip()
        if f.extra.get("array"):
            form[f.name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif f.widget == "integer":
            try:
                form[f.name] = int(value)
            except ValueError:
                form[f.name] = value
        elif f.widget == "number":
            try:
                form[f.name] = float(value.replace(",", "."))
            except ValueError:
                form[f.name] = value
        else:
            form[f.name] = value
    return form


def shown(value: Any) -> str:
    """A stored form value as the page shows it back in its input."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)
