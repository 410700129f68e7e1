"""egov.settings: the one place for the lab state dir, the secrets dir and the "already converged" switch."""

from __future__ import annotations

import io
import json
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


CHAIN = ["pki.yml", "directory.yml", "mail.yml", "sso.yml", "webmail.yml"]


@pytest.mark.parametrize(("value", "forced"), [(None, []), ("", []), ("0", []), ("1", CHAIN),
                                                ("webmail.yml,sso.yml", ["sso.yml", "webmail.yml"]),
                                                (" mail.yml , ", ["mail.yml"])])
def test_force_converge(monkeypatch: pytest.MonkeyPatch, value: str | None, forced: list[str]) -> None:
    if value is None:
        monkeypatch.delenv("EGOV_SSO_CONVERGE", raising=False)
    else:
        monkeypatch.setenv("EGOV_SSO_CONVERGE", value)
    assert settings.force_converge("sso", CHAIN) == forced
    monkeypatch.setenv("EGOV_LOGS_CONVERGE", "1")
    assert settings.force_converge("logs", ["logs.yml"]) == ["logs.yml"], "one variable per system"


def test_force_converge_refuses_a_playbook_outside_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EGOV_SSO_CONVERGE", "sso.yml,ssO.yml")
    with pytest.raises(settings.SettingsError, match=r"EGOV_SSO_CONVERGE=sso.yml,ssO.yml: ssO.yml not in the sso"):
        settings.force_converge("sso", CHAIN)


# os.environ.get("EGOV_..CONVERGE.."), os.environ["..."], os.getenv("..."), Ansible's env lookup of one
CONVERGE_READ = re.compile(r"""(?:environ(?:\.get)?\s*[\[(]|getenv\s*\(|lookup\(\s*['"](?:ansible\.builtin\.)?env['"]"""
                           r"""\s*,)\s*f?['"](EGOV_\w*CONVERGE\w*)""")


def _converge_reads(text: str) -> list[str]:
    return CONVERGE_READ.findall(text)


def test_the_converge_read_pattern_catches_each_spelling() -> None:
    for read in ('os.environ.get("EGOV_LOGS_CONVERGE") == "1"', "os.environ['EGOV_SSO_CONVERGE']",
                 'os.getenv("EGOV_PORTAL_CONVERGE", "")', "environ.get(f'EGOV_X_CONVERGE_ALL')",
                 "{{ lookup('ansible.builtin.env', 'EGOV_MAIL_CONVERGE_ONLY') }}",
                 '{{ lookup("env", "EGOV_CONVERGE") }}'):
        assert _converge_reads(read), read
    for fine in ('settings.force_converge("logs", chain)', 'settings.lab_converged()', '"EGOV_SSO_CONVERGE=1 pytest"',
                 'os.environ.get("EGOV_LOGS_SITE")'):
        assert not _converge_reads(fine), fine


def test_converge_switches_are_read_only_in_settings() -> None:
    found = []
    for top in ("src", "tests", "benchmarks", "molecule", "playbooks", "roles"):
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix not in {".py", ".yml", ".j2"} or not path.is_file():
                continue
            if path in (REPO / "src" / "egov" / "settings.py", Path(__file__).resolve()):
                continue
            found += [f"{path.relative_to(REPO)}: {name}" for name in _converge_reads(path.read_text(encoding="utf-8"))]
    assert not found, "read them through egov.settings (lab_converged, force_converge): " + ", ".join(found)


# -- a non-default EGOV_LAB_STATE on the Ansible side: `egov converge` passes its paths as extra vars ----
def test_the_defaults_are_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from egov import converge
    from egov.lab import manager

    monkeypatch.setenv("EGOV_LAB_STATE", str(tmp_path))
    assert tmp_path == manager.DEFAULT_STATE and tmp_path / "up-hosts" == converge.UP_HOSTS
    monkeypatch.delenv("EGOV_LAB_STATE")
    assert manager.DEFAULT_STATE == settings.DEFAULT_LAB_STATE
    with pytest.raises(AttributeError):
        _ = manager.NO_SUCH_NAME  # type: ignore[attr-defined]


