"""Run-time paths and switches of the tooling, in one place.

Every path the tooling and the tests use on the controller outside the repository, and every
environment switch they honour, is read here (at call time, so a changed environment counts):

- ``EGOV_LAB_STATE``: the lab state directory (default ``/var/lib/egov-lab``): the lab's SSH key and
  known_hosts (``ssh/``), the lab CA's public files (``ca/``), the run-time secrets (``secrets/``),
  ``nodes.json`` and ``up-hosts``;
- ``EGOV_SECRETS_DIR``: the run-time secrets of production (default ``/etc/egov/secrets``); the lab's
  are always ``<lab state>/secrets``;
- ``EGOV_LAB_CONVERGED=1``: the lab is already converged (``make lab-test`` ran ``playbooks/site.yml``
  on its hosts, or molecule's verify step follows its converge): the lab tests skip their own converge.

The Ansible side gets the lab state directory from one variable, ``egov_lab_state_dir`` of the lab
inventory (``inventories/lab/group_vars/all/connection.yml``, generated from ``DEFAULT_LAB_STATE``).
"""

from __future__ import annotations

import os
from pathlib import Path

LAB_STATE_ENV = "EGOV_LAB_STATE"
SECRETS_ENV = "EGOV_SECRETS_DIR"
LAB_CONVERGED_ENV = "EGOV_LAB_CONVERGED"

DEFAULT_LAB_STATE = Path("/var/lib/egov-lab")
DEFAULT_PRODUCTION_SECRETS = Path("/etc/egov/secrets")


def lab_state_dir() -> Path:
    """The lab state directory: $EGOV_LAB_STATE, else /var/lib/egov-lab."""
    return Path(os.environ.get(LAB_STATE_ENV) or DEFAULT_LAB_STATE)


def lab_ssh_dir() -> Path:
    """The lab's SSH material: the controller key (id_ed25519), known_hosts, the admins' keys."""
    return lab_state_dir() / "ssh"


def lab_ssh_key() -> Path:
    return lab_ssh_dir() / "id_ed25519"


def lab_known_hosts() -> Path:
    return lab_ssh_dir() / "known_hosts"


def lab_ca_dir() -> Path:
    """The lab CA's public files (chain, root) on the controller."""
    return lab_state_dir() / "ca"


def lab_nodes_file() -> Path:
    """nodes.json: the lab nodes `egov lab up` made (kind, address)."""
    return lab_state_dir() / "nodes.json"


def lab_up_hosts() -> Path:
    """up-hosts: the lab hosts, one a line, for `ansible --limit @file`."""
    return lab_state_dir() / "up-hosts"


def secrets_dir(environment: str = "lab") -> Path:
    """The run-time secrets on the controller: <lab state>/secrets, or $EGOV_SECRETS_DIR in production."""
    if environment == "lab":
        return lab_state_dir() / "secrets"
    return Path(os.environ.get(SECRETS_ENV) or DEFAULT_PRODUCTION_SECRETS)


def lab_converged() -> bool:
    """EGOV_LAB_CONVERGED=1: the lab hosts are converged already; lab tests skip their own converge."""
    return os.environ.get(LAB_CONVERGED_ENV) == "1"
