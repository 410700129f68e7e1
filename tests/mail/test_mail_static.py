"""Role mail without the lab: argument specs mirror the defaults, bad input fails with a clear message.

The bad-input cases run the real playbook with `--tags mail_preflight`: argument validation and the
preflight assert run on the controller before any connection, so no lab host is needed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "mail"


def test_secrets_are_never_in_the_repository() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in ROLE.rglob("*") if p.is_file())
    assert "BEGIN RSA PRIVATE KEY" not in text and "BEGIN PRIVATE KEY" not in text
    for secret in ("ldap/bind-mail", "sso/oidc-webmail"):
        assert f"egov_secrets_dir ~ '/{secret}'" in text, f"{secret} must come from the secrets dir lookup"


@pytest.mark.parametrize(("extra", "expected"), [
    ("mail_quota_gb=two", "mail_quota_gb"),
    ("mail_quota_gb=0", "mail_quota_gb must be an integer >= 1"),
    ("mail_tls_provider=letsencrypt", "mail_tls_provider"),
    ("mail_rspamd_controller_bind=0.0.0.0:11334", "mail_rspamd_controller_bind must be on loopback"),
    ('{"mail_ldap_uris": ["ldap.soctrang.gov.vn"]}', "mail_ldap_uris must be a non-empty list of ldap://"),
])
def test_bad_input_names_the_variable(tmp_path: Path, extra: str, expected: str) -> None:
    if shutil.which("ansible-playbook") is None:
        pytest.skip("ansible-playbook missing: run `make deps`")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(REPO / "inventories" / "lab"), str(REPO / "playbooks" / "mail.yml"),
         "--limit", "mail-01", "--tags", "mail_preflight", "-e", f"egov_secrets_dir={tmp_path}", "-e", extra],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert expected in out, out[-3000:]
