"""The demo citizens the development provider can log in as (no real person's data).

The first three are ``cityhall.demo.DEMO_CITIZENS`` (same numbers, names and birth dates).
A personal identification number reads: province of birth registration (3 digits), sex and
century (0/1: male/female born in the 1900s, 2/3: in the 2000s), year of birth (2 digits),
then 6 random digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DemoAddress:
    street: str
    unit_code: str  # current ward or commune (5 digits)
    unit_name: str
    province: str = "Thành phố Hồ Chí Minh"

    @property
    def formatted(self) -> str:
        return f"{self.street}, {self.unit_name}, {self.province}"


@dataclass(frozen=True)
class DemoCitizen:
    pin: str
    full_name: str
    birth_date: date
    gender: str  # OpenID Connect values: "male", "female"
    address: DemoAddress
    phone: str


SAI_GON, BEN_THANH, TAN_DINH = "26740", "26743", "26737"

DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        "079090001234",
        "Nguyễn Văn An",
        date(1990, 5, 12),
        "male",
        DemoAddress("12 Lê Lợi", SAI_GON, "Phường Sài Gòn"),
        "0901234567",
    ),
    DemoCitizen(
        "079185004321",
        "Trần Thị Bình",
        date(1985, 11, 3),
        "female",
        DemoAddress("45 Lê Thánh Tôn", BEN_THANH, "Phường Bến Thành"),
        "0912345678",
    ),
    DemoCitizen(
        "074201007788",
        "Lê Hoàng Cường",
        date(2001, 2, 27),
        "male",
        DemoAddress("102 Hai Bà Trưng", TAN_DINH, "Phường Tân Định"),
        "0923456789",
    ),
    DemoCitizen(
        "079196002468",
        "Phạm Thị Dung",
        date(1996, 8, 19),
        "female",
        DemoAddress("27 Trần Quang Khải", TAN_DINH, "Phường Tân Định"),
        "0934567890",
    ),
    DemoCitizen(
        "079078001357",
        "Võ Minh Đức",
        date(1978, 1, 30),
        "male",
        DemoAddress("8 Nguyễn Huệ", SAI_GON, "Phường Sài Gòn"),
        "0945678901",
    ),
    DemoCitizen(
        "001302009876",
        "Hoàng Thu Hà",
        date(2002, 12, 5),
        "female",
        DemoAddress("60 Phạm Hồng Thái", BEN_THANH, "Phường Bến Thành"),
        "0956789012",
    ),
)

BY_PIN = {c.pin: c for c in DEMO_CITIZENS}
