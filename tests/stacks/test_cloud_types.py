"""The type checker over the stacks, the policy pack and the cloud CLI: it catches what mocks do not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from egov.cloud.paths import REPO_ROOT, STACKS_DIR

CONFIG = STACKS_DIR / "mypy.ini"


def _mypy(*targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *targets],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_stacks_and_cloud_cli_type_check() -> None:
    result = _mypy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_type_checker_catches_a_wrong_scalar_and_a_misspelt_argument(tmp_path: Path) -> None:
    """Mocks accept size="big" and silently drop volume_typ=; the type checker does not."""
    bad = tmp_path / "bad_volume.py"
    bad.write_text('import pulumi_openstack as openstack\n\n'
                   'openstack.blockstorage.VolumeArgs(size="big", volume_typ="encrypted-ssd")\n', encoding="utf-8")
    result = _mypy(str(bad))
    assert result.returncode == 1
    assert 'Argument "size" to "VolumeArgs" has incompatible type "str"' in result.stdout
    assert 'Unexpected keyword argument "volume_typ"' in result.stdout
