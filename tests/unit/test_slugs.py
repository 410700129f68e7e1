"""ASCII slugs: diacritics folded, roman numerals, uniqueness across the province."""

from __future__ import annotations

import pytest

from egov.model import load_province
from egov.model.slugs import SlugRequest, ascii_fold, assign_slugs, slugify
from tests.conftest import MODEL_DIR


@pytest.mark.parametrize(("text", "expected"), [
    ("Hòa Tú II", "hoa-tu-2"), ("Đại Ân 1", "dai-an-1"), ("Phong Nẫm", "phong-nam"),
    ("Lịch Hội Thượng", "lich-hoi-thuong"), ("An Thạnh Đông", "an-thanh-dong"), ("Tuân Tức", "tuan-tuc"),
])
def test_slugify(text: str, expected: str) -> None:
    assert slugify(text) == expected


def test_ascii_fold_handles_d_with_stroke() -> None:
    assert ascii_fold("Đ đ Ế ữ") == "D d E u"


def test_numbered_wards_in_several_districts_get_the_district() -> None:
    province = load_province(MODEL_DIR / "province.yml")
    phuong_1 = sorted(s.slug for s in province.communes if s.name == "Phường 1")
    assert phuong_1 == ["phuong-1-nga-nam", "phuong-1-soc-trang", "phuong-1-vinh-chau"]
    assert province.site("31498").slug == "phuong-5"          # only one "Phường 5": no suffix


def test_commune_named_like_its_district_or_sibling_gets_its_type() -> None:
    province = load_province(MODEL_DIR / "province.yml")
    assert province.site("31669").slug == "xa-long-phu"          # Xã Long Phú
    assert province.site("31639").slug == "thi-tran-long-phu"    # Thị trấn Long Phú
    assert province.site("946").slug == "long-phu"               # Huyện Long Phú
    assert province.site("31678").slug == "xa-lich-hoi-thuong"
    assert province.site("31679").slug == "thi-tran-lich-hoi-thuong"


def test_all_slugs_unique_and_dns_safe() -> None:
    province = load_province(MODEL_DIR / "province.yml")
    slugs = [s.slug for s in province.sites]
    assert len(slugs) == len(set(slugs)) == 120
    assert all(s.isascii() and s.replace("-", "").isalnum() and not s.startswith("-") for s in slugs)


def test_assign_slugs_is_deterministic_for_any_order() -> None:
    districts = [SlugRequest("001", "Huyện A", "Huyện"), SlugRequest("002", "Huyện B", "Huyện")]
    communes = [SlugRequest("00011", "Phường 1", "Phường", "a"), SlugRequest("00012", "Phường 1", "Phường", "b")]
    forward = assign_slugs(districts, communes)
    backward = assign_slugs(list(reversed(districts)), list(reversed(communes)))
    assert forward == backward
    assert forward["00011"] == "phuong-1-a" and forward["00012"] == "phuong-1-b"
