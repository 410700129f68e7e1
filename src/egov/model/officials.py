"""The directory of officials derived from the province model (issue 6, docs/directory.md).

One organizational unit per department, district and commune of the model, and one synthetic
official per staffing count (`staffing`, `site_overrides[*].officials`). Everything is a pure
function of the model, so the tree is identical on every run:

- uid ``<unit-slug>.<nnn>`` (departments use their ``code`` as slug; nnn = 1-based, 3 digits);
- names are picked from Vietnamese family / middle / given name lists by a hash of the uid, so
  adding a commune never renames an existing official;
- ``uidNumber = 100000 + 1000 * unit_number + index`` and ``gidNumber = 100000 + 1000 * unit_number``
  where ``unit_number`` is the department's position in the model (1..99) or ``100 + slot`` for a
  district or commune (the allocation ledger's slot never changes when a commune is added);
- lab passwords are never stored: ``lab_password(seed, uid)`` recomputes them (HMAC-SHA256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from egov.errors import EgovError
from egov.model.province import Province

UID_NUMBER_BASE = 100_000
UNIT_SPAN = 1000              # uidNumbers per unit: at most 999 officials (uid has 3 digits)
MAX_DEPARTMENTS = 99          # department unit numbers 1..99, sites 100 + slot
MAX_PER_UNIT = UNIT_SPAN - 1

FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "Trương", "Lâm", "Thạch", "Sơn", "Danh", "Kim", "Triệu", "Tô", "Lưu", "Quách", "Châu",
    "Mai", "Đinh", "Tạ", "Cao", "Trịnh", "La",
)
MIDDLE_NAMES = {
    "m": ("Văn", "Hữu", "Minh", "Quốc", "Thanh", "Công", "Đức", "Hoàng", "Tấn", "Thành", "Phước", "Chí"),
    "f": ("Thị", "Ngọc", "Thanh", "Kim", "Thu", "Mỹ", "Hồng", "Bích", "Phương", "Diệu", "Thúy", "Cẩm"),
}
GIVEN_NAMES = {
    "m": ("An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hòa", "Hùng", "Huy", "Khánh", "Khoa", "Lâm",
          "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phát", "Phong", "Phúc", "Quang", "Sang", "Sơn", "Tài",
          "Tâm", "Thắng", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Việt", "Vinh", "Khải", "Nhân"),
    "f": ("Anh", "Châu", "Diễm", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Lan",
          "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phượng", "Quyên", "Thảo", "Thu",
          "Thủy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Xuân", "Yến", "Ánh", "Nhi", "Thư", "Tiên"),
}
# (head, deputy) titles by the first word(s) of a department's name; communes and districts: UBND
DEPARTMENT_TITLES = (
    ("Sở", "Giám đốc", "Phó Giám đốc"),
    ("Ban", "Trưởng ban", "Phó Trưởng ban"),
    ("Văn phòng", "Chánh Văn phòng", "Phó Chánh Văn phòng"),
    ("Thanh tra", "Chánh Thanh tra", "Phó Chánh Thanh tra"),
)
STAFF_TITLE = {"department": "Chuyên viên", "district": "Chuyên viên", "commune": "Công chức"}
DEPUTIES = {"department": 2, "district": 2, "commune": 1}
OBJECT_CLASSES = ("top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount")


class DirectoryError(EgovError, ValueError):
    """The model cannot be turned into a directory (names the unit and the problem)."""


@dataclass(frozen=True)
class Unit:
    """A department, district or commune OU."""

    kind: str                 # department | district | commune
    slug: str                 # department code or site slug
    code: str                 # department code or GSO code
    name: str                 # Vietnamese name
    number: int               # stable unit number (uidNumber block)
    officials: int
    dn: str
    district_name: str        # for communes and districts; "" for departments

    @property
    def gid_number(self) -> int:
        return UID_NUMBER_BASE + UNIT_SPAN * self.number


@dataclass(frozen=True)
class Official:
    uid: str
    dn: str
    unit: Unit
    index: int
    cn: str
    sn: str
    given_name: str
    title: str
    mail: str
    uid_number: int
    gid_number: int
    employee_number: str

    @property
    def home_directory(self) -> str:
        return f"/home/{self.uid}"


@dataclass(frozen=True)
class Directory:
    base_dn: str
    domain: str
    units: tuple[Unit, ...]
    officials: tuple[Official, ...]

    @property
    def people_dn(self) -> str:
        return f"ou=people,{self.base_dn}"

    def containers(self) -> list[tuple[str, str, str]]:
        """(dn, ou, description) of the fixed OUs above the units, parents first."""
        people = self.people_dn
        return [
            (people, "people", "Cán bộ, công chức (officials of the province)"),
            (f"ou=departments,{people}", "departments", "Sở, ban, ngành (departments)"),
            (f"ou=districts,{people}", "districts", "Huyện, thị xã, thành phố và xã, phường, thị trấn"),
        ]

    def by_unit(self) -> dict[str, list[Official]]:
        result: dict[str, list[Official]] = {u.slug: [] for u in self.units}
        for official in self.officials:
            result[official.unit.slug].append(official)
        return result

    def official(self, uid: str) -> Official:
        for official in self.officials:
            if official.uid == uid:
                return official
        raise KeyError(uid)


def base_dn_for(domain: str) -> str:
    """'soctrang.gov.vn' -> 'dc=soctrang,dc=gov,dc=vn' (the contract's egov_ldap_base_dn)."""
    return ",".join(f"dc={label}" for label in domain.split("."))


def _pick(digest: bytes, offset: int, choices: tuple[str, ...]) -> str:
    return choices[int.from_bytes(digest[offset:offset + 2], "big") % len(choices)]


def synthetic_name(uid: str) -> tuple[str, str, str]:
    """(family, middle, given) for a uid: deterministic, independent of every other official."""
    digest = hashlib.sha256(f"egov-official-name:{uid}".encode()).digest()
    gender = "f" if digest[0] & 1 else "m"
    return _pick(digest, 1, FAMILY_NAMES), _pick(digest, 3, MIDDLE_NAMES[gender]), _pick(digest, 5,
                                                                                        GIVEN_NAMES[gender])


def _titles(unit: Unit) -> tuple[str, str]:
    if unit.kind == "department":
        for prefix, head, deputy in DEPARTMENT_TITLES:
            if unit.name.startswith(prefix + " "):
                return head, deputy
        return "Thủ trưởng", "Phó Thủ trưởng"
    return "Chủ tịch UBND", "Phó Chủ tịch UBND"


def title_for(unit: Unit, index: int) -> str:
    head, deputy = _titles(unit)
    if index == 1:
        return head
    if index <= 1 + DEPUTIES[unit.kind]:
        return deputy
    return STAFF_TITLE[unit.kind]


def _units(province: Province, base_dn: str) -> list[Unit]:
    people = f"ou=people,{base_dn}"
    if len(province.departments) > MAX_DEPARTMENTS:
        raise DirectoryError(f"departments: {len(province.departments)} departments, at most {MAX_DEPARTMENTS} fit "
                             "the uidNumber plan")
    units = [Unit("department", d.code, d.code, d.name, i, d.officials, f"ou={d.code},ou=departments,{people}", "")
             for i, d in enumerate(province.departments, start=1)]
    districts = {d.code: d for d in province.districts}
    for district in province.districts:
        units.append(Unit("district", district.slug, district.code, district.name, 100 + district.slot,
                          district.officials, f"ou={district.slug},ou=districts,{people}", district.name))
    for commune in province.communes:
        parent = districts[commune.district_code]
        units.append(Unit("commune", commune.slug, commune.code, commune.name, 100 + commune.slot, commune.officials,
                          f"ou={commune.slug},ou={parent.slug},ou=districts,{people}", parent.name))
    for unit in units:
        if not 1 <= unit.officials <= MAX_PER_UNIT:
            raise DirectoryError(f"{unit.kind} {unit.slug}: {unit.officials} officials, the uid scheme "
                                 f"<unit>.<nnn> allows 1..{MAX_PER_UNIT}")
    return units


def build_directory(province: Province, base_dn: str | None = None, minimum: int | None = None) -> Directory:
    """The directory tree of the model; fails when it holds fewer officials than the plan's mailboxes."""
    base_dn = base_dn or base_dn_for(province.domain)
    units = _units(province, base_dn)
    officials: list[Official] = []
    for unit in units:
        for index in range(1, unit.officials + 1):
            uid = f"{unit.slug}.{index:03d}"
            family, middle, given = synthetic_name(uid)
            uid_number = unit.gid_number + index
            officials.append(Official(
                uid=uid, dn=f"uid={uid},{unit.dn}", unit=unit, index=index, cn=f"{family} {middle} {given}",
                sn=family, given_name=given, title=title_for(unit, index), mail=f"{uid}@{province.domain}",
                uid_number=uid_number, gid_number=unit.gid_number, employee_number=f"{province.code}-{uid_number}"))
    plan = province.source.facts.baseline_2016.mailboxes if minimum is None else minimum
    if len(officials) < plan:
        raise DirectoryError(f"staffing: the directory would hold {len(officials)} officials, fewer than the "
                             f"plan's {plan} mailboxes")
    uids = [o.uid for o in officials]
    if len(set(uids)) != len(uids):
        raise DirectoryError("officials: duplicate uids (two units share a slug)")
    return Directory(base_dn=base_dn, domain=province.domain, units=tuple(units), officials=tuple(officials))


# -- passwords ------------------------------------------------------------------------------------
def lab_password(seed: str, uid: str) -> str:
    """An official's lab password: HMAC-SHA256(seed, uid), URL-safe base64 without padding (43 chars)."""
    mac = hmac.new(seed.encode(), uid.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def ssha(password: str, salt: bytes) -> str:
    """RFC 2307 style {SSHA}: base64(SHA1(password + salt) + salt), what slapd verifies."""
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def lab_password_hash(seed: str, uid: str) -> str:
    """{SSHA} of lab_password with a salt derived from the seed and uid: identical on every run."""
    salt = hmac.new(seed.encode(), f"salt:{uid}".encode(), hashlib.sha256).digest()[:8]
    return ssha(lab_password(seed, uid), salt)


def secret_hash(name: str, secret: str) -> str:
    """{SSHA} of a service secret with a salt derived from the secret and its name (stable on re-runs)."""
    salt = hmac.new(secret.encode(), f"salt:{name}".encode(), hashlib.sha256).digest()[:8]
    return ssha(secret, salt)


def check_ssha(password: str, hashed: str) -> bool:
    raw = base64.b64decode(hashed.removeprefix("{SSHA}"))
    digest, salt = raw[:20], raw[20:]
    return hmac.compare_digest(hashlib.sha1(password.encode() + salt).digest(), digest)


# -- LDIF (RFC 2849) -------------------------------------------------------------------------------
def _safe(value: str) -> bool:
    if not value:
        return True
    if value[0] in " :<" or value[-1] == " ":
        return False
    return all(0x01 <= ord(ch) <= 0x7F and ch not in "\r\n" for ch in value)


def ldif_line(attr: str, value: str) -> str:
    if _safe(value):
        return f"{attr}: {value}"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}"


def _fold(line: str, width: int = 76) -> Iterator[str]:
    yield line[:width]
    for start in range(width, len(line), width - 1):
        yield " " + line[start:start + width - 1]


def ldif_record(dn: str, attrs: Iterable[tuple[str, str]]) -> str:
    lines = [ldif_line("dn", dn), *(ldif_line(a, v) for a, v in attrs)]
    return "\n".join(folded for line in lines for folded in _fold(line)) + "\n"


def unit_attrs(unit: Unit) -> list[tuple[str, str]]:
    attrs = [("objectClass", "top"), ("objectClass", "organizationalUnit"), ("ou", unit.slug),
             ("description", unit.name), ("businessCategory", unit.kind)]
    if unit.kind != "department":
        attrs.append(("l", unit.district_name))
    return attrs


def official_attrs(official: Official, seed: str | None) -> list[tuple[str, str]]:
    attrs = [*(("objectClass", oc) for oc in OBJECT_CLASSES),
             ("uid", official.uid), ("cn", official.cn), ("sn", official.sn), ("givenName", official.given_name),
             ("displayName", official.cn), ("mail", official.mail), ("title", official.title),
             ("ou", official.unit.name), ("departmentNumber", official.unit.slug),
             ("employeeNumber", official.employee_number), ("employeeType", official.unit.kind),
             ("uidNumber", str(official.uid_number)), ("gidNumber", str(official.gid_number)),
             ("homeDirectory", official.home_directory), ("loginShell", "/usr/sbin/nologin")]
    if seed is not None:
        attrs.append(("userPassword", lab_password_hash(seed, official.uid)))
    return attrs


def render_ldif(directory: Directory, seed: str | None = None) -> str:
    """The LDIF of the people tree (parents before children). With a seed, lab {SSHA} passwords."""
    records = ["# GENERATED by `egov directory ldif` from the province model. Do not edit.\n"
               f"# {len(directory.units)} units, {len(directory.officials)} officials\n"]
    for dn, ou, description in directory.containers():
        records.append(ldif_record(dn, [("objectClass", "top"), ("objectClass", "organizationalUnit"), ("ou", ou),
                                        ("description", description)]))
    by_unit = directory.by_unit()
    for unit in directory.units:
        records.append(ldif_record(unit.dn, unit_attrs(unit)))
        records.extend(ldif_record(o.dn, official_attrs(o, seed)) for o in by_unit[unit.slug])
    return "\n".join(records)


def parse_ldif(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Parse content records of an LDIF file (folding, comments, base64 values): [(dn, [(attr, value)])]."""
    records: list[tuple[str, list[tuple[str, str]]]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines: list[str] = []
        for raw in block.split("\n"):
            if raw.startswith(" ") and lines:
                lines[-1] += raw[1:]
            elif raw and not raw.startswith("#"):
                lines.append(raw)
        if not lines:
            continue
        pairs: list[tuple[str, str]] = []
        for line in lines:
            attr, sep, rest = line.partition(":")
            if not sep or not attr:
                raise ValueError(f"bad LDIF line {line!r}")
            if rest.startswith(":"):
                value = base64.b64decode(rest[1:].strip(), validate=True).decode()
            else:
                value = rest[1:] if rest.startswith(" ") else rest
                if not _safe(value):
                    raise ValueError(f"value of {attr} must be base64-encoded: {value!r}")
            pairs.append((attr, value))
        if pairs[0][0] != "dn":
            raise ValueError(f"record does not start with dn: {pairs[0]!r}")
        records.append((pairs[0][1], pairs[1:]))
    return records
