"""The synthetic contents of the three registries, generated reproducibly from a seed.

Everything comes from ``random.Random`` instances seeded with text derived from the seed
(hashed with SHA-512 by ``random``, so independent of ``PYTHONHASHSEED``); nothing iterates
over a set, and ages are counted from a fixed reference day, so the same seed and count give
the same data byte for byte on any machine, today or in ten years.

- :func:`generate_population`: households at HCMC addresses (current units), their members
  with names, birth dates, sex and personal identification numbers of the real structure,
  and the development e-ID's demo citizens with exactly their data.
- :func:`generate_businesses`: enterprises (10-digit tax codes with a valid check digit) and
  household businesses (the representative's 12-digit number), each with a representative
  from the population.
- :func:`generate_parcels`: land parcels owned by people of the population, among them the
  home of most households.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from cityhall.identity.eid.citizens import DEMO_CITIZENS, DemoCitizen
from cityhall.places.sources import current_units
from cityhall.registries import codes, names
from cityhall.registries.codes import (
    CHILD,
    CHILD_IN_LAW,
    FATHER,
    GRANDCHILD,
    HEAD,
    HUSBAND,
    MOTHER,
    SIBLING,
    SON_IN_LAW,
    WIFE,
)

PROVINCE = "Thành phố Hồ Chí Minh"
# Ages are counted from this day, never from today: the data must not change with the clock.
REFERENCE_DATE = date(2026, 1, 1)
MIN_PEOPLE = 100

T = TypeVar("T")


# --- records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    address_line: str
    unit_code: str
    unit_name: str
    province: str = PROVINCE

    def as_json(self) -> dict[str, str]:
        return {
            "address_line": self.address_line,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "province": self.province,
        }


@dataclass(slots=True)
class Person:
    pin: str
    full_name: str
    birth_date: date
    sex: str  # "male" | "female"
    permanent: Address
    current: Address
    household_id: str
    relation_to_head: str

    def as_json(self) -> dict[str, Any]:
        return {
            "pin": self.pin,
            "full_name": self.full_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "permanent_residence": self.permanent.as_json(),
            "current_residence": self.current.as_json(),
            "household_id": self.household_id,
            "relation_to_head": self.relation_to_head,
        }


@dataclass(slots=True)
class Household:
    household_id: str
    address: Address
    members: list[Person] = field(default_factory=list)

    @property
    def head(self) -> Person:
        return self.members[0]

    def as_json(self) -> dict[str, Any]:
        return {
            "household_id": self.household_id,
            "head_pin": self.head.pin,
            "address": self.address.as_json(),
            "members": [
                {
                    "pin": p.pin,
                    "full_name": p.full_name,
                    "birth_date": p.birth_date.isoformat(),
                    "sex": p.sex,
                    "relation_to_head": p.relation_to_head,
                }
                for p in self.members
            ],
        }


@dataclass(slots=True)
class Enterprise:
    tax_code: str
    name: str
    kind: str  # a key of codes.ENTERPRISE_KINDS
    address: Address
    representative: Person
    status: str  # a key of codes.STATUSES
    registered_on: date
    main_line: str  # a VSIC code

    def as_json(self) -> dict[str, Any]:
        return {
            "tax_code": self.tax_code,
            "name": self.name,
            "kind": {"code": self.kind, "name": codes.ENTERPRISE_KINDS[self.kind]},
            "address": self.address.as_json(),
            "legal_representative": {
                "pin": self.representative.pin,
                "full_name": self.representative.full_name,
            },
            "status": {"code": self.status, "name": codes.STATUSES[self.status]},
            "registered_on": self.registered_on.isoformat(),
            "main_line": {"code": self.main_line, "name": codes.VSIC[self.main_line]},
        }


@dataclass(frozen=True, slots=True)
class Owner:
    person: Person
    share: float


@dataclass(slots=True)
class Parcel:
    unit_code: str
    unit_name: str
    sheet: int
    number: int
    address_line: str
    area_m2: float
    purpose: str  # a key of codes.LAND_PURPOSES
    owners: list[Owner]
    certificate_no: str

    @property
    def parcel_id(self) -> str:
        return codes.parcel_id(self.unit_code, self.sheet, self.number)

    def as_json(self) -> dict[str, Any]:
        return {
            "parcel_id": self.parcel_id,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "sheet": self.sheet,
            "number": self.number,
            "address_line": self.address_line,
            "area_m2": self.area_m2,
            "purpose": {"code": self.purpose, "name": codes.LAND_PURPOSES[self.purpose]},
            "owners": [
                {"pin": o.person.pin, "full_name": o.person.full_name, "share": o.share}
                for o in self.owners
            ],
            "certificate_no": self.certificate_no,
        }


@dataclass
class Population:
    seed: int
    people: dict[str, Person]
    households: dict[str, Household]


def dumps(value: Any) -> bytes:
    """The one JSON encoding of the registries (compact, UTF-8, keys in record order)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def digest(records: Iterable[Any]) -> str:
    """SHA-256 over the JSON lines of ``records`` (objects with ``as_json``), in order."""
    h = hashlib.sha256()
    for record in records:
        h.update(dumps(record.as_json()))
        h.update(b"\n")
    return h.hexdigest()


