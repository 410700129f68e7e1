"""The Ansible side honours $EGOV_LAB_STATE like the tooling (egov.settings): the lab inventory derives
the SSH key, known_hosts and the secrets directory from one variable, egov_lab_state_dir."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from egov import settings
from tests.conftest import REPO

EXPR = "{{ hostvars['dns-01'].ansible_ssh_private_key_file }}|{{ hostvars['dns-01'].ansible_ssh_common_args }}" \
       "|{{ hostvars['dns-01'].egov_secrets_dir }}"


def lab_vars(env: dict[str, str]) -> list[str]:
    proc = subprocess.run(["ansible", "-i", "inventories/lab", "localhost", "-m", "ansible.builtin.debug",
                           "-a", f"msg='{EXPR}'"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != settings.LAB_STATE_ENV} | env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if '"msg"' in x)
    return line.split('"msg": "', 1)[1].rstrip('"').split("|")


@pytest.mark.skipif(shutil.which("ansible") is None, reason="ansible is not installed")
def test_lab_connection_follows_the_lab_state_dir() -> None:
    key, args, secrets = lab_vars({settings.LAB_STATE_ENV: "/srv/other-lab"})
    assert key == "/srv/other-lab/ssh/id_ed25519"
    assert "UserKnownHostsFile=/srv/other-lab/ssh/known_hosts" in args
    assert secrets == "/srv/other-lab/secrets"
    # unset: the default of egov.settings
    key, _, _ = lab_vars({})
    assert key == f"{settings.DEFAULT_LAB_STATE}/ssh/id_ed25519"
