"""Administration through the SSO without the lab (issue 13): the two roles agree, from the model.

The portal's plugin settings (roles/portal_web/templates/sso-admin.json.j2) and the SSO's relying party
`portal` (roles/sso: sso_oidc_relying_parties, lmConf.json.j2) are rendered with Ansible's own
templating from the lab inventory: every site is owned by its own unit of the directory (the
departmentNumber its officials carry), the SSO accepts exactly the redirect URI the plugin sends for
every site, and releases the unit claim under a scope the plugin asks for. Negative cases show each
check can fail. Fast (no playbook, no host).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from egov.model import load_province
from egov.model.officials import Directory, build_directory, official_attrs

REPO = Path(__file__).resolve().parents[2]
WEB_ROLE = REPO / "roles" / "portal_web"
SSO_ROLE = REPO / "roles" / "sso"
PLUGIN = WEB_ROLE / "files" / "egov-sso-admin.php"
INVENTORY = REPO / "inventories" / "lab" / "group_vars" / "all"
SECRET = "s" * 32


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _trusted(value: Any) -> Any:
    """Role defaults are templates (Ansible 2.19 only renders strings marked as trusted)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


def _variables(**overrides: Any) -> dict[str, Any]:
    """What a play on the lab sees: the inventory, the shared settings, both roles' defaults and vars;
    the controller secrets replaced by constants (no lookup, nothing written)."""
    v: dict[str, Any] = {}
    for name in ("province.yml", "services.yml"):
        v.update(_yaml(INVENTORY / name))
    v.update(_trusted(_yaml(REPO / "playbooks" / "group_vars" / "all" / "trust_identity.yml")))
    for role in (SSO_ROLE, WEB_ROLE):
        v.update(_trusted(_yaml(role / "defaults" / "main.yml")))
        v.update(_trusted(_yaml(role / "vars" / "main.yml")))
    v.update(egov_secrets_dir="/nonexistent", ansible_managed="test", sso_ldap_bind_password="b",
             sso_session_redis_password="r", portal_web_sso_client_secret=SECRET,
             groups={"sso": ["sso-01", "sso-02"]}, hostvars={"sso-01": {"ansible_host": "192.0.2.1"}},
             sso__oidc_private_key="private", sso__oidc_public_key="public")
    v.update(overrides)
    v["sso__oidc_secrets"] = {rp["client_id"]: SECRET for rp in _render("{{ sso_oidc_relying_parties }}", v)}
    return v


def _render(template: str, variables: dict[str, Any]) -> Any:
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(template))


def _render_file(path: Path, variables: dict[str, Any]) -> Any:
    return yaml.safe_load(_render(path.read_text(encoding="utf-8"), variables))   # JSON is YAML


@pytest.fixture(scope="module")
def directory() -> Directory:
    return build_directory(load_province(REPO / "model" / "province.yml"))


@pytest.fixture(scope="module")
def lab() -> dict[str, Any]:
    return _variables()


def _portal_rp(variables: dict[str, Any]) -> dict[str, Any]:
    rps = _render("{{ sso_oidc_relying_parties }}", variables)
    return next(rp for rp in rps if rp["client_id"] == variables["portal_web_sso_client_id"])


def _site_domains(variables: dict[str, Any]) -> list[str]:
    domain = variables["province_domain"]
    return [domain] + [f"{s['name']}.{domain}" for s in variables["egov_component_sites"]]


def site_unit_problems(sites: dict[str, list[str]], component_sites: list[dict[str, Any]], domain: str,
                       directory: Directory) -> list[str]:
    """Sites not owned by exactly their own unit of the directory (a department's site by that
    department, a district's by that district), or owned by a unit the directory does not have."""
    units = {u.slug: u for u in directory.units}
    problems = [f"{site}: unit {unit} is not in the directory" for site, owners in sites.items()
                for unit in owners if unit not in units]
    for site in component_sites:
        name = f"{site['name']}.{domain}"
        owners = sites.get(name, [])
        if len(owners) != 1 or owners[0] not in units:
            problems.append(f"{name}: owners {owners}, expected its own unit")
            continue
        unit = units[owners[0]]
        if unit.kind != site["kind"] or unit.name != site["title"]:
            problems.append(f"{name}: owned by {unit.kind} {unit.slug} ({unit.name}), not by {site['title']}")
    missing = sorted(({domain} | {f"{s['name']}.{domain}" for s in component_sites}) - set(sites))
    problems += [f"{name}: no owner" for name in missing]
    return problems