# --- random helpers --------------------------------------------------------------------
# ``rng.random()`` scaled by hand: several times faster than ``randint``/``choice``/
# ``choices``, and as deterministic.


def _int(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high]."""
    return low + int(rng.random() * (high - low + 1))


def _one(rng: random.Random, values: Sequence[T]) -> T:
    return values[int(rng.random() * len(values))]


class Weighted:
    """Values with weights, for fast repeated choice (cumulative weights, bisection)."""

    def __init__(self, pairs: Sequence[tuple[str, int | float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> str:
        return self.values[bisect(self.cum, rng.random() * self.total)]


_SURNAMES = Weighted(names.SURNAMES)
_MIDDLE = {"male": names.MIDDLE_MALE, "female": names.MIDDLE_FEMALE}
_GIVEN = {"male": Weighted(names.GIVEN_MALE), "female": Weighted(names.GIVEN_FEMALE)}
_STREETS = Weighted(names.STREETS)
_CHILDREN = Weighted([("1", 40), ("2", 42), ("3", 14), ("4", 4)])
_HOUSEHOLD_KINDS = Weighted(
    [
        ("single", 13),
        ("couple", 11),
        ("nuclear", 40),
        ("single_parent", 8),
        ("three_gen", 14),
        ("elders", 10),
        ("siblings", 4),
    ]
)
_BUSINESS_KINDS = Weighted(
    [("household", 40), ("llc_single", 30), ("llc_multi", 14), ("joint_stock", 12), ("private", 4)]
)
_STATUSES = Weighted(list(zip(codes.STATUSES, (80, 7, 3, 3, 5, 2), strict=True)))


@lru_cache(maxsize=4)
def _middle(sex: str, young: bool) -> Weighted:
    # "Văn" and "Thị" are about three times rarer among those born after 1990.
    pairs = [(v, w / 3 if young and v in names.CLASSIC_MIDDLES else w) for v, w in _MIDDLE[sex]]
    return Weighted(pairs)


# Where HCMC residents' birth was registered: mostly the city, then the two provinces merged
# into it in 2025 and the usual origins (the Mekong delta, the south-east, the centre, the
# north).
_ORIGINS = Weighted(
    [
        ("079", 560),
        ("074", 40),
        ("077", 30),
        ("075", 25),
        ("080", 30),
        ("082", 25),
        ("083", 25),
        ("086", 15),
        ("087", 15),
        ("089", 20),
        ("091", 15),
        ("092", 15),
        ("094", 15),
        ("096", 10),
        ("084", 10),
        ("072", 15),
        ("070", 8),
        ("060", 12),
        ("056", 8),
        ("052", 15),
        ("051", 15),
        ("049", 15),
        ("046", 10),
        ("048", 8),
        ("045", 8),
        ("040", 20),
        ("042", 12),
        ("038", 15),
        ("036", 12),
        ("034", 10),
        ("031", 8),
        ("001", 20),
        ("066", 10),
        ("068", 10),
        ("064", 5),
    ]
)


# --- the generator ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    urban: bool  # a ward (phường): street addresses; communes have hamlets


@lru_cache(maxsize=1)
def units() -> tuple[_Unit, ...]:
    """The 168 current ward-level units of the city, by code."""
    return tuple(_Unit(u.code, u.name, u.kind == "ward") for u in current_units() if u.level == 2)


def _unit_weight(unit: _Unit) -> int:
    # The former HCMC's dense wards hold most people; then the other wards; then communes.
    if unit.urban and "26734" <= unit.code <= "27700":
        return 6
    return 3 if unit.urban else 1


class _PopulationBuilder:
    def __init__(self, seed: int, count: int) -> None:
        self.rng = random.Random(f"cityhall-registries:{seed}:population")  # noqa: S311 - not secret
        self.count = count
        self.units = units()
        self.by_code = {u.code: u for u in self.units}
        self.unit_choice = Weighted([(u.code, _unit_weight(u)) for u in self.units])
        self.used_pins: set[str] = {c.pin for c in DEMO_CITIZENS}
        self.people: dict[str, Person] = {}
        self.households: dict[str, Household] = {}
        self.serial: dict[str, int] = {}

    # --- pieces -----------------------------------------------------------------------

    def address(self, unit: _Unit | None = None) -> Address:
        rng = self.rng
        unit = unit or self.by_code[self.unit_choice.pick(rng)]
        if unit.urban or rng.random() < 0.3:
            number = str(_int(rng, 1, 350))
            roll = rng.random()
            if roll < 0.35:
                number += f"/{_int(rng, 1, 60)}"  # in an alley (hẻm)
                if rng.random() < 0.3:
                    number += f"/{_int(rng, 1, 20)}"
            elif roll < 0.45:
                number += _one(rng, "ABC")
            line = f"{number} {_STREETS.pick(rng)}"
        else:
            hamlet = _one(rng, names.HAMLETS)
            if rng.random() < 0.5:
                line = f"Tổ {_int(rng, 1, 25)}, {hamlet}"
            else:
                line = f"Số {_int(rng, 1, 400)}, {_one(rng, names.ROADS)}, {hamlet}"
        return Address(line, unit.code, unit.name)

    def birth(self, year: int) -> date:
        start = date(year, 1, 1)
        days = (date(year + 1, 1, 1) - start).days
        born = start + timedelta(days=_int(self.rng, 0, days - 1))
        return min(born, REFERENCE_DATE - timedelta(days=1))

    def name(self, sex: str, year: int, surname: str | None = None) -> str:
        rng = self.rng
        surname = surname or _SURNAMES.pick(rng)
        middle = _middle(sex, year >= 1990).pick(rng)
        given = _GIVEN[sex].pick(rng)
        while given == middle:
            given = _GIVEN[sex].pick(rng)
        return f"{surname} {middle} {given}"

    def pin(self, sex: str, birth: date, *, local: bool) -> str:
        rng = self.rng
        province = "079" if local and rng.random() < 0.9 else _ORIGINS.pick(rng)
        prefix = codes.pin_prefix(province, sex, birth)
        while True:
            pin = f"{prefix}{_int(rng, 0, 999_999):06d}"
            if pin not in self.used_pins:
                self.used_pins.add(pin)
                return pin

    def household_id(self, unit_code: str) -> str:
        n = self.serial.get(unit_code, 0) + 1
        self.serial[unit_code] = n
        return f"HK-{unit_code}-{n:06d}"

    # --- households -------------------------------------------------------------------

    def add(
        self,
        household: Household,
        sex: str,
        year: int,
        relation: str,
        *,
        surname: str | None = None,
        demo: DemoCitizen | None = None,
    ) -> Person | None:
        """A member (the head first); None once the population is complete."""
        if demo is None and len(self.people) >= self.count:
            return None
        if demo is not None:
            person = Person(
                pin=demo.pin,
                full_name=demo.full_name,
                birth_date=demo.birth_date,
                sex=demo.gender,
                permanent=household.address,
                current=household.address,
                household_id=household.household_id,
                relation_to_head=relation,
            )
        else:
            birth = self.birth(min(year, REFERENCE_DATE.year - 1))
            # Children of the household were mostly born in the city.
            local = relation in (CHILD, GRANDCHILD) and birth.year >= 1980
            current = household.address
            if birth.year <= REFERENCE_DATE.year - 18 and self.rng.random() < 0.12:
                current = self.address()  # lives elsewhere (work, study, rent)
            person = Person(
                pin=self.pin(sex, birth, local=local),
                full_name=self.name(sex, birth.year, surname),
                birth_date=birth,
                sex=sex,
                permanent=household.address,
                current=current,
                household_id=household.household_id,
                relation_to_head=relation,
            )
        household.members.append(person)
        self.people[person.pin] = person
        return person

    def new_household(self, address: Address | None = None) -> Household:
        address = address or self.address()
        household = Household(self.household_id(address.unit_code), address)
        self.households[household.household_id] = household
        return household

    def children(
        self, household: Household, mother_year: int, surname: str, relation: str = CHILD
    ) -> None:
        rng = self.rng
        n = int(_CHILDREN.pick(rng))
        year = mother_year + _int(rng, 20, 30)
        for _ in range(n):
            if year >= REFERENCE_DATE.year:
                return
            self.add(household, _one(rng, ("male", "female")), year, relation, surname=surname)
            year += _int(rng, 2, 6)

    def spouse_year(self, year: int, sex: str) -> int:
        # Husbands are a few years older than their wives, on the whole.
        gap = _int(self.rng, -2, 7)
        return year + gap if sex == "male" else year - gap

    def couple(
        self, household: Household, head_sex: str, head_year: int, *, head_demo: DemoCitizen | None
    ) -> tuple[str, int, int]:
        """Head and spouse; returns (the children's surname, mother's birth year, head's)."""
        head = self.add(household, head_sex, head_year, HEAD, demo=head_demo)
        assert head is not None
        head_year = head.birth_date.year
        spouse_sex = "female" if head_sex == "male" else "male"
        spouse_year = max(
            self.spouse_year(head_year, head_sex), head_year - 12, REFERENCE_DATE.year - 90
        )
        spouse_year = min(spouse_year, REFERENCE_DATE.year - 18)
        spouse = self.add(
            household, spouse_sex, spouse_year, WIFE if head_sex == "male" else HUSBAND
        )
        father = head if head_sex == "male" else spouse
        surname = (father or head).full_name.split()[0]
        mother_year = head_year if head_sex == "female" else spouse_year
        return surname, mother_year, head_year

    def random_household(self) -> None:
        rng = self.rng
        ref = REFERENCE_DATE.year
        household = self.new_household()
        kind = _HOUSEHOLD_KINDS.pick(rng)
        head_sex = "male" if rng.random() < 0.75 else "female"
        if kind == "single":
            self.add(household, _one(rng, ("male", "female")), ref - _int(rng, 19, 85), HEAD)
        elif kind == "siblings":
            year = ref - _int(rng, 20, 35)
            head = self.add(household, _one(rng, ("male", "female")), year, HEAD)
            if head is not None:
                surname = head.full_name.split()[0]
                self.add(
                    household,
                    _one(rng, ("male", "female")),
                    head.birth_date.year + _int(rng, 1, 6),
                    SIBLING,
                    surname=surname,
                )
        elif kind == "couple":
            self.couple(household, head_sex, ref - _int(rng, 22, 85), head_demo=None)
        elif kind == "nuclear":
            surname, mother_year, _ = self.couple(
                household, head_sex, ref - _int(rng, 28, 62), head_demo=None
            )
            self.children(household, mother_year, surname)
        elif kind == "single_parent":
            sex = "female" if rng.random() < 0.8 else "male"
            head = self.add(household, sex, ref - _int(rng, 28, 60), HEAD)
            if head is not None:
                mother_year = head.birth_date.year if sex == "female" else head.birth_date.year + 3
                self.children(household, mother_year, head.full_name.split()[0])
        elif kind == "three_gen":
            head_year = ref - _int(rng, 32, 55)
            surname, mother_year, head_year = self.couple(
                household, head_sex, head_year, head_demo=None
            )
            self.children(household, mother_year, surname)
            parent_year = head_year - _int(rng, 22, 34)
            if parent_year >= ref - 95:
                if rng.random() < 0.5:
                    self.add(household, "male", parent_year - _int(rng, 0, 5), FATHER)
                self.add(household, "female", parent_year, MOTHER)
        else:  # elders with a married child and grandchildren
            head_year = ref - _int(rng, 58, 82)
            surname, mother_year, head_year = self.couple(
                household, head_sex, head_year, head_demo=None
            )
            child_year = mother_year + _int(rng, 20, 32)
            son = rng.random() < 0.7
            child = self.add(
                household, "male" if son else "female", child_year, CHILD, surname=surname
            )
            if child is not None:
                in_law = self.add(
                    household,
                    "female" if son else "male",
                    self.spouse_year(child.birth_date.year, child.sex),
                    CHILD_IN_LAW if son else SON_IN_LAW,
                )
                grand_surname = surname if son or in_law is None else in_law.full_name.split()[0]
                grand_mother = in_law.birth_date.year if son and in_law else child.birth_date.year
                self.children(household, grand_mother, grand_surname, GRANDCHILD)

    def demo_households(self) -> None:
        """The e-ID demo citizens, each in a household at their address."""
        rng = self.rng
        for demo in DEMO_CITIZENS:
            a = demo.address
            unit = self.by_code[a.unit_code]
            household = self.new_household(Address(a.street, unit.code, unit.name))
            age = REFERENCE_DATE.year - demo.birth_date.year
            if age < 30 and demo.pin[:3] != "079" and demo.gender == "female":
                # A student from another province, living alone.
                self.add(household, demo.gender, 0, HEAD, demo=demo)
            elif age < 30 and demo.gender == "male":
                # A young man in his parents' household.
                surname = demo.full_name.split()[0]
                father = self.add(
                    household, "male", demo.birth_date.year - 28, HEAD, surname=surname
                )
                assert father is not None
                self.add(household, "female", demo.birth_date.year - 26, WIFE)
                self.add(household, "male", 0, CHILD, demo=demo)
                self.add(household, "female", demo.birth_date.year + 4, CHILD, surname=surname)
            elif age < 32:
                self.add(household, demo.gender, 0, HEAD, demo=demo)  # single
            else:
                surname, mother_year, head_year = self.couple(
                    household, demo.gender, 0, head_demo=demo
                )
                self.children(household, mother_year, surname)
                if age >= 45:
                    self.add(household, "female", head_year - _int(rng, 24, 30), MOTHER)

    def build(self) -> Population:
        self.demo_households()
        while len(self.people) < self.count:
            self.random_household()
        return Population(seed=0, people=self.people, households=self.households)


def generate_population(seed: int, count: int) -> Population:
    """``count`` people (at least :data:`MIN_PEOPLE`) in households, the demo citizens first."""
    if count < MIN_PEOPLE:
        raise ValueError(f"at least {MIN_PEOPLE} people are needed (the demo households)")
    population = _PopulationBuilder(seed, count).build()
    population.seed = seed
    return population


# --- businesses ------------------------------------------------------------------------

# The demo citizens' businesses, with fixed tax codes so that the demo can name them.
DEMO_BUSINESSES: tuple[tuple[str, str, str, str, str], ...] = (
    # (representative pin, tax code, kind, name, main line)
    ("079090001234", "079090001234", "household", "Hộ kinh doanh Cà phê An", "5630"),
    (
        "079185004321",
        "0318000019",
        "llc_single",
        "Công ty TNHH Thương mại Dịch vụ Bình Minh",
        "4690",
    ),
    ("079078001357", "0318000026", "joint_stock", "Công ty Cổ phần Xây dựng Minh Đức", "4101"),
)


def _adults(population: Population, *, low: int = 22, high: int = 70) -> list[Person]:
    years = range(REFERENCE_DATE.year - high, REFERENCE_DATE.year - low + 1)
    return [p for p in population.people.values() if p.birth_date.year in years]


def _tax_code(rng: random.Random, used: set[str]) -> str:
    while True:
        first9 = f"{codes.HCMC_TAX_PROVINCE}{_int(rng, 1, 1_899_999):07d}"
        check = codes.mst_check_digit(first9)
        if check is None:
            continue
        code = f"{first9}{check}"
        if code not in used:
            used.add(code)
            return code


def generate_businesses(population: Population) -> dict[str, Enterprise]:
    """About one business per 15 people, keyed by tax code, the demo ones first."""
    rng = random.Random(f"cityhall-registries:{population.seed}:business")  # noqa: S311
    builder = _PopulationBuilder(population.seed, 0)
    builder.rng = rng  # addresses from this generator's own stream
    people = population.people
    out: dict[str, Enterprise] = {}
    used: set[str] = set()
    used_names: set[str] = set()
    household_reps: set[str] = set()

    for pin, tax_code, kind, name, line in DEMO_BUSINESSES:
        rep = people[pin]
        used.add(tax_code)
        used_names.add(name)
        if kind == "household":
            household_reps.add(pin)
        out[tax_code] = Enterprise(
            tax_code=tax_code,
            name=name,
            kind=kind,
            address=rep.current,
            representative=rep,
            status="active",
            registered_on=date(2021, 3, 15),
            main_line=line,
        )

    adults = _adults(population)
    total = max(len(people) // 15, len(out) + 10)
    while len(out) < total:
        rep = _one(rng, adults)
        kind = _BUSINESS_KINDS.pick(rng)
        earliest = max(2005, rep.birth_date.year + 19)
        registered = date(_int(rng, earliest, 2025), _int(rng, 1, 12), _int(rng, 1, 28))
        status = _STATUSES.pick(rng)
        if kind == "household":
            if rep.pin in household_reps:  # one household business per person
                continue
            household_reps.add(rep.pin)
            trade, line = _one(rng, names.HOUSEHOLD_TRADES)
            name = f"Hộ kinh doanh {trade} {rep.full_name.split()[-1]}"
            address = rep.current if rng.random() < 0.7 else builder.address()
            out[rep.pin] = Enterprise(rep.pin, name, kind, address, rep, status, registered, line)
            continue
        trade, lines = _one(rng, names.TRADES)
        brand = _one(rng, names.BRANDS)
        name = f"{codes.KIND_PREFIX[kind]} {trade} {brand}"
        if kind == "private":
            name = f"{codes.KIND_PREFIX[kind]} {brand}"
        for suffix in itertools.chain(("",), names.BRAND_SUFFIXES, (str(i) for i in range(2, 999))):
            candidate = f"{name} {suffix}".strip()
            if candidate not in used_names:
                name = candidate
                break
        used_names.add(name)
        tax_code = _tax_code(rng, used)
        # Most have their head office in a ward, as offices do.
        address = builder.address()
        out[tax_code] = Enterprise(
            tax_code, name, kind, address, rep, status, registered, _one(rng, lines)
        )
    return out


# --- land ------------------------------------------------------------------------------

_CERTIFICATE_SERIES = (
    "BA", "BB", "BC", "BD", "BE", "BG", "BH", "BK", "BL", "BM", "BN", "BO", "BP", "BR", "BS",
    "BT", "BU", "BV", "BX", "BY", "CA", "CB", "CC", "CD", "CE", "CG", "CH", "CK", "CL", "CM",
    "CN", "CO", "CP", "CR", "CS", "CT", "CU", "CV", "CX", "CY", "DA", "DB", "DC", "DD", "DE",
)  # fmt: skip

# (purpose, median area m², smallest, largest)
_AREAS: dict[str, tuple[float, float, float]] = {
    "ODT": (62.0, 18.0, 400.0),
    "ONT": (180.0, 60.0, 1500.0),
    "LUC": (2500.0, 500.0, 20000.0),
    "BHK": (1200.0, 200.0, 10000.0),
    "CLN": (1800.0, 200.0, 30000.0),
    "NTS": (3000.0, 500.0, 30000.0),
    "TMD": (350.0, 50.0, 5000.0),
    "SKC": (1500.0, 200.0, 20000.0),
}
_URBAN_PURPOSES = Weighted([("ODT", 70), ("TMD", 18), ("SKC", 6), ("CLN", 6)])
_RURAL_PURPOSES = Weighted(
    [("ONT", 25), ("LUC", 22), ("CLN", 25), ("BHK", 14), ("NTS", 10), ("SKC", 4)]
)


class _ParcelBuilder:
    def __init__(self, population: Population) -> None:
        self.rng = random.Random(f"cityhall-registries:{population.seed}:land")  # noqa: S311
        self.addresses = _PopulationBuilder(population.seed, 0)
        self.addresses.rng = self.rng
        self.used_numbers: dict[str, set[tuple[int, int]]] = {}
        self.used_certificates: set[str] = set()
        self.parcels: dict[str, Parcel] = {}

    def area(self, purpose: str) -> float:
        median, low, high = _AREAS[purpose]
        value = self.rng.lognormvariate(0.0, 0.55) * median
        return round(min(max(value, low), high), 1)

    def certificate(self) -> str:
        while True:
            no = f"{_one(self.rng, _CERTIFICATE_SERIES)} {_int(self.rng, 1, 999_999):06d}"
            if no not in self.used_certificates:
                self.used_certificates.add(no)
                return no

    def add(self, address: Address, purpose: str, owners: list[Owner], *, urban: bool) -> Parcel:
        rng = self.rng
        used = self.used_numbers.setdefault(address.unit_code, set())
        while True:
            sheet, number = _int(rng, 1, 60), _int(rng, 1, 450)
            if (sheet, number) not in used:
                used.add((sheet, number))
                break
        line = address.address_line
        if not urban and purpose not in ("ONT", "ODT"):
            line = line.split(", ")[-1]  # fields are known by their hamlet
        parcel = Parcel(
            unit_code=address.unit_code,
            unit_name=address.unit_name,
            sheet=sheet,
            number=number,
            address_line=line,
            area_m2=self.area(purpose),
            purpose=purpose,
            owners=owners,
            certificate_no=self.certificate(),
        )
        self.parcels[parcel.parcel_id] = parcel
        return parcel


def _co_owners(rng: random.Random, household: Household) -> list[Owner]:
    head = household.head
    spouse = next((p for p in household.members if p.relation_to_head in (WIFE, HUSBAND)), None)
    if spouse is not None and rng.random() < 0.7:
        return [Owner(head, 0.5), Owner(spouse, 0.5)]  # common property of the spouses
    return [Owner(head, 1.0)]


def generate_parcels(population: Population) -> dict[str, Parcel]:
    """The homes of most households, plus other land of the people, keyed by parcel id."""
    builder = _ParcelBuilder(population)
    rng = builder.rng
    demo_pins = {c.pin for c in DEMO_CITIZENS}
    by_code = {u.code: u for u in units()}
    for household in population.households.values():
        urban = by_code[household.address.unit_code].urban
        is_demo = any(p.pin in demo_pins for p in household.members)
        owning = rng.random() < (0.68 if urban else 0.85)
        if not (owning or is_demo):
            continue
        builder.add(
            household.address,
            "ODT" if urban else "ONT",
            _co_owners(rng, household),
            urban=urban,
        )

    # Võ Minh Đức also owns a shop lot, Nguyễn Văn An an orchard in a commune.
    people = population.people
    duc = people["079078001357"]
    builder.add(duc.permanent, "TMD", [Owner(duc, 1.0)], urban=True)
    an = people["079090001234"]
    urban_units = [u for u in units() if u.urban]
    rural_units = [u for u in units() if not u.urban]
    builder.add(
        builder.addresses.address(rural_units[len(rural_units) // 2]),
        "CLN",
        [Owner(an, 1.0)],
        urban=False,
    )

    adults = _adults(population, low=25, high=90)
    for _ in range(int(len(people) * 0.3)):
        owner = _one(rng, adults)
        household = population.households[owner.household_id]
        unit = _one(rng, urban_units if rng.random() < 0.45 else rural_units)
        purpose = (_URBAN_PURPOSES if unit.urban else _RURAL_PURPOSES).pick(rng)
        owners = _co_owners(rng, household) if owner is household.head else [Owner(owner, 1.0)]
        builder.add(builder.addresses.address(unit), purpose, owners, urban=unit.urban)
    return builder.parcels


# --- the whole --------------------------------------------------------------------------


@dataclass
class Dataset:
    seed: int
    population: Population
    businesses: dict[str, Enterprise]
    parcels: dict[str, Parcel]

    def digests(self) -> dict[str, str]:
        return {
            "population": digest(self.population.people.values()),
            "households": digest(self.population.households.values()),
            "business": digest(self.businesses.values()),
            "land": digest(self.parcels.values()),
        }


def generate(seed: int, people: int, kinds: Sequence[str] = ("business", "land")) -> Dataset:
    """The population, and the businesses and parcels if asked (they need the population)."""
    population = generate_population(seed, people)
    return Dataset(
        seed=seed,
        population=population,
        businesses=generate_businesses(population) if "business" in kinds else {},
        parcels=generate_parcels(population) if "land" in kinds else {},
    )
