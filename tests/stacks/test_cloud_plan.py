"""`egov cloud plan`: the mocked preview reviewers read (text, JSON, Markdown)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from egov.cloud.cli import cloud
from egov.cloud.mocked_run import MockedStack
from egov.cloud.plan import build_plan, short_type, to_markdown
from egov.cloud.policy_run import Violation
from egov.model import Province


def test_plan_for_prod_lists_the_whole_dc(tmp_path: Path, province: Province) -> None:
    result = CliRunner().invoke(cloud, ["plan", "--stack", "prod", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "plan-prod.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in data["resources"]}
    assert {h.name for h in province.cloud_hosts} <= names
    assert data["counts"]["compute.Instance"] == len(province.cloud_hosts)
    assert data["total"] == sum(data["counts"].values()) == len(data["resources"])
    assert data["policies"]["passed"] is True and len(data["policies"]["checked"]) == 7
    assert data["outputs"]["database_admin_passwords"] == "[secret]"
    rows = [(r["type"], r["name"]) for r in data["resources"]]
    assert rows == sorted(rows)
    markdown = (tmp_path / "plan-prod.md").read_text(encoding="utf-8")
    assert f"**{data['total']} resources.**" in markdown
    assert f"| `compute.Instance` | {len(province.cloud_hosts)} |" in markdown
    assert "Counts by type:" in result.output and "Policies: all 7 passed" in result.output
    assert "compute.Instance            mail-01" in result.output


def test_plan_shows_violations(prod: MockedStack) -> None:
    plan = build_plan(prod, ["san-capacity"], [Violation("san-capacity", "", "too | big")])
    assert not plan.passed
    assert "| san-capacity | (stack) | too \\| big |" in to_markdown(plan)


def test_short_type_names() -> None:
    assert short_type("openstack:networking/secGroupRule:SecGroupRule") == "networking.SecGroupRule"
    assert short_type("random:index/randomPassword:RandomPassword") == "random.RandomPassword"
