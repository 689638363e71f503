"""The rules of the identifiers the registries hold, and their code lists.

- Personal identification number (số định danh cá nhân, the number on the chip-based citizen
  card; Decree 137/2015/NĐ-CP art. 13, Circular 07/2016/TT-BCA and its successor Circular
  59/2021/TT-BCA): 12 digits = the 3-digit code of the province where the birth was
  registered (the 63 pre-2025 provinces, codes of Decision 124/2004/QĐ-TTg), 1 digit for sex
  and century of birth (0/1 male/female born 1900-1999, 2/3 born 2000-2099, 4/5 2100-2199…),
  the last 2 digits of the year of birth, then 6 random digits.
- Tax code of an enterprise (mã số thuế, Circular 105/2020/TT-BTC art. 5 and appendix 1):
  10 digits = N1N2 (the tax province where it was first registered; 03 for Ho Chi Minh City),
  N3-N9 a sequence number, N10 a check digit: ``10 - (31·N1 + 29·N2 + 23·N3 + 19·N4 + 17·N5 +
  13·N6 + 7·N7 + 5·N8 + 3·N9) mod 11``. A prefix whose result would be 10 is never issued. A
  dependent unit (branch) adds ``-NNN``. Since 1 July 2025 individuals and household
  businesses use the 12-digit personal identification number as their tax code (Circular
  86/2024/TT-BTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cityhall.core.i18n import N_

# Province codes of birth registration (Decision 124/2004/QĐ-TTg), the 63 provinces before
# the 2025 reorganisation. Gaps are not assigned: 003 is no province.
PROVINCES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

# The three stand-ins (``cityhall registry serve <kind>``).
KINDS = ("population", "business", "land")

_PIN = re.compile(r"^[0-9]{12}$")
_TAX_CODE = re.compile(r"^[0-9]{10}$")
MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
HCMC_TAX_PROVINCE = "03"


@dataclass(frozen=True)
class PinParts:
    province: str
    sex: str  # "male" | "female"
    century_start: int  # 1900, 2000, ...
    year: int


def sex_century_digit(sex: str, year: int) -> str:
    """The 4th digit: 0/1 male/female born in the 1900s, 2/3 in the 2000s, and so on."""
    century = (year - 1900) // 100
    return str(century * 2 + (1 if sex == "female" else 0))


def pin_prefix(province: str, sex: str, birth: date) -> str:
    """The first six digits of the number of someone born in ``province`` on ``birth``."""
    return f"{province}{sex_century_digit(sex, birth.year)}{birth.year % 100:02d}"


def pin_error(pin: str) -> str | None:
    """Why ``pin`` is not a well-formed personal identification number (a gettext id with
    ``{pin}``, ``{code}``), or None."""
    if not _PIN.match(pin):
        return N_("Số định danh cá nhân phải gồm đúng 12 chữ số (nhận được: “{pin}”).")
    if pin[:3] not in PROVINCES:
        return N_(
            "Số định danh cá nhân {pin} không hợp lệ: {code} không phải mã tỉnh nơi đăng ký "
            "khai sinh."
        )
    return None


def pin_parts(pin: str) -> PinParts:
    """The structure of a well-formed number (check it with :func:`pin_error` first)."""
    digit = int(pin[3])
    century_start = 1900 + (digit // 2) * 100
    return PinParts(
        province=pin[:3],
        sex="female" if digit % 2 else "male",
        century_start=century_start,
        year=century_start + int(pin[4:6]),
    )


def mst_check_digit(first9: str) -> int | None:
    """The 10th digit of an enterprise tax code, or None if the prefix is never issued."""
    total = sum(int(d) * w for d, w in zip(first9, MST_WEIGHTS, strict=True))
    check = 10 - total % 11
    return None if check == 10 else check


def tax_code_error(tax_code: str) -> str | None:
    """Why ``tax_code`` is neither a valid enterprise tax code (10 digits, check digit) nor a
    well-formed 12-digit personal number (a household business): a gettext id with
    ``{tax_code}`` and ``{expected}``, or None."""
    if _PIN.match(tax_code):
        return pin_error(tax_code)
    if re.match(r"^[0-9]{10}-[0-9]{3}$", tax_code):
        return N_(
            "Mã số thuế {tax_code} là của đơn vị phụ thuộc (chi nhánh); hãy tra cứu mã số thuế "
            "10 chữ số của doanh nghiệp."
        )
    if not _TAX_CODE.match(tax_code):
        return N_(
            "Mã số thuế phải gồm 10 chữ số (doanh nghiệp) hoặc 12 chữ số (hộ kinh doanh, số "
            "định danh cá nhân của chủ hộ); nhận được “{tax_code}”."
        )
    expected = mst_check_digit(tax_code[:9])
    if expected is None:
        return N_("Mã số thuế {tax_code} không hợp lệ: 9 chữ số đầu không có chữ số kiểm tra.")
    if int(tax_code[9]) != expected:
        return N_("Mã số thuế {tax_code} sai chữ số kiểm tra: chữ số thứ 10 phải là {expected}.")
    return None


def expected_check_digit(tax_code: str) -> str:
    """For messages: the check digit a 10-digit code should end with ("" if none)."""
    if not _TAX_CODE.match(tax_code):
        return ""
    check = mst_check_digit(tax_code[:9])
    return "" if check is None else str(check)


# --- code lists ------------------------------------------------------------------------

# Relation to the head of household (quan hệ với chủ hộ), as the residence database says it.
HEAD, WIFE, HUSBAND, CHILD, FATHER, MOTHER = "chủ hộ", "vợ", "chồng", "con", "cha", "mẹ"
GRANDCHILD, SIBLING, CHILD_IN_LAW = "cháu", "anh chị em", "con dâu"
SON_IN_LAW = "con rể"

# Enterprise kinds (Law on Enterprises 59/2020/QH14; household businesses: Decree 01/2021).
ENTERPRISE_KINDS: dict[str, str] = {
    "llc_single": "Công ty trách nhiệm hữu hạn một thành viên",
    "llc_multi": "Công ty trách nhiệm hữu hạn hai thành viên trở lên",
    "joint_stock": "Công ty cổ phần",
    "private": "Doanh nghiệp tư nhân",
    "household": "Hộ kinh doanh",
}
KIND_PREFIX: dict[str, str] = {
    "llc_single": "Công ty TNHH",
    "llc_multi": "Công ty TNHH",
    "joint_stock": "Công ty Cổ phần",
    "private": "Doanh nghiệp tư nhân",
    "household": "Hộ kinh doanh",
}

# Legal status in the national business registration database.
STATUSES: dict[str, str] = {
    "active": "Đang hoạt động",
    "suspended": "Tạm ngừng kinh doanh có thời hạn",
    "not_at_address": "Không hoạt động tại địa chỉ đã đăng ký",
    "dissolving": "Đang làm thủ tục giải thể, phá sản",
    "dissolved": "Đã giải thể, phá sản, chấm dứt tồn tại",
    "revoked": "Bị thu hồi Giấy chứng nhận đăng ký doanh nghiệp",
}

# Main business lines: 4-digit codes of the Vietnam Standard Industrial Classification
# (VSIC 2018, Decision 27/2018/QĐ-TTg).
VSIC: dict[str, str] = {
    "1079": "Sản xuất thực phẩm khác chưa được phân vào đâu",
    "1410": "May trang phục (trừ trang phục từ da lông thú)",
    "1811": "In ấn",
    "2511": "Sản xuất các cấu kiện kim loại",
    "3100": "Sản xuất giường, tủ, bàn, ghế",
    "4101": "Xây dựng nhà để ở",
    "4102": "Xây dựng nhà không để ở",
    "4520": "Bảo dưỡng, sửa chữa ô tô và xe có động cơ khác",
    "4542": "Bảo dưỡng và sửa chữa mô tô, xe máy",
    "4649": "Bán buôn đồ dùng khác cho gia đình",
    "4659": "Bán buôn máy móc, thiết bị và phụ tùng máy khác",
    "4663": "Bán buôn vật liệu, thiết bị lắp đặt khác trong xây dựng",
    "4690": "Bán buôn tổng hợp",
    "4711": (
        "Bán lẻ lương thực, thực phẩm, đồ uống, thuốc lá, thuốc lào chiếm tỷ trọng lớn trong "
        "các cửa hàng kinh doanh tổng hợp"
    ),
    "4722": "Bán lẻ thực phẩm trong các cửa hàng chuyên doanh",
    "4741": (
        "Bán lẻ máy vi tính, thiết bị ngoại vi, phần mềm và thiết bị viễn thông trong các cửa "
        "hàng chuyên doanh"
    ),
    "4772": (
        "Bán lẻ thuốc, dụng cụ y tế, mỹ phẩm và vật phẩm vệ sinh trong các cửa hàng chuyên doanh"
    ),
    "4933": "Vận tải hàng hóa bằng đường bộ",
    "5229": "Hoạt động dịch vụ hỗ trợ khác liên quan đến vận tải",
    "5510": "Dịch vụ lưu trú ngắn ngày",
    "5610": "Nhà hàng và các dịch vụ ăn uống phục vụ lưu động",
    "5630": "Dịch vụ phục vụ đồ uống",
    "6201": "Lập trình máy vi tính",
    "6202": "Tư vấn máy vi tính và quản trị hệ thống máy vi tính",
    "6810": (
        "Kinh doanh bất động sản, quyền sử dụng đất thuộc chủ sở hữu, chủ sử dụng hoặc đi thuê"
    ),
    "7020": "Hoạt động tư vấn quản lý",
    "7310": "Quảng cáo",
    "7912": "Điều hành tua du lịch",
    "8559": "Giáo dục khác chưa được phân vào đâu",
    "9529": "Sửa chữa xe đạp, đồng hồ, đồ dùng cá nhân và gia đình khác chưa được phân vào đâu",
    "9631": "Cắt tóc, làm đầu, gội đầu",
}

# Land-use purposes and their codes on the cadastral map (Land Law 31/2024/QH15 art. 9;
# symbols of Circular 08/2024/TT-BTNMT).
LAND_PURPOSES: dict[str, str] = {
    "ODT": "Đất ở tại đô thị",
    "ONT": "Đất ở tại nông thôn",
    "LUC": "Đất chuyên trồng lúa",
    "BHK": "Đất bằng trồng cây hằng năm khác",
    "CLN": "Đất trồng cây lâu năm",
    "NTS": "Đất nuôi trồng thủy sản",
    "TMD": "Đất thương mại, dịch vụ",
    "SKC": "Đất cơ sở sản xuất phi nông nghiệp",
}

_PARCEL_ID = re.compile(r"^([0-9]{5})-([0-9]{1,4})-([0-9]{1,5})$")


def parse_parcel_id(parcel_id: str) -> tuple[str, int, int] | None:
    """``<unit code>-<map sheet>-<parcel number>`` as (unit code, sheet, number), or None."""
    m = _PARCEL_ID.match(parcel_id)
    if m is None:
        return None
    sheet, number = int(m.group(2)), int(m.group(3))
    if sheet < 1 or number < 1:
        return None
    return m.group(1), sheet, number


def parcel_id(unit_code: str, sheet: int, number: int) -> str:
    return f"{unit_code}-{sheet}-{number}"
