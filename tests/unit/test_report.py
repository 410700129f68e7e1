"""The audit site (`egov report`, docs/report.md): generated from the real model with a synthetic
evidence directory (no lab), then read back as an auditor would: links, pages, controls."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from egov.model import DEFAULT_MODEL, Province, load_province
from egov.report.collect import collect, parse_baseline_name
from egov.report.context import Context, commune_page, district_page, host_page
from egov.report.controls import load_catalogue
from egov.report.links import broken_links, reachable
from egov.report.markup import table, text
from egov.report.plan import PlanItem, load_plan, missing_paths, unknown_concerns
from egov.report.site import SiteResult, write_site
from tests.conftest import REPO

CATALOGUE = REPO / "controls" / "catalogue.yml"
PLAN = REPO / "docs" / "plan-items.yml"
HOST = "dns-01"

JUNIT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" failures="1" skipped="1">
<testcase classname="tests.baseline.test_ssh" name="test_control[{HOST}-SSH-001]" time="0.2"/>
<testcase classname="tests.baseline.test_ssh" name="test_control[{HOST}-SSH-004]" time="0.3">
<failure message="AssertionError: sshd -T allowgroups = 'users'">assert 'users' == 'sshusers'</failure></testcase>
<testcase classname="tests.baseline.test_sudo" name="test_control[{HOST}-SUDO-004]" time="0.0">
<skipped type="pytest.skip" message="WAIVED SUDO-004: reviewed by the CISO">skipped</skipped></testcase>
<testcase classname="tests.dns.test_dns" name="test_resolves_the_zone" time="1.0"/>
</testsuite></testsuites>
"""


def _evidence(root: Path, province: Province) -> Path:
    (root / "junit").mkdir(parents=True)
    (root / "junit" / "baseline.xml").write_text(JUNIT, encoding="utf-8")
    run = {"started": "20261204T000000Z", "steps": [
        {"name": "model check", "status": "ok", "seconds": 1.0, "detail": "exit 0: egov model check"},
        {"name": "converge roles (playbooks/site.yml)", "status": "failed", "seconds": 9.5, "detail": "exit 2"}]}
    (root / "run-latest.json").write_text(json.dumps(run), encoding="utf-8")
    commune = province.communes[0]
    (root / "network" / "linux").mkdir(parents=True)
    (root / "network" / "linux" / f"{commune.firewall_name}.cfg").write_text("table inet filter {}\n")
    return root