def test_every_site_is_owned_by_its_own_unit_as_the_directory_names_it(
        lab: dict[str, Any], directory: Directory) -> None:
    settings = _render_file(WEB_ROLE / "templates" / "sso-admin.json.j2", lab)
    sites = settings["sites"]
    assert sorted(sites) == sorted(_site_domains(lab))
    assert site_unit_problems(sites, lab["egov_component_sites"], lab["province_domain"], directory) == []
    # the claim carries departmentNumber: the unit slug every official of the unit has in the directory
    official = directory.officials[0]
    assert ("departmentNumber", official.unit.slug) in official_attrs(official, None)
    main = {u.slug: u for u in directory.units}[sites[lab["province_domain"]][0]]
    assert main.kind == "department", main                       # the main portal: vpubnd (the model's owner)
    assert settings["client_secret"] == SECRET and settings["client_id"] == "portal"
    issuer = lab["egov_sso_portal_url"]
    assert _render(issuer, lab) == settings["issuer"] == f"https://sso.{lab['province_domain']}"
    for endpoint in ("authorize", "token", "userinfo"):
        assert f"{settings['issuer']}/oauth2/{endpoint}" in settings.values()


def test_a_wrong_owner_is_a_problem(lab: dict[str, Any], directory: Directory) -> None:
    domain, component = lab["province_domain"], lab["egov_component_sites"]
    good = _render_file(WEB_ROLE / "templates" / "sso-admin.json.j2", lab)["sites"]
    district = next(s for s in component if s["kind"] == "district")
    commune = next(u for u in directory.units if u.kind == "commune")
    department = next(s for s in component if s["kind"] == "department")
    for site, owners, needle in ((district, [commune.slug], "owned by commune"),
                                 (department, ["nowhere"], "not in the directory"),
                                 (department, [], "expected its own unit")):
        sites = {**good, f"{site['name']}.{domain}": owners}
        problems = site_unit_problems(sites, component, domain, directory)
        assert any(needle in p for p in problems), (site["name"], owners, problems)
    sites = dict(good)
    del sites[domain]
    assert site_unit_problems(sites, component, domain, directory) == [f"{domain}: no owner"]


def test_the_sso_accepts_exactly_the_redirect_uri_the_plugin_sends_for_every_site(lab: dict[str, Any]) -> None:
    rp = _portal_rp(lab)
    assert rp["redirect_uris"] == [f"https://{d}/wp-login.php" for d in _site_domains(lab)]
    assert rp["user_attribute"] == "uid"                         # sub = uid = the WordPress login
    plugin = PLUGIN.read_text(encoding="utf-8")
    assert "return 'https://' . strtolower(get_site()->domain) . '/wp-login.php';" in plugin
    conf = _render_file(SSO_ROLE / "templates" / "lmConf.json.j2", lab)
    registered = conf["oidcRPMetaDataOptions"]["portal"]["oidcRPMetaDataOptionsRedirectUris"].split(" ")
    assert registered == rp["redirect_uris"]


def test_a_new_site_of_the_model_is_one_more_redirect_uri_and_one_more_owner(lab: dict[str, Any]) -> None:
    sites = [*lab["egov_component_sites"], {"name": "sxyz", "title": "Sở XYZ", "kind": "department", "code": "sxyz"}]
    variables = _variables(egov_component_sites=sites, portal_web_component_sites=sites)
    domain = lab["province_domain"]
    assert f"https://sxyz.{domain}/wp-login.php" in _portal_rp(variables)["redirect_uris"]
    assert len(_portal_rp(variables)["redirect_uris"]) == len(_portal_rp(lab)["redirect_uris"]) + 1
    owners = _render_file(WEB_ROLE / "templates" / "sso-admin.json.j2", variables)["sites"]
    assert owners[f"sxyz.{domain}"] == ["sxyz"]


