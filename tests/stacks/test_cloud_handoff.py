"""The hand-off to Ansible, from a recorded `pulumi stack output --json` of prod."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from egov.cloud.cli import cloud
from egov.cloud.handoff import HandoffError, handoff
from egov.model import Province

RECORDED = Path(__file__).with_name("recorded-prod-outputs.json")


def test_recorded_outputs_become_the_inventory_connection_data(province: Province, tmp_path: Path) -> None:
    out = tmp_path / "inventories" / "production" / "90-cloud-handoff.yml"
    handoff(RECORDED, province, out)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    hosts = data["all"]["hosts"]
    assert {name: entry["ansible_host"] for name, entry in hosts.items()} == {h.name: str(h.address)
                                                                             for h in province.cloud_hosts}
    assert hosts["mail-01"]["cloud_floating_ip"].startswith("203.0.113.")
    assert "cloud_floating_ip" not in hosts["bastion-01"]
    assert hosts["backup-01"]["cloud_segment"] == "storage"
    # the portal VIP has the address of its lab stand-in (portal-lb-01), which the DNS names point at
    stand_in = next(h for h in province.dc_hosts if h.service == "portal_lb")
    assert data["all"]["vars"]["cloud_load_balancers"]["portal"]["vip_address"] == str(stand_in.address)
    assert stand_in.name not in hosts
    oss = next(h for h in province.dc_hosts if h.service == "oss_lb")
    assert data["all"]["vars"]["cloud_load_balancers"]["oss"]["vip_address"] == str(oss.address)
    assert oss.name not in hosts and "cloud_floating_ip" not in hosts["oss-app-01"]
    text = out.read_text(encoding="utf-8")
    assert "[secret]" not in text and "password" not in text


def test_cli_handoff_writes_the_file(province: Province, tmp_path: Path) -> None:
    out = tmp_path / "90-cloud-handoff.yml"
    result = CliRunner().invoke(cloud, ["handoff", "--outputs", str(RECORDED), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # every DC host but the lab's stand-in balancers; 6 public: 2 mail, 2 sso, 2 lgsp (the portal and the
    # one-stop-shop are published by their balancers only)
    assert f"{len(province.cloud_hosts)} hosts (6 with a floating IP)" in result.output
    assert len(province.cloud_hosts) == len(province.dc_hosts) - len(province.lab_stand_ins)
    assert province.lab_stand_ins == {"portal_lb", "oss_lb"}
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["all"]["hosts"]["dns-02"]["ansible_host"] == "10.94.2.13"


def _spoiled(tmp_path: Path, change: str) -> Path:
    data = json.loads(RECORDED.read_text(encoding="utf-8"))
    if change == "no-hosts":
        del data["hosts"]
    elif change == "bad-ip":
        data["hosts"]["mail-01"]["address"] = "10.94.1.300"
    elif change == "unknown-host":
        data["hosts"]["mail-09"] = dict(data["hosts"]["mail-01"])
    elif change == "drift":
        data["hosts"]["dns-01"]["address"] = "10.94.2.99"
    elif change == "missing-host":
        del data["hosts"]["pki-01"]
    elif change == "bad-floating":
        data["hosts"]["sso-01"]["floating_ip"] = "[secret]"
    path = tmp_path / f"{change}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "key", "message"), [
    ("no-hosts", "hosts", "missing or empty"),
    ("bad-ip", "hosts.mail-01.address", "'10.94.1.300' is not an IPv4 address"),
    ("unknown-host", "hosts.mail-09", "is not a DC host of the province model"),
    ("drift", "hosts.dns-01.address", "10.94.2.99 differs from the model's 10.94.2.12"),
    ("missing-host", "hosts", "lacks the model's DC hosts pki-01"),
    ("bad-floating", "hosts.sso-01.floating_ip", "'[secret]' is not an IPv4 address"),
])
def test_bad_outputs_name_file_and_key(change: str, key: str, message: str, province: Province,
                                       tmp_path: Path) -> None:
    source = _spoiled(tmp_path, change)
    with pytest.raises(HandoffError) as caught:
        handoff(source, province, tmp_path / "out.yml")
    assert caught.value.key == key
    assert str(caught.value) == f"{source}: {key}: {message}" or message in str(caught.value)
    assert str(source) in str(caught.value)
    assert not (tmp_path / "out.yml").exists()


@pytest.mark.parametrize(("content", "message"), [("{not json", "not JSON (line 1)"),
                                                  ("[1, 2]", "expected an object of stack outputs")])
def test_unreadable_outputs_are_reported(content: str, message: str, tmp_path: Path) -> None:
    source = tmp_path / "outputs.json"
    source.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cloud, ["handoff", "--outputs", str(source), "--out", str(tmp_path / "o.yml")])
    assert result.exit_code == 2   # a HandoffError (EgovError): "could not do what was asked"
    assert str(source) in result.output and message in result.output


def test_missing_outputs_file_says_how_to_make_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cloud, ["handoff", "--outputs", str(tmp_path / "none.json")])
    assert result.exit_code == 2   # a HandoffError (EgovError): "could not do what was asked"
    assert "pulumi stack output --json" in result.output
