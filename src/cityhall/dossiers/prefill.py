"""Never ask twice: what the national registries already hold about an applicant.

When a citizen opens (or submits) an application, the one-stop system asks the registries
through the exchange (signed, logged, visible to the citizen on "who accessed my data"):

- the population database, always: identity and residence are the law's own example of
  data an agency must read rather than ask for (the purpose's legal basis, Decree 104/2022);
  the household too when the procedure needs a population document;
- the business and land databases only when the procedure's version lists a document
  sourced from them (the procedure's legal basis), or when the citizen has consented to the
  ``form_prefill`` purpose. Without one or the other nothing is fetched.

A registry that is down or does not know the person is not an error for the citizen: the
form simply asks for what could not be found, and says why.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from unidecode import unidecode

from cityhall.catalog import queries as catalog
from cityhall.catalog.schemas import DocumentSource, ProcedureDetail
from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.i18n import N_
from cityhall.dossiers.lifecycle import State
from cityhall.dossiers.models import Dossier
from cityhall.exchange import national
from cityhall.exchange.client import Answer, ExchangeClient
from cityhall.exchange.service import has_consent

log = logging.getLogger(__name__)

LAW = "law"
CONSENT = "consent"
PROCEDURE_PURPOSE = "administrative_procedure"
CONSENT_PURPOSE = "form_prefill"

SOURCE_OF = {
    DocumentSource.POPULATION: "population",
    DocumentSource.BUSINESS: "business",
    DocumentSource.LAND: "land",
}
REGISTRY_TITLES = {
    "population": N_("Cơ sở dữ liệu quốc gia về dân cư"),
    "business": N_("Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp"),
    "land": N_("Cơ sở dữ liệu đất đai quốc gia"),
}
UNAVAILABLE = N_("Chưa kết nối được %(registry)s; vui lòng cung cấp giấy tờ.")
NOT_FOUND = N_("%(registry)s chưa có thông tin của bạn; vui lòng cung cấp giấy tờ.")


@dataclass(frozen=True)
class Consulted:
    """One registry asked, on what basis: what the dossier records."""

    source: str
    service: str
    purpose: str
    basis: str
    basis_detail: str
    message_id: str
    at: datetime
    found: bool
    used_for: tuple[str, ...] = ()


@dataclass
class Prefill:
    person: dict[str, Any] | None = None
    household: dict[str, Any] | None = None
    enterprises: list[dict[str, Any]] = field(default_factory=list)
    parcels: list[dict[str, Any]] = field(default_factory=list)
    consulted: list[Consulted] = field(default_factory=list)
    # Registries that could not answer or did not know the applicant, with the reason.
    problems: dict[str, str] = field(default_factory=dict)
    # Document code -> the registry that satisfies it ("store": the citizen's own results).
    satisfied: dict[str, str] = field(default_factory=dict)
    # Document code -> (the dossier whose result it is, that result's name).
    store: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def residence(self) -> dict[str, Any] | None:
        if self.person is None:
            return None
        current = self.person.get("current_residence") or self.person.get("permanent_residence")
        return current if isinstance(current, dict) else None

    def lookups(self) -> list[Consulted]:
        """The lookups whose answers the dossier uses (for its record)."""
        return [
            Consulted(
                c.source,
                c.service,
                c.purpose,
                c.basis,
                c.basis_detail,
                c.message_id,
                c.at,
                c.found,
                tuple(
                    [code for code, source in self.satisfied.items() if source == c.source]
                    + (["applicant", "address"] if c.source == "population" and c.found else [])
                ),
            )
            for c in self.consulted
        ]


def _needed(version: ProcedureDetail) -> set[str]:
    return {SOURCE_OF[d.source] for d in version.documents if d.source in SOURCE_OF}


def _basis(
    session: Session, source: str, pin: str, needed: set[str]
) -> tuple[str, str, str] | None:
    """(purpose, basis, detail) under which ``source`` may be read for this application."""
    purposes = national.purposes()
    if source == "population" or source in needed:
        return PROCEDURE_PURPOSE, LAW, purposes[PROCEDURE_PURPOSE]["legal_basis"]
    if has_consent(session, pin, CONSENT_PURPOSE):
        return CONSENT_PURPOSE, CONSENT, f"{CONSENT_PURPOSE} (consent on record)"
    return None


def gather(
    session: Session,
    *,
    actor: Actor,
    version: ProcedureDetail,
    settings: Settings,
    factory: sessionmaker[Session],
) -> Prefill:
    """Ask the registries this application may use, on behalf of the citizen ``actor``."""
    result = Prefill()
    if actor.kind is not ActorKind.CITIZEN or not actor.pin:
        return result
    pin = actor.pin
    needed = _needed(version)
    registries = national.registries()
    client = ExchangeClient(settings, factory)
    acting = f"citizen:{pin}"

    def ask(source: str, path: str, params: dict[str, str] | None = None) -> Answer | None:
        basis = _basis(session, source, pin, needed)
        if basis is None:
            return None
        purpose, kind, detail = basis
        registry = registries[source]
        try:
            answer = client.call(
                "GET",
                registry.service_id,
                path,
                purpose=purpose,
                subject=pin,
                acting=acting,
                params=params,
            )
        except Exception:  # a registry's outage must never break the citizen's form
            log.exception("registry %s unreachable", source)
            result.problems[source] = UNAVAILABLE
            return None
        found = answer.ok and answer.body.strip() not in (b"", b'{"items":[]}')
        result.consulted.append(
            Consulted(
                source,
                registry.service_id,
                purpose,
                kind,
                detail[:500],
                answer.message_id,
                datetime.now(UTC),
                found,
            )
        )
        if answer.status == 404:
            result.problems[source] = NOT_FOUND
            return None
        if not answer.ok:
            result.problems[source] = UNAVAILABLE
            return None
        return answer

    answer = ask("population", f"citizens/{pin}")
    if answer is not None:
        result.person = answer.json()
        household_id = result.person.get("household_id") if result.person else None
        if household_id and "population" in needed:
            household = ask("population", f"households/{household_id}")
            result.household = household.json() if household is not None else None
    answer = ask("business", "enterprises", {"representative_pin": pin})
    if answer is not None:
        result.enterprises = list(answer.json().get("items", []))
        if not result.enterprises:
            result.problems["business"] = NOT_FOUND
    answer = ask("land", "parcels", {"owner_pin": pin})
    if answer is not None:
        result.parcels = list(answer.json().get("items", []))
        if not result.parcels:
            result.problems["land"] = NOT_FOUND

    result.store = _store(session, pin, version)
    for code, (dossier_code, _) in result.store.items():
        result.satisfied[code] = "store"
        result.consulted.append(
            Consulted(
                "store",
                f"dossier:{dossier_code}",
                PROCEDURE_PURPOSE,
                LAW,
                N_("Kết quả giải quyết thủ tục hành chính đã cấp cho chính công dân"),
                f"result:{dossier_code}",
                datetime.now(UTC),
                True,
            )
        )
    held = {
        "population": result.person is not None,
        "business": bool(result.enterprises),
        "land": bool(result.parcels),
    }
    for doc in version.documents:
        source = SOURCE_OF.get(doc.source)
        if source is not None and held[source]:
            result.satisfied[doc.code] = source
    return result


def _document_name(text: str) -> str:
    """The document a result names: "Giấy khai sinh (bản chính điện tử …)" -> its head."""
    head = re.split(r"\s*(?:\(|;|,? kèm |,? hoặc | có giá trị )", text, maxsplit=1)[0]
    return unidecode(head).lower().strip()


def _store(session: Session, pin: str, version: ProcedureDetail) -> dict[str, tuple[str, str]]:
    """Documents of this application that are results the platform itself issued to the
    citizen earlier (returned, approved dossiers): the citizen's document store.

    A required document matches a result when its name starts with the document the result
    names ("Giấy khai sinh của trẻ" ← "Giấy khai sinh (bản chính điện tử và bản giấy)")."""
    wanted = [d for d in version.documents if d.source is DocumentSource.STORE]
    if not wanted:
        return {}
    rows = session.execute(
        select(Dossier.code, Dossier.procedure_version_id)
        .where(
            Dossier.applicant_pin == pin,
            Dossier.state == State.RETURNED.value,
            Dossier.outcome == "approved",
        )
        .order_by(Dossier.returned_at.desc())
        .limit(200)
    ).all()
    results: list[tuple[str, str, str]] = []
    seen: dict[int, str] = {}
    for code, version_id in rows:
        if version_id not in seen:
            seen[version_id] = catalog.get_version(session, version_id).result
        results.append((code, seen[version_id], _document_name(seen[version_id])))
    found: dict[str, tuple[str, str]] = {}
    for doc in wanted:
        name = unidecode(doc.name).lower()
        for code, result, head in results:
            if len(head) >= 8 and name.startswith(head):
                found[doc.code] = (code, result)
                break
    return found