def _generate(province: Province, evidence: Path, out: Path) -> SiteResult:
    controls = load_catalogue(CATALOGUE)
    ctx = Context(province=province, controls=controls, plan=load_plan(PLAN),
                  evidence=collect(evidence, [c.id for c in controls]), repo_root=REPO)
    return write_site(ctx, out)


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def site(province: Province, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    started = time.monotonic()
    result = _generate(province, _evidence(root / "evidence", province), root / "site")
    seconds = time.monotonic() - started
    print(f"audit site: {result.pages} pages in {seconds:.2f} s")
    assert seconds < 10, f"generation took {seconds:.1f} s"
    return result.out


def read(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_the_index_links_every_district(site: Path, province: Province) -> None:
    links = set(hrefs(read(site, "index.html")))
    assert {district_page(d) for d in province.districts} <= links
    assert {"plan.html", "kpi.html", "hosts.html", "search.html"} <= links


def test_every_district_page_links_each_of_its_communes(site: Path, province: Province) -> None:
    for district in province.districts:
        links = {h for h in hrefs(read(site, district_page(district))) if h.startswith("../commune/")}
        expected = {f"../{commune_page(c)}" for c in province.communes_of(district.code)}
        assert links == expected, district.name
        assert len(links) == len(province.communes_of(district.code)) > 0


def test_a_commune_page_shows_its_vietnamese_name_and_subnets(site: Path, province: Province) -> None:
    commune = next(c for c in province.communes if not c.name.isascii())
    html = read(site, commune_page(commune))
    assert f"<h1>{commune.name}</h1>" in html and 'charset="utf-8"' in html
    for vlan in commune.vlans:
        assert f"<td>{vlan.network}</td>" in html
    assert "not built yet" in html        # video-conference endpoint and one-stop-shop tenant


def test_a_rendered_config_shows_its_digest_on_the_commune_page(site: Path, province: Province) -> None:
    digest = hashlib.sha256(b"table inet filter {}\n").hexdigest()
    assert digest in read(site, commune_page(province.communes[0]))
    assert digest not in read(site, commune_page(province.communes[1]))


def _row(html: str, control: str) -> str:
    match = re.search(rf"<tr><td>{control}</td>.*?</tr>", html)
    assert match, f"no row for {control}"
    return match.group(0)


def test_the_failing_control_is_failed_on_its_host_page(site: Path) -> None:
    html = read(site, host_page(HOST))
    assert '<span class="st bad">failed</span>' in _row(html, "SSH-004")
    assert "allowgroups" in _row(html, "SSH-004")
    assert '<span class="st ok">passed</span>' in _row(html, "SSH-001")
    assert '<span class="st warn">waived</span>' in _row(html, "SUDO-004")
    assert "no evidence" in _row(html, "SSH-002")     # not in the run: never shown as passed
    other = read(site, host_page("dns-02"))
    assert "failed</span>" not in _row(other, "SSH-004")


def test_every_link_of_every_page_resolves(site: Path) -> None:
    assert broken_links(site) == []


def test_a_broken_link_is_caught_by_the_same_checker(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    page = next((copy / "commune").glob("*.html"))
    page.write_text(page.read_text(encoding="utf-8").replace(
        "</main>", '<a href="../host/no-such-host.html">x</a><a href="#">y</a><a href="javascript:go()">z</a>'
        '<a href="https://example.org/">w</a></main>'), encoding="utf-8")
    broken = broken_links(copy)
    assert len(broken) == 4, broken
    assert any("no-such-host.html" in b and "no such file" in b for b in broken)


def test_navigation_needs_no_javascript_and_communes_are_two_links_from_the_index(site: Path,
                                                                                  province: Province) -> None:
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'href="#"' not in html and "javascript:" not in html, page
        assert "onclick" not in html, page
    depth = reachable(site)
    assert {str(p.relative_to(site)) for p in site.rglob("*.html")} == set(depth)    # every page reachable
    for commune in province.communes:
        assert depth[commune_page(commune)] <= 2, commune.name


def test_the_search_index_lists_every_commune(site: Path, province: Province) -> None:
    entries = json.loads(read(site, "search-index.json"))
    assert {commune_page(c) for c in province.communes} <= {e["u"] for e in entries}
    assert all((site / e["u"]).is_file() for e in entries)
    assert '<script src="search.js">' in read(site, "search.html")
    assert "<script" not in read(site, "index.html")


def test_absent_evidence_is_said_so(province: Province, tmp_path: Path) -> None:
    out = _generate(province, tmp_path / "no-evidence", tmp_path / "site").out
    assert "no evidence in this run" in read(out, commune_page(province.communes[0]))
    assert "failed</span>" not in read(out, host_page(HOST))
    assert read(out, "run.html").count("no evidence in this run") >= 3


def test_unreadable_evidence_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "junit").mkdir()
    (tmp_path / "junit" / "bad.xml").write_text("<testsuite><testcase")
    (tmp_path / "run-latest.json").write_text("{\"no\": 1}")
    evidence = collect(tmp_path, ["SSH-001"])
    assert evidence.run is None and evidence.tests == []
    assert [p.split(":")[0] for p in evidence.problems] == ["run-latest.json", "junit/bad.xml"]


def test_baseline_test_names_give_host_and_control() -> None:
    ids = ["SSH-001", "AIDE-004"]
    assert parse_baseline_name("tests.baseline.test_ssh", "test_control[fw-my-tu-SSH-001]", ids) == \
        ("fw-my-tu", "SSH-001")
    assert parse_baseline_name("tests.baseline.test_integrity", "test_control[dns-01-AIDE-004]", ids) == \
        ("dns-01", "AIDE-004")
    assert parse_baseline_name("tests.baseline.test_ssh", "test_control[SSH-001]", ids) is None   # no lab: no host
    assert parse_baseline_name("tests.baseline.test_ssh", "test_control[dns-01-XYZ-001]", ids) is None
    assert parse_baseline_name("tests.dns.test_dns", "test_control[dns-01-SSH-001]", ids) is None


def test_text_is_escaped() -> None:
    assert text("<script>&'\"") == "&lt;script&gt;&amp;&#x27;&quot;"
    assert "<script>" not in table(["a"], [["<script>alert(1)</script>"]])
    assert text("Xã Hòa Tú") == "Xã Hòa Tú"


def test_plan_items_name_only_existing_paths() -> None:
    items = load_plan(PLAN)
    assert len(items) >= 12
    assert missing_paths(items, REPO) == []
    assert unknown_concerns(items, {c.concern for c in load_catalogue(CATALOGUE)}) == []


def test_a_fake_plan_path_is_reported() -> None:
    fake = PlanItem(id="9.9", section="IV", title="fake", systems="", targets=(), controls=("no-such-concern",),
                    implemented_by={"roles": ("no_such_role", "base"), "docs": ("docs/no-such.md",)},
                    run_steps=(), gaps="")
    assert missing_paths([fake], REPO) == ["9.9: roles roles/no_such_role does not exist",
                                           "9.9: docs docs/no-such.md does not exist"]
    assert unknown_concerns([fake], {"ssh"}) == ["9.9: control concern no-such-concern is not in the catalogue"]


def test_egov_report_command_writes_the_site(tmp_path: Path) -> None:
    from egov.cli import main

    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "site"), "--evidence-dir",
                                       str(tmp_path / "none")])
    assert result.exit_code == 0, result.output
    assert "pages in" in result.output and (tmp_path / "site" / "index.html").is_file()


def test_egov_report_refuses_an_unreadable_plan(tmp_path: Path) -> None:
    from egov.cli import main

    (tmp_path / "plan.yml").write_text("items: [{title: no id}]\n")
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "site"), "--plan", str(tmp_path / "plan.yml")])
    assert result.exit_code == 2
    assert "error:" in result.output and "needs at least `id` and `title`" in result.output
    assert not (tmp_path / "site").exists()
