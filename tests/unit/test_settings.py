"""egov.settings: the one place for the lab state dir, the secrets dir and the "already converged" switch."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from egov import settings
from egov.inventory import connection_vars
from egov.model import load_province
from tests.conftest import REPO

DEFAULT = str(settings.DEFAULT_LAB_STATE)


def test_the_default_lab_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.LAB_STATE_ENV, raising=False)
    assert settings.lab_state_dir() == Path("/var/lib/egov-lab")
    assert settings.lab_ssh_key() == Path("/var/lib/egov-lab/ssh/id_ed25519")
    assert settings.secrets_dir() == Path("/var/lib/egov-lab/secrets")


def test_egov_lab_state_is_honoured_by_every_lab_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EGOV_LAB_STATE", str(tmp_path))
    assert settings.lab_state_dir() == tmp_path
    assert settings.lab_ssh_dir() == tmp_path / "ssh"
    assert settings.lab_ssh_key() == tmp_path / "ssh" / "id_ed25519"
    assert settings.lab_known_hosts() == tmp_path / "ssh" / "known_hosts"
    assert settings.lab_ca_dir() == tmp_path / "ca"
    assert settings.lab_nodes_file() == tmp_path / "nodes.json"
    assert settings.lab_up_hosts() == tmp_path / "up-hosts"
    assert settings.secrets_dir("lab") == tmp_path / "secrets"


def test_the_lab_commands_read_egov_lab_state(tmp_path: Path) -> None:
    """The module defaults (lab state, converge's --limit, the lab key of the network tooling) follow it."""
    code = ("from egov.lab.manager import DEFAULT_STATE; from egov.converge import UP_HOSTS; "
            "from egov.network.credentials import LAB_KEY; print(DEFAULT_STATE, UP_HOSTS, LAB_KEY)")
    env = {**os.environ, "EGOV_LAB_STATE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(tmp_path), str(tmp_path / "up-hosts"), str(tmp_path / "ssh" / "id_ed25519")]


def test_the_secrets_dir_of_production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(settings.SECRETS_ENV, raising=False)
    assert settings.secrets_dir("production") == Path("/etc/egov/secrets")
    monkeypatch.setenv("EGOV_SECRETS_DIR", str(tmp_path))
    assert settings.secrets_dir("production") == tmp_path
    monkeypatch.delenv(settings.LAB_STATE_ENV, raising=False)
    assert settings.secrets_dir("lab") == Path("/var/lib/egov-lab/secrets"), "the lab's secrets stay in its state"


@pytest.mark.parametrize(("value", "converged"), [(None, False), ("0", False), ("", False), ("1", True)])
def test_the_one_converged_switch(monkeypatch: pytest.MonkeyPatch, value: str | None, converged: bool) -> None:
    if value is None:
        monkeypatch.delenv("EGOV_LAB_CONVERGED", raising=False)
    else:
        monkeypatch.setenv("EGOV_LAB_CONVERGED", value)
    assert settings.lab_converged() is converged


def test_the_lab_inventory_gets_the_state_dir_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One variable (egov_lab_state_dir) for the YAML; the committed inventory does not depend on the caller's env."""
    monkeypatch.setenv("EGOV_LAB_STATE", str(tmp_path))
    lab = connection_vars("lab", load_province())
    assert lab["egov_lab_state_dir"] == DEFAULT
    assert lab["ansible_ssh_private_key_file"] == f"{DEFAULT}/ssh/id_ed25519"
    assert lab["egov_secrets_dir"] == f"{DEFAULT}/secrets"


def _python_strings(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}  # 3.12+: f-string parts
    return [(t.start[0], t.string) for t in tokens if t.type in kinds]


def test_no_hard_coded_lab_state_dir_outside_settings() -> None:
    offenders = []
    for top in ("src", "tests", "benchmarks"):
        for path in sorted((REPO / top).rglob("*.py")):
            if path in (REPO / "src" / "egov" / "settings.py", Path(__file__).resolve()):   # the default, and its test
                continue
            offenders += [f"{path.relative_to(REPO)}:{n}" for n, text in _python_strings(path) if DEFAULT in text]
    for top in ("playbooks", "roles", "molecule"):
        for path in sorted((REPO / top).rglob("*.yml")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DEFAULT in line.split("#", 1)[0]:
                    offenders.append(f"{path.relative_to(REPO)}:{n}")
    assert not offenders, "use egov.settings (Python) or egov_lab_state_dir (YAML): " + ", ".join(offenders)


def test_one_name_for_the_converged_switch() -> None:
    other = re.compile(r"EGOV_\w*(?:_NO_CONVERGE|_CONVERGED)\b")
    found = []
    for top in ("tests", "molecule", "src", "docs"):
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix in {".py", ".yml", ".md"} and path.is_file():
                text = path.read_text(encoding="utf-8")
                found += [f"{path.relative_to(REPO)}: {m}" for m in other.findall(text) if m != "EGOV_LAB_CONVERGED"]
    found += [f"Makefile: {m}" for m in other.findall((REPO / "Makefile").read_text()) if m != "EGOV_LAB_CONVERGED"]
    assert not found, found