def test_the_lab_state_option_follows_egov_lab_state_at_call_time(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    from click.testing import CliRunner

    from egov.cli import main

    monkeypatch.setenv("EGOV_LAB_STATE", str(tmp_path))
    result = CliRunner().invoke(main, ["lab", "ping"])       # no host up there: a LabError, after writing up-hosts
    assert result.exit_code == 2 and "no lab host is up" in result.stderr
    assert (tmp_path / "up-hosts").read_text() == "\n"


def test_the_generated_inventory_holds_exactly_the_lab_state_vars() -> None:
    """What `egov converge` overrides is every variable of connection.yml that names the default directory."""
    import yaml

    generated = yaml.safe_load((REPO / "inventories/lab/group_vars/all/connection.yml").read_text(encoding="utf-8"))
    carrying = {k: v for k, v in generated.items() if DEFAULT in str(v)}
    assert carrying == settings.lab_ansible_vars(settings.DEFAULT_LAB_STATE)


def test_no_extra_vars_for_the_default_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from egov.converge import lab_state_args

    monkeypatch.delenv("EGOV_LAB_STATE", raising=False)
    assert settings.lab_state_extra_vars() == {} and lab_state_args("inventories/lab") == []
    monkeypatch.setenv("EGOV_LAB_STATE", DEFAULT + "/")                  # the default, spelt differently
    assert settings.lab_state_extra_vars() == {}


def test_extra_vars_for_another_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from egov.converge import lab_state_args

    monkeypatch.setenv("EGOV_LAB_STATE", str(tmp_path))
    extra = settings.lab_state_extra_vars()
    assert extra == {"egov_lab_state_dir": str(tmp_path),
                     "ansible_ssh_private_key_file": f"{tmp_path}/ssh/id_ed25519",
                     "ansible_ssh_common_args": f"-o UserKnownHostsFile={tmp_path}/ssh/known_hosts "
                                                "-o StrictHostKeyChecking=yes",
                     "egov_secrets_dir": f"{tmp_path}/secrets"}
    for inventory in ("inventories/lab", str(REPO / "inventories" / "lab"), "inventories/lab/"):
        flag, value = lab_state_args(inventory)
        assert flag == "-e" and json.loads(value) == extra
    assert lab_state_args("inventories/production") == [], "production has no lab state"


def test_converge_hands_the_extra_vars_to_every_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from egov import converge

    seen: list[list[str]] = []

    def fake_run(playbook: str, inventory: str, limit: str, extra: list[str], label: str, log_dir: Path,
                 env_extra: dict[str, str] | None = None) -> converge.RunResult:
        seen.append(extra)
        return converge.RunResult(label, 0.1, 0, str(log_dir / "x.log"), {"dns-01": dict.fromkeys(
            ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"), 0)})

    monkeypatch.setattr(converge, "run_playbook", fake_run)
    monkeypatch.setenv("EGOV_LAB_STATE", str(tmp_path / "state"))
    argv = ["--limit", "dns-01", "--twice", "--strategy", "linear", "--report-dir", str(tmp_path), "--", "-v"]
    result = CliRunner().invoke(converge.converge, argv)
    assert result.exit_code == 0, result.output
    assert len(seen) == 2
    for extra in seen:
        assert extra[0] == "-e" and json.loads(extra[1])["egov_lab_state_dir"] == str(tmp_path / "state")
        assert extra[2:] == ["-v"]
    monkeypatch.delenv("EGOV_LAB_STATE")
    seen.clear()
    assert CliRunner().invoke(converge.converge, argv).exit_code == 0
    assert seen == [["-v"], ["-v"]], "the default state: the inventory's own paths, no extra vars"
