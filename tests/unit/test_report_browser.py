"""The audit site in a real browser (issue 17): headless Chromium (tests/browser.py) opens the index
with JavaScript's help nowhere needed, goes to a district, then to one of its communes by their links,
and the pages say what an auditor looks for. Screenshots are kept under reports/site-screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov.model import DEFAULT_MODEL, load_province
from tests import browser
from tests.unit.test_report import _evidence, _generate

pytestmark = pytest.mark.skipif(bool(browser.available()), reason=f"no browser here: {browser.available()}")
SHOTS = Path(__file__).resolve().parents[2] / "reports" / "site-screenshots"


def test_index_to_a_commune_in_two_clicks(tmp_path: Path) -> None:
    province = load_province(DEFAULT_MODEL)
    commune = province.communes[0]
    district = next(d for d in province.districts if d.code == commune.district_code)
    site = tmp_path / "site"
    _generate(province, _evidence(tmp_path / "evidence", province), site)
    result = browser.browse({"screenshots": str(SHOTS), "steps": [
        {"get": (site / "index.html").as_uri()}, {"shot": "index"},
        {"click": district.name}, {"click": commune.name}, {"shot": f"commune-{commune.slug}"}]})
    assert not result["error"], result
    index, district_page, commune_page = result["steps"]
    assert index["h1"] and len(index["links"]) >= len(province.districts), index
    assert district.name in district_page["title"] + district_page["h1"], district_page
    assert commune.name in commune_page["title"] + commune_page["h1"], commune_page      # with its diacritics
    assert len(result["screenshots"]) == 2 and all(Path(p).stat().st_size > 5000 for p in result["screenshots"])
