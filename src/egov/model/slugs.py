"""ASCII slugs for Vietnamese unit names, usable as hostname labels and DNS names."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8"}
TYPE_PREFIXES = ("Thành phố", "Thị trấn", "Thị xã", "Huyện", "Quận", "Phường", "Xã")


def ascii_fold(text: str) -> str:
    """'Hòa Tú Đông' -> 'Hoa Tu Dong' (đ/Đ handled: NFD does not decompose them)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def slugify(text: str) -> str:
    words = re.split(r"[^a-z0-9]+", ascii_fold(text).lower())
    words = [ROMAN.get(word, word) for word in words if word]
    return "-".join(words)


def strip_type(name: str, unit_type: str) -> str:
    """'Xã Hòa Tú II' with type 'Xã' -> 'Hòa Tú II'."""
    for prefix in (unit_type, *TYPE_PREFIXES):
        if name.startswith(prefix + " "):
            return name[len(prefix) + 1 :].strip()
    return name


@dataclass(frozen=True)
class SlugRequest:
    key: str             # unique key, e.g. the GSO code
    name: str            # official name with type prefix
    unit_type: str       # GSO type (Xã, Phường, Thị trấn, Huyện ...)
    parent_slug: str = ""  # district slug for communes


def assign_slugs(districts: Sequence[SlugRequest], communes: Sequence[SlugRequest]) -> dict[str, str]:
    """Unique slugs for every district and commune, by a fixed, documented rule.

    1. the name without its type word, folded to ASCII, roman numerals as digits
       ("Xã Hòa Tú II" -> "hoa-tu-2");
    2. districts keep that base when it is unique among districts, else get their type word;
    3. a commune gets its type word in front when its base is only a number ("Phường 1" ->
       "phuong-1") or is also the base of another unit (a district or a commune:
       "Thị trấn Long Phú" -> "thi-tran-long-phu");
    4. if that is still shared, the district slug is appended ("phuong-1-vinh-chau").
    """
    result: dict[str, str] = {}
    district_base = {d.key: slugify(strip_type(d.name, d.unit_type)) for d in districts}
    counts = Counter(district_base.values())
    for d in districts:
        base = district_base[d.key]
        result[d.key] = base if counts[base] == 1 else slugify(d.name)

    commune_base = {c.key: slugify(strip_type(c.name, c.unit_type)) for c in communes}
    all_bases = Counter(commune_base.values()) + Counter(district_base.values())
    first: dict[str, str] = {}
    for c in communes:
        base = commune_base[c.key]
        if base.replace("-", "").isdigit() or all_bases[base] > 1:
            base = f"{slugify(c.unit_type)}-{base}"
        first[c.key] = base
    taken = Counter(first.values()) + Counter(result.values())
    for c in communes:
        slug = first[c.key]
        result[c.key] = slug if taken[slug] == 1 else f"{slug}-{c.parent_slug}"
    return result
