"""Static checks of the CA roles (no lab): argument specs mirror defaults; bad input fails clearly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.pki.conftest import REPO

ROLES = ["lab_ca", "ca_trust", "service_cert"]


BAD_INPUTS = [
    ("service_cert", {"service_cert_name": "web", "service_cert_common_name": "web.example",
                      "service_cert_subject_alt_names": ["web.example"]},
     "service_cert_subject_alt_names must be a non-empty list of 'DNS:<name>' / 'IP:<address>' "
     "(offending: ['web.example'])"),
    ("service_cert", {"service_cert_name": "Bad Name", "service_cert_common_name": "web.example",
                      "service_cert_subject_alt_names": ["DNS:web.example"]},
     "service_cert_name must be a file name"),
    ("service_cert", {"service_cert_name": "web", "service_cert_common_name": "web.example",
                      "service_cert_subject_alt_names": ["DNS:web.example"], "service_cert_validity_days": 397},
     "0 < service_cert_validity_days <= 200 (got 67 / 397)"),
    ("ca_trust", {"egov_ca_mode": "external"}, "Provide ca_trust_certificates"),
    ("ca_trust", {"egov_ca_mode": "lab", "egov_ca_public_dir": "/nonexistent", "province_domain": "x.vn"},
     "ca_trust_certificates: '/nonexistent/issuing.crt' is missing on the controller"),
    ("lab_ca", {"egov_ca_mode": "external"}, "in production the root is an offline CA"),
]


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook is not installed")
@pytest.mark.parametrize(("role", "extra", "message"), BAD_INPUTS,
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(BAD_INPUTS)])
def test_bad_input_fails_with_a_clear_message(tmp_path: Path, role: str, extra: dict[str, object],
                                              message: str) -> None:
    variables = {"probe_role": role, "egov_secrets_dir": str(tmp_path), "egov_ca_public_dir": str(tmp_path),
             "province_domain": "soctrang.gov.vn", "province_name": "Tỉnh Sóc Trăng",
                 "province_slug": "soc-trang", **extra}
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", str(REPO / "tests" / "pki" / "bad_input.yml"),
                           "-e", f"@{tmp_path / 'vars.yml'}"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode != 0
    output = " ".join((proc.stdout + proc.stderr).split())
    assert message in output, output[-3000:]
