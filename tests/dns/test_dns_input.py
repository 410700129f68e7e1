"""Bad input to the dns role fails early with a message naming the variable (no lab host needed:
the assertions run on the controller before any task reaches a host)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import REPO

CASES = {
    "reverse prefix /20": ({"dns_reverse_networks": ["10.94.2.0/20"]}, "dns_reverse_networks: '10.94.2.0/20'"),
    "recursion in the lab": ({"dns_recursion": True}, "recursion must stay off in the lab"),
    "forwarder not an address": ({"dns_forwarders": ["dns.google"]}, "forwarders must be IPv4 addresses"),
    "service name to no group": ({"dns_service_names": {"www": "no_such_group"}},
                                 "dns_service_names['www'] = 'no_such_group' is not an inventory group"),
    "bad DKIM selector": ({"dns_dkim_selector": "Bad_Selector"}, "dns_dkim_selector a DNS label ('Bad_Selector')"),
}


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook missing: run `make deps`")
@pytest.mark.parametrize(("extra", "message"), CASES.values(), ids=list(CASES))
def test_bad_input_is_refused_with_the_variable_named(extra: dict[str, object], message: str) -> None:
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/lab", "playbooks/dns.yml", "--limit", "dns-01",
         "--tags", "assert_only_run", "-e", json.dumps(extra)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr, proc.stdout[-3000:]


def test_good_input_passes_the_assertions() -> None:
    if shutil.which("ansible-playbook") is None:
        pytest.skip("ansible-playbook missing: run `make deps`")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/lab", "playbooks/dns.yml", "--limit", "dns-01",
         "--tags", "assert_only_run"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "failed=0" in proc.stdout
