"""The synthetic data of the registry stand-ins: structure of the ids, reproducibility, the
demo citizens, households, and the land and business records built on the population."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date

import pytest

from cityhall.identity.eid.citizens import DEMO_CITIZENS
from cityhall.places.sources import current_units
from cityhall.registries import codes
from cityhall.registries.synthetic import (
    PROVINCE,
    REFERENCE_DATE,
    Dataset,
    generate,
    generate_population,
)

AN = "079090001234"
BINH = "079185004321"


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate(11, 5000)


def _age(born: date) -> int:
    return REFERENCE_DATE.year - born.year


# --- identifiers ---------------------------------------------------------------------------


def test_every_pin_has_the_structure_of_a_personal_identification_number(data: Dataset) -> None:
    people = data.population.people
    for pin, person in people.items():
        assert pin == person.pin
        assert codes.pin_error(pin) is None, pin
        parts = codes.pin_parts(pin)
        assert parts.province in codes.PROVINCES
        assert parts.sex == person.sex
        assert parts.year == person.birth_date.year
        assert pin[3] == ("0" if person.sex == "male" else "1") or person.birth_date.year >= 2000
        if person.birth_date.year >= 2000:
            assert pin[3] in "23"
    # Unique: every person is in exactly one household, under one number.
    members = [p.pin for h in data.population.households.values() for p in h.members]
    assert len(members) == len(set(members)) == len(people) == 5000
    origins = Counter(pin[:3] for pin in people)
    assert origins.most_common(1)[0][0] == "079"  # mostly born in the city
    assert 0.45 < origins["079"] / len(people) < 0.9
    assert len(origins) > 20  # and the usual origins of the city's people


def test_pin_rules_reject_what_is_malformed() -> None:
    assert codes.pin_error("079090001234") is None
    assert codes.pin_error("07909000123") is not None  # 11 digits
    assert codes.pin_error("07909000123a") is not None
    assert codes.pin_error("003090001234") is not None  # 003 is no province
    assert codes.pin_error("099090001234") is not None
    parts = codes.pin_parts("001302009876")
    assert (parts.province, parts.sex, parts.year) == ("001", "female", 2002)
    assert codes.pin_prefix("079", "male", date(1990, 5, 12)) == "079090"
    assert codes.pin_prefix("079", "female", date(2004, 1, 1)) == "079304"
    assert len(codes.PROVINCES) == 63


def test_tax_code_check_digit() -> None:
    # Published examples of real tax codes, and one digit off.
    for valid in ("0314409058", "0100233488", "0318000019"):
        assert codes.tax_code_error(valid) is None, valid
    wrong = codes.tax_code_error("0100233480")
    assert wrong is not None
    assert "chữ số kiểm tra" in wrong
    assert codes.expected_check_digit("0100233480") == "8"
    assert codes.mst_check_digit("031440905") == 8
    assert codes.tax_code_error("031440905") is not None  # 9 digits
    assert codes.tax_code_error("0314409058-001") is not None  # a branch
    assert codes.tax_code_error(AN) is None  # a household business: the owner's number
    # A prefix whose weighted sum is 0 mod 11 has no check digit: never issued.
    never = next(
        f"{n:09d}" for n in range(10**8, 10**9) if codes.mst_check_digit(f"{n:09d}") is None
    )
    assert codes.tax_code_error(never + "0") is not None


# --- reproducibility -----------------------------------------------------------------------


def test_same_seed_same_data_different_seed_different_data(data: Dataset) -> None:
    again = generate(11, 5000)
    assert again.digests() == data.digests()
    other = generate(12, 5000)
    digests, other_digests = data.digests(), other.digests()
    assert all(digests[k] != other_digests[k] for k in digests)
    # The demo citizens are the same whatever the seed.
    assert other.population.people[AN].full_name == "Nguyễn Văn An"


def test_same_data_in_another_process_whatever_the_hash_seed(data: Dataset) -> None:
    code = (
        "import json; from cityhall.registries.synthetic import generate; "
        "print(json.dumps(generate(11, 5000).digests()))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.add(done.stdout.strip())
    import json

    assert [json.loads(o) for o in outputs] == [data.digests()]


def test_people_count_is_exact_and_small_counts_are_refused() -> None:
    assert len(generate_population(3, 137).people) == 137
    with pytest.raises(ValueError, match="at least 100"):
        generate_population(3, 50)


# --- the population ------------------------------------------------------------------------


def test_demo_citizens_are_present_with_exactly_their_data(data: Dataset) -> None:
    people = data.population.people
    for demo in DEMO_CITIZENS:
        person = people[demo.pin]
        assert person.full_name == demo.full_name
        assert person.birth_date == demo.birth_date
        assert person.sex == demo.gender
        for residence in (person.permanent, person.current):
            assert residence.address_line == demo.address.street
            assert residence.unit_code == demo.address.unit_code
            assert residence.unit_name == demo.address.unit_name
            assert residence.province == demo.address.province
        household = data.population.households[person.household_id]
        assert person in household.members
    assert people[AN].relation_to_head == codes.HEAD


def test_households_are_consistent(data: Dataset) -> None:
    households = data.population.households
    kinds: Counter[int] = Counter()
    for household in households.values():
        relations = [p.relation_to_head for p in household.members]
        assert relations.count(codes.HEAD) == 1
        assert relations[0] == codes.HEAD
        assert sum(r in (codes.WIFE, codes.HUSBAND) for r in relations) <= 1
        head = household.head
        for person in household.members:
            assert person.household_id == household.household_id
            assert person.permanent == household.address  # same permanent residence
            assert person.birth_date < REFERENCE_DATE
            if person.relation_to_head == codes.SIBLING:
                assert person.birth_date > head.birth_date
            if person.relation_to_head == codes.GRANDCHILD:
                assert _age(head.birth_date) - _age(person.birth_date) >= 36
            if person.relation_to_head == codes.CHILD:
                assert _age(head.birth_date) - _age(person.birth_date) >= 15
            if person.relation_to_head in (codes.FATHER, codes.MOTHER):
                assert _age(person.birth_date) - _age(head.birth_date) >= 15
            if person.relation_to_head in (codes.WIFE, codes.HUSBAND):
                assert _age(person.birth_date) >= 18
                assert person.sex != head.sex
            if person.relation_to_head == codes.WIFE:
                assert person.sex == "female"
        kinds[len(household.members)] += 1
    assert len(kinds) >= 4  # singles, couples, families, three generations
    # Children carry their father's surname (in a household with a husband and wife).
    for household in households.values():
        father = next(
            (
                p
                for p in household.members
                if (p.relation_to_head == codes.HEAD and p.sex == "male")
                or p.relation_to_head == codes.HUSBAND
            ),
            None,
        )
        if father is None:
            continue
        for child in (p for p in household.members if p.relation_to_head == codes.CHILD):
            if child.pin in {c.pin for c in DEMO_CITIZENS}:
                continue
            assert child.full_name.split()[0] == father.full_name.split()[0]


def test_residences_are_in_current_units(data: Dataset) -> None:
    current = {u.code: u.name for u in current_units() if u.level == 2}
    assert len(current) == 168
    moved = 0
    for person in data.population.people.values():
        for residence in (person.permanent, person.current):
            assert current[residence.unit_code] == residence.unit_name
            assert residence.province == PROVINCE
            assert residence.address_line
        moved += person.current != person.permanent
    assert 0 < moved < len(data.population.people) * 0.2
    used = {p.permanent.unit_code for p in data.population.people.values()}
    assert len(used) > 150  # spread over the city


def test_names_look_vietnamese(data: Dataset) -> None:
    people = list(data.population.people.values())
    surnames = Counter(p.full_name.split()[0] for p in people)
    assert surnames.most_common(1)[0][0] == "Nguyễn"
    assert 0.25 < surnames["Nguyễn"] / len(people) < 0.5
    assert all(len(p.full_name.split()) == 3 for p in people)
    women = [p for p in people if p.sex == "female"]
    assert Counter(p.full_name.split()[1] for p in women).most_common(1)[0][0] == "Thị"


# --- businesses and land -------------------------------------------------------------------


def test_businesses(data: Dataset) -> None:
    people = data.population.people
    businesses = data.businesses
    assert len(businesses) == 5000 // 15
    company_names = [e.name for e in businesses.values() if e.kind != "household"]
    assert len(company_names) == len(set(company_names))
    for tax_code, enterprise in businesses.items():
        assert tax_code == enterprise.tax_code
        assert codes.tax_code_error(tax_code) is None
        assert enterprise.representative is people[enterprise.representative.pin]
        if enterprise.kind == "household":
            assert tax_code == enterprise.representative.pin
            assert enterprise.name.startswith("Hộ kinh doanh ")
        else:
            assert len(tax_code) == 10
            assert tax_code.startswith("03")
            assert enterprise.name.startswith(("Công ty TNHH ", "Công ty Cổ phần ", "Doanh"))
        assert enterprise.status in codes.STATUSES
        assert enterprise.main_line in codes.VSIC
        age_then = enterprise.registered_on.year - enterprise.representative.birth_date.year
        assert age_then >= 18
    household = businesses[AN]
    assert household.kind == "household"
    assert household.representative.pin == AN
    assert any(e.representative.pin == BINH and e.kind != "household" for e in businesses.values())
    kinds = Counter(e.kind for e in businesses.values())
    assert set(kinds) == set(codes.ENTERPRISE_KINDS)
    assert Counter(e.status for e in businesses.values()).most_common(1)[0][0] == "active"


def test_parcels(data: Dataset) -> None:
    people = data.population.people
    units = {u.code: u for u in current_units() if u.level == 2}
    for parcel_id, parcel in data.parcels.items():
        assert codes.parse_parcel_id(parcel_id) == (parcel.unit_code, parcel.sheet, parcel.number)
        assert units[parcel.unit_code].name == parcel.unit_name
        assert parcel.purpose in codes.LAND_PURPOSES
        assert parcel.area_m2 > 0
        assert parcel.owners
        assert sum(o.share for o in parcel.owners) == 1.0
        for owner in parcel.owners:
            assert owner.person is people[owner.person.pin]
        if parcel.purpose == "ODT":
            assert units[parcel.unit_code].kind == "ward"
            assert parcel.area_m2 <= 400
    certificates = [p.certificate_no for p in data.parcels.values()]
    assert len(certificates) == len(set(certificates))
    # Spouses co-own some homes.
    assert any(len(p.owners) == 2 for p in data.parcels.values())
    purposes = Counter(p.purpose for p in data.parcels.values())
    assert {"ODT", "ONT", "CLN", "LUC", "TMD", "SKC"} <= set(purposes)
    # Nguyễn Văn An owns his home (with his wife) and an orchard.
    an = [p for p in data.parcels.values() if any(o.person.pin == AN for o in p.owners)]
    assert {p.purpose for p in an} == {"ODT", "CLN"}
    home = next(p for p in an if p.purpose == "ODT")
    assert home.address_line == "12 Lê Lợi"
    assert home.unit_code == "26740"


def test_the_default_size_is_tens_of_thousands() -> None:
    full = generate(20250701, 50000)
    assert len(full.population.people) == 50000
    assert len(full.population.households) > 10000
    assert 2000 <= len(full.businesses) <= 5000
    assert len(full.parcels) > 20000
