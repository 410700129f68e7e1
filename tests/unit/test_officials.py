"""The directory of officials derived from the model (egov.model.officials, egov directory)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from egov.cli import main
from egov.model import Province, load_province
from egov.model.officials import (
    Directory,
    DirectoryError,
    build_directory,
    check_ssha,
    lab_password,
    lab_password_hash,
    parse_ldif,
    render_ldif,
)
from tests.conftest import MODEL_DIR

BASE = "dc=soctrang,dc=gov,dc=vn"
UID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.\d{3}$")


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province(MODEL_DIR / "province.yml")


@pytest.fixture(scope="module")
def tree(province: Province) -> Directory:
    return build_directory(province)


def test_one_ou_per_department_district_and_commune(province: Province, tree: Directory) -> None:
    kinds = Counter(u.kind for u in tree.units)
    assert kinds == {"department": 20, "district": 11, "commune": 109}
    assert {u.slug for u in tree.units if u.kind == "department"} == {d.code for d in province.departments}
    assert {u.slug for u in tree.units if u.kind != "department"} == {s.slug for s in province.sites}
    assert len({u.dn for u in tree.units}) == len(tree.units) == 140


def test_dns_follow_the_contract(province: Province, tree: Directory) -> None:
    assert tree.base_dn == BASE
    snv = next(u for u in tree.units if u.slug == "snv")
    assert snv.dn == f"ou=snv,ou=departments,ou=people,{BASE}"
    commune = province.communes[0]
    district = next(d for d in province.districts if d.code == commune.district_code)
    unit = next(u for u in tree.units if u.slug == commune.slug)
    assert unit.dn == f"ou={commune.slug},ou={district.slug},ou=districts,ou=people,{BASE}"
    official = tree.official(f"{commune.slug}.001")
    assert official.dn == f"uid={commune.slug}.001,{unit.dn}"
    assert official.mail == f"{commune.slug}.001@soctrang.gov.vn"


def test_officials_per_unit_match_the_staffing(province: Province, tree: Directory) -> None:
    per_unit = Counter(o.unit.slug for o in tree.officials)
    for department in province.departments:
        assert per_unit[department.code] == department.officials == 95
    for site in province.sites:
        assert per_unit[site.slug] == site.officials
    assert len(tree.officials) == province.total_officials == 3544
    assert len(tree.officials) >= province.source.facts.baseline_2016.mailboxes == 3445


def test_uids_and_numbers_are_unique_and_well_formed(tree: Directory) -> None:
    uids = [o.uid for o in tree.officials]
    assert len(set(uids)) == len(uids)
    assert all(UID_RE.match(uid) for uid in uids), [u for u in uids if not UID_RE.match(u)][:5]
    assert len({o.uid_number for o in tree.officials}) == len(uids)
    assert len({o.employee_number for o in tree.officials}) == len(uids)
    assert len({o.mail for o in tree.officials}) == len(uids)
    assert len({u.gid_number for u in tree.units}) == len(tree.units)
    for official in tree.officials:
        assert official.uid.endswith(f".{official.index:03d}")
        assert official.uid_number == official.gid_number + official.index
        assert 100_000 < official.uid_number < 2**31


def test_names_are_vietnamese_and_deterministic(province: Province, tree: Directory) -> None:
    again = build_directory(province)
    assert [(o.cn, o.title) for o in again.officials] == [(o.cn, o.title) for o in tree.officials]
    official = tree.official("snv.001")
    assert official.cn == f"{official.sn} {official.cn.split()[1]} {official.given_name}"
    assert official.title == "Giám đốc" and tree.official("snv.002").title == "Phó Giám đốc"
    assert tree.official("vpubnd.001").title == "Chánh Văn phòng"
    assert any(not o.cn.isascii() for o in tree.officials)          # diacritics kept (UTF-8)
    assert len({o.cn for o in tree.officials}) > 1000               # not one name repeated
    middles = Counter(o.cn.split()[1] for o in tree.officials)
    assert middles["Thị"] > 100 and middles["Văn"] > 100                  # women and men


def test_adding_a_commune_keeps_every_existing_official(model_copy: Path, edit_gso: Callable[..., Any],
                                                        tree: Directory) -> None:
    edit_gso(model_copy, lambda d: d["level2s"][0]["level3s"].insert(0, {
        "level3_id": "31499", "name": "Xã Mới Thành Lập", "type": "Xã"}))
    after = build_directory(load_province(model_copy / "province.yml"))
    old = {o.uid: o for o in tree.officials}
    new = {o.uid: o for o in after.officials}
    assert set(new) - set(old) == {f"moi-thanh-lap.{i:03d}" for i in range(1, 7)}
    assert all(new[uid] == old_official for uid, old_official in old.items())
    assert len(after.units) == 141


def test_site_override_changes_only_that_unit(model_copy: Path, edit_yaml: Callable[..., Any],
                                              tree: Directory) -> None:
    edit_yaml(model_copy / "province.yml",
              lambda d: d["site_overrides"].update({"31498": {"district": "941", "officials": 8}}))
    province = load_province(model_copy / "province.yml")
    after = build_directory(province)
    slug = province.site("31498").slug
    assert Counter(o.unit.slug for o in after.officials)[slug] == 8
    assert len(after.officials) == len(tree.officials) + 2


def test_too_few_officials_is_a_clear_error(province: Province) -> None:
    with pytest.raises(DirectoryError, match=r"3544 officials, fewer than the plan's 5000 mailboxes"):
        build_directory(province, minimum=5000)


def test_lab_password_is_an_hmac_of_the_uid() -> None:
    password = lab_password("seed", "snv.001")
    assert password == lab_password("seed", "snv.001")
    assert password != lab_password("seed", "snv.002") != lab_password("other", "snv.001")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", password)
    hashed = lab_password_hash("seed", "snv.001")
    assert hashed == lab_password_hash("seed", "snv.001") and hashed.startswith("{SSHA}")
    assert check_ssha(password, hashed)
    assert not check_ssha(password + "x", hashed)


def test_ldif_is_valid_and_complete(tree: Directory) -> None:
    text = render_ldif(tree, "seed")
    assert all(len(line) <= 76 and line.isascii() for line in text.splitlines())
    records = parse_ldif(text)
    assert len(records) == 3 + len(tree.units) + len(tree.officials)
    seen: set[str] = set()
    for dn, attrs in records:
        parent = dn.split(",", 1)[1]
        assert parent == BASE or parent in seen, f"{dn}: parent written after the child"
        seen.add(dn)
        rdn_attr, rdn_value = dn.split(",", 1)[0].split("=", 1)
        assert (rdn_attr, rdn_value) in attrs, f"{dn}: RDN value missing from the entry"
        classes = {v for a, v in attrs if a == "objectClass"}
        names = {a for a, _ in attrs}
        if "inetOrgPerson" in classes:
            assert {"posixAccount", "person"} <= classes
            assert {"cn", "sn", "uid", "uidNumber", "gidNumber", "homeDirectory", "mail", "userPassword"} <= names
        else:
            assert classes == {"top", "organizationalUnit"} and "ou" in names
    snv = dict(next(attrs for dn, attrs in records if dn.startswith("uid=snv.001,")))
    official = tree.official("snv.001")
    assert snv["cn"] == official.cn and snv["displayName"] == official.cn and snv["ou"] == "Sở Nội vụ"
    assert check_ssha(lab_password("seed", "snv.001"), snv["userPassword"])


def test_ldif_without_seed_has_no_passwords(tree: Directory) -> None:
    assert "userPassword" not in render_ldif(tree)


def test_parse_ldif_rejects_raw_utf8() -> None:
    with pytest.raises(ValueError, match="must be base64-encoded"):
        parse_ldif("dn: ou=x\ndescription: Sở\n")


def test_cli_writes_the_ldif_once(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.write_text("s3cret\n")
    out = tmp_path / "people.ldif"
    runner = CliRunner()
    first = runner.invoke(main, ["directory", "ldif", "--out", str(out), "--seed-file", str(seed)])
    assert first.exit_code == 0, first.output
    assert "written" in first.output and "140 units, 3544 officials" in first.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    second = runner.invoke(main, ["directory", "ldif", "--out", str(out), "--seed-file", str(seed)])
    assert "unchanged" in second.output
    pw = runner.invoke(main, ["directory", "password", "snv.001", "--seed-file", str(seed)])
    assert pw.output.strip() == lab_password("s3cret", "snv.001")
    seed.write_text("")
    empty = runner.invoke(main, ["directory", "ldif", "--out", str(out), "--seed-file", str(seed)])
    assert empty.exit_code == 2 and "is empty" in empty.output
