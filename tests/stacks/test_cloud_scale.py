"""Scale: the whole province (120 sites in every site-sourced rule) with every HA service doubled to 4 hosts."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from egov.cloud.mocked_run import run_mocked
from egov.cloud.policy_run import run_policies
from egov.cloud.stack_config import read_policy_config
from egov.model import DEFAULT_MODEL, Province, load_province

HA_HOSTS = 4


def _scaled_province(tmp_path: Path) -> Province:
    data = yaml.safe_load(DEFAULT_MODEL.read_text(encoding="utf-8"))
    for key in ("admin_units_file", "procedures_file"):
        data["province"][key] = str(DEFAULT_MODEL.parent / data["province"][key])
    for service in data["services"].values():
        if service["hosts"] > 1:
            service["hosts"] = HA_HOSTS
    model = tmp_path / "province.yml"
    model.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_province(model, allocations=DEFAULT_MODEL.parent / "allocations.yml")


def test_whole_province_at_double_ha_scale(tmp_path: Path, province: Province) -> None:
    scaled = _scaled_province(tmp_path)
    ha_services = [name for name, s in province.source.services.items() if s.hosts > 1]
    assert len(scaled.dc_hosts) == len(province.dc_hosts) + len(ha_services) * (HA_HOSTS - 2)

    started = time.monotonic()
    stack = run_mocked(scaled, "prod", overrides={"sanCapacityTb": 60})
    elapsed = time.monotonic() - started

    instances = stack.of_type("openstack:compute/instance:Instance")
    assert len(instances) == len(scaled.cloud_hosts)
    mail_hints = {r.state["schedulerHints"][0]["group"] for r in instances if r.name.startswith("mail-")}
    assert mail_hints == {"servergroup/sgrp-mail"}
    assert len(stack.named("ag-sites").state["addresses"]) == len(scaled.sites) == 120
    assert len(stack.named("ag-site-video-conference").state["addresses"]) == 120
    members = stack.of_type("openstack:loadbalancer/member:Member")
    assert len(members) == HA_HOSTS * 4     # portal 80 + 443, webmail 443, oss 443

    config = read_policy_config("prod")
    config["san-capacity"] = {"capacityGb": 60000}
    assert run_policies(stack, config) == []
    assert elapsed < 30, f"mocked run of {len(stack.resources)} resources took {elapsed:.1f} s"
