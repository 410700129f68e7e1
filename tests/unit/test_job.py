"""The main job's verification covers what playbooks/site.yml builds, derived from its plays."""

from __future__ import annotations

from pathlib import Path

import yaml

from egov.job import built_services, main_steps


def test_the_built_services_are_the_groups_site_yml_targets() -> None:
    services = built_services()
    assert {"mail", "portal_web", "portal_arb", "logs", "dns", "oss_app", "oss_lb", "lgsp", "vc_mcu"} <= set(services)
    assert "bastion" not in services and "mirror" not in services      # no play of their own: baseline only


def test_a_new_play_adds_its_service(tmp_path: Path) -> None:
    (tmp_path / "oss.yml").write_text(yaml.safe_dump([{"name": "x", "hosts": "{{ h | default('oss_app:oss_db') }}"}]))
    (tmp_path / "site.yml").write_text(yaml.safe_dump([{"ansible.builtin.import_playbook": "oss.yml"}]))
    assert built_services(tmp_path / "site.yml") == ["oss_app", "oss_db"]


def test_the_verification_steps_record_junit_for_the_report() -> None:
    steps = {s.name: s for s in main_steps([], "inventories/lab")}
    verify = [s for name, s in steps.items() if name.startswith("verify: ")]
    assert len(verify) == 2
    assert all(any(a.startswith("--junitxml=reports/junit/") for a in s.argv) for s in verify)
