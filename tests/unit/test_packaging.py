"""Past one controller (docs/awx.md): the roles and playbooks build as an Ansible collection, the
execution environment's build context is created offline, and ansible-navigator runs the site
playbook here without an execution environment (syntax check: nothing reaches a host)."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REPO


def run(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("ansible-galaxy") is None, reason="ansible-galaxy is not installed")
def test_the_collection_holds_roles_and_playbooks_only(tmp_path: Path) -> None:
    proc = run("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (archive,) = tmp_path.glob("egov-province-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    tops = {name.split("/")[0] for name in names}
    assert {"roles", "playbooks", "meta", "MANIFEST.json"} <= tops
    assert "roles/base/tasks/main.yml" in names and "playbooks/site.yml" in names
    assert not tops & {"tests", "src", "model", "inventories", ".venv", "stacks"}, sorted(tops)


@pytest.mark.skipif(shutil.which("ansible-builder") is None, reason="ansible-builder is not installed")
def test_the_execution_environment_context_builds_offline(tmp_path: Path) -> None:
    proc = run("ansible-builder", "create", "-f", "execution-environment.yml", "-c", str(tmp_path / "ctx"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = tmp_path / "ctx" / "_build"
    assert (REPO / "requirements" / "base.txt").read_text() == (build / "requirements.txt").read_text()
    assert "openssh" in (build / "bindep.txt").read_text()
    assert any((tmp_path / "ctx").glob("*file")), "no Containerfile/Dockerfile in the context"


@pytest.mark.skipif(shutil.which("ansible-builder") is None, reason="ansible-builder is not installed")
def test_a_broken_execution_environment_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ee.yml"
    bad.write_text((REPO / "execution-environment.yml").read_text().replace("version: 3", "version: 7"))
    proc = run("ansible-builder", "create", "-f", str(bad), "-c", str(tmp_path / "ctx"))
    assert proc.returncode != 0


@pytest.mark.skipif(shutil.which("ansible-navigator") is None, reason="ansible-navigator is not installed")
def test_navigator_runs_the_site_playbook_without_an_ee() -> None:
    proc = run("ansible-navigator", "run", "playbooks/site.yml", "--syntax-check")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "playbook: " in proc.stdout and "site.yml" in proc.stdout