def test_the_unit_claim_is_released_under_a_scope_the_plugin_requests(lab: dict[str, Any]) -> None:
    conf = _render_file(SSO_ROLE / "templates" / "lmConf.json.j2", lab)
    claim, scopes = lab["portal_web_sso_unit_claim"], lab["portal_web_sso_scopes"]
    released = {scope for scope, claims in conf["oidcRPMetaDataOptionsExtraClaims"]["portal"].items()
                if claim in claims.split()}
    assert released and released <= set(scopes), (released, scopes)
    assert conf["oidcRPMetaDataExportedVars"]["portal"][claim] == "departmentNumber"
    assert conf["ldapExportedVars"]["departmentNumber"] == "departmentNumber"   # read from the directory
    assert claim not in conf["oidcRPMetaDataExportedVars"]["webmail"]          # only the portal gets it
    assert "webmail" not in conf["oidcRPMetaDataOptionsExtraClaims"]
    # without extra_claims the claim is gone: the check above can fail
    rps = [{k: v for k, v in rp.items() if k != "extra_claims"}
           for rp in _render("{{ sso_oidc_relying_parties }}", lab)]
    bare = _render_file(SSO_ROLE / "templates" / "lmConf.json.j2", _variables(sso_oidc_relying_parties=rps))
    assert bare["oidcRPMetaDataOptionsExtraClaims"] == {}
    assert claim not in bare["oidcRPMetaDataExportedVars"]["portal"]


def _password_lookup(text: str, path_expr: str) -> str:
    """The arguments after the path of a password lookup (length, chars) in a role's text."""
    match = re.search(re.escape(path_expr) + r"(?P<rest>[^)]*)\)", text)
    assert match, path_expr
    return re.sub(r"\s+", " ", match.group("rest"))


def test_both_roles_read_the_same_client_secret() -> None:
    web = (WEB_ROLE / "defaults" / "main.yml").read_text(encoding="utf-8")
    sso = (SSO_ROLE / "tasks" / "keys.yml").read_text(encoding="utf-8")
    assert "egov_secrets_dir ~ '/sso/oidc-portal'" in web
    assert _yaml(SSO_ROLE / "defaults" / "main.yml")["sso_secrets_dir"] == "{{ egov_secrets_dir }}"
    assert _password_lookup(web, "'/sso/oidc-portal'") == _password_lookup(sso, "'/sso/oidc-' ~ item.client_id")
    assert _password_lookup("x '/a', length=16)", "'/a'") != _password_lookup(sso, "'/sso/oidc-' ~ item.client_id")


def test_the_plugin_reads_the_file_the_role_writes_outside_what_nginx_serves() -> None:
    plugin = PLUGIN.read_text(encoding="utf-8")
    tasks = (WEB_ROLE / "vars" / "main.yml").read_text(encoding="utf-8")
    path = re.search(r"define\('EGOV_SSO_CONFIG_FILE', '([^']+)'\)", plugin)
    assert path, "EGOV_SSO_CONFIG_FILE"
    assert f"portal_web__sso_config_file: {path.group(1)}" in tasks
    assert not path.group(1).startswith(("/var/lib/wordpress", "/usr/share/wordpress"))   # nginx serves wp-content
    assert 'portal_web__mu_plugins_dir: "{{ portal_web__content_root }}/wp-content/mu-plugins"' in tasks


def test_the_plugin_leaves_the_cli_alone_and_refuses_every_password() -> None:
    plugin = PLUGIN.read_text(encoding="utf-8")
    cli = plugin.index("if (PHP_SAPI === 'cli') {\n    return;\n}")
    hooks = [m.start() for m in re.finditer(r"^add_(filter|action)\(", plugin, re.M)]
    assert hooks and min(hooks) > cli                                 # nothing hooked for the CLI scripts
    assert "add_filter('authenticate', 'egov_sso_refuse_passwords', PHP_INT_MAX, 3);" in plugin
    assert "add_filter('wp_is_application_passwords_available', '__return_false');" in plugin
    assert "add_filter('allow_password_reset', '__return_false');" in plugin


@pytest.mark.skipif(shutil.which("php") is None, reason="no php on this controller (the role runs php -l on the host)")
def test_the_plugin_parses() -> None:
    proc = subprocess.run(["php", "-l", str(PLUGIN)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
