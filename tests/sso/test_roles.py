"""Static checks of roles sso and webmail (no lab): argument specs mirror the defaults, the flows parse forms."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.sso.flows import forms

REPO = Path(__file__).resolve().parents[2]


def test_the_webmail_reads_the_secret_the_sso_writes() -> None:
    sso = (REPO / "roles/sso/tasks/keys.yml").read_text()
    webmail = yaml.safe_load((REPO / "roles/webmail/defaults/main.yml").read_text())
    assert "'/sso/oidc-' ~ item.client_id" in sso
    assert "egov_secrets_dir ~ '/sso/oidc-webmail'" in webmail["webmail_oidc_client_secret"]


def test_login_form_parser_keeps_hidden_fields_and_the_checked_choice() -> None:
    html = """<form action="/" method="post"><input type="hidden" name="token" value="t1">
    <input type="radio" name="lmAuth" value="1_Password" checked>
    <input type="radio" name="lmAuth" value="2_Certificate">
    <input name="user"><input type="password" name="password"></form>"""
    [form] = forms(html)
    assert form["fields"] == {"token": "t1", "lmAuth": "1_Password", "user": "", "password": ""}


@pytest.mark.parametrize(
    ("playbook", "limit", "tag", "extra", "expected"),
    [
        ("sso.yml", "sso-01", "sso_validate", "sso_ldap_uri=ldap://ldap.soctrang.gov.vn",
         "must be an ldaps:// URL"),
        ("sso.yml", "sso-01", "sso_validate", '{"sso_tls_protocols": ["TLSv1.1"]}',
         "may only contain TLSv1.2 and TLSv1.3"),
        ("sso.yml", "sso-01", "sso_validate", "sso_session_primary=mail-01",
         "must be a host of the inventory group 'sso'"),
        ("webmail.yml", "mail-01", "webmail_validate", "webmail_smtp_host=mail.soctrang.gov.vn:25",
         "no submission without TLS"),
    ],
)
def test_bad_input_fails_naming_the_variable(playbook: str, limit: str, tag: str, extra: str, expected: str) -> None:
    """The asserts run on the controller before any task touches a host: no lab needed."""
    if not shutil.which("ansible-playbook"):
        pytest.skip("ansible-playbook not on PATH (make deps)")
    if not (REPO / "inventories/lab/hosts.yml").exists():
        pytest.skip("inventories/lab is not generated (egov lab up)")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/lab", f"playbooks/{playbook}", "--limit", limit,
         "--tags", tag, "-e", extra],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-2000:]
    assert expected in output, output[-2000:]
    variable = extra.split("=")[0] if "=" in extra else extra.split('"')[1]
    assert variable in output, output[-2000:]
