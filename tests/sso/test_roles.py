"""Static checks of roles sso and webmail (no lab): argument specs mirror the defaults, the flows parse forms."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.sso.flows import forms

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("role", ["sso", "webmail"])
def test_argument_specs_mirror_defaults(role: str) -> None:
    defaults = yaml.safe_load((REPO / "roles" / role / "defaults/main.yml").read_text())
    spec = yaml.safe_load((REPO / "roles" / role / "meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert set(options) == set(defaults)
    for name, value in defaults.items():
        assert options[name]["default"] == value, name
        assert options[name]["description"], name


@pytest.mark.parametrize("role", ["sso", "webmail"])
def test_every_concern_has_a_switch_and_a_tag(role: str) -> None:
    defaults = yaml.safe_load((REPO / "roles" / role / "defaults/main.yml").read_text())
    tasks = yaml.safe_load((REPO / "roles" / role / "tasks/main.yml").read_text())
    for task in tasks:
        concern = Path(task["ansible.builtin.import_tasks"]).stem
        assert task["when"] == f"{role}_{concern}_enabled | bool"
        assert f"{role}_{concern}" in task["tags"]
        assert f"{role}_{concern}_enabled" in defaults
        assert (REPO / "roles" / role / "tasks" / f"{concern}.yml").exists()


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
