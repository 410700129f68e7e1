"""The plan's KPIs that the repository can compute, each with its source and the plan's figures.

Only figures derived from the model, the tooling or the run's evidence are computed; a KPI the
repository cannot compute (e.g. level 3/4 services published) is listed as such, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from egov.model import Province
from egov.model.officials import DirectoryError, build_directory
from egov.portal import component_sites
from egov.report.collect import Evidence

NOT_BUILT = "not built yet"


@dataclass(frozen=True)
class Kpi:
    name: str
    value: str
    target: str
    baseline: str            # the plan's 2016 figure
    source: str              # where the value comes from (module, model key or evidence file)


def _pct(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.1f} %)" if whole else f"{part} of 0"


def _target(province: Province, key: str) -> str:
    """'2017: 20 %, 2018: 40 %, ...' from the model's facts.targets."""
    parts = [f"{t.year}: {getattr(t, key):g} %" for t in province.source.facts.targets if getattr(t, key) is not None]
    return ", ".join(parts) or "no target in the model"


def mail_kpis(province: Province) -> list[Kpi]:
    base = province.source.facts.baseline_2016
    try:
        mailboxes = sum(1 for o in build_directory(province).officials if o.mail)
    except DirectoryError as exc:
        return [Kpi("Mailboxes per official", f"not computable: {exc}", "", f"{base.mailboxes:,} mailboxes",
                    "egov.model.officials.build_directory")]
    officials = province.total_officials
    return [
        Kpi("Mailboxes per official", f"{mailboxes / officials:.2f} ({mailboxes:,} mailboxes, {officials:,} officials)"
            if officials else "no officials", "1.00 (2020: 100 % of officials have mail)",
            f"{base.mailboxes:,} mailboxes",
            "egov.model.officials.build_directory (one mailbox per official of the directory); officials: "
            "model staffing and site_overrides"),
        Kpi("Officials using mail (target share)", "not computable: the repository has no mail usage records",
            _target(province, "mail_use_pct"), f"{base.interagency_mail_share_pct:g} % of inter-agency exchange",
            "model facts.targets.mail_use_pct"),
    ]


def site_kpis(province: Province, evidence: Evidence) -> list[Kpi]:
    base = province.source.facts.baseline_2016
    communes = province.communes
    with_lan = [c for c in communes if any(v.name == "office" for v in c.vlans)]
    rendered = [c for c in communes if c.firewall_name in evidence.configs]
    oss_planned = [c for c in communes if "one_stop_shop" in c.systems]
    vc_planned = [s for s in province.sites if "video_conference" in s.systems]
    return [
        Kpi("Communes with a site LAN (office VLAN and subnet in the model)", _pct(len(with_lan), len(communes)),
            f"all {len(communes)} communes", f"{base.communes_with_lan} communes",
            "model addressing.site_vlans (egov.model.ipplan.site_vlans)"),
        Kpi("Communes whose firewall configuration was rendered in this run",
            _pct(len(rendered), len(communes)) if evidence.configs else "no evidence in this run",
            f"all {len(communes)} communes", "-", "reports/network/<platform>/<device>.cfg (egov network render)"),
        Kpi("Communes with a one-stop-shop tenant", f"{NOT_BUILT} ({len(oss_planned)} planned in the model)",
            f"all {len(communes)} communes (60 + the 49 without)", f"{base.one_stop_shop_communes} communes",
            "model SITE_SYSTEMS (egov.model.province); no tenant is modelled"),
        Kpi("Video-conference endpoints", f"{NOT_BUILT} ({len(vc_planned)} sites planned, each with a "
            "video_conference VLAN)", f"one per commune ({len(communes)}) and district ({len(province.districts)})",
            f"{base.vc_endpoints_provincial} provincial + {base.vc_endpoints_district} district",
            "model SITE_SYSTEMS and addressing.site_vlans"),
        Kpi("Site firewalls (one policy pushed from the DC)", f"{len(province.sites)} sites + 1 DC firewall",
            f"every agency ({len(province.sites)} sites)", f"{base.dc_firewalls} DC firewalls",
            "egov.network.inventory.derive"),
    ]


def service_kpis(province: Province) -> list[Kpi]:
    base = province.source.facts.baseline_2016
    portals = component_sites(province)
    return [
        Kpi("Portal component sites", f"{len(portals)} (departments and districts)", "1 main + 31 component sites",
            f"1 + {base.portal_component_sites}", "egov.portal.component_sites"),
        Kpi("Level 3 online services", "not computable: the repository has no service catalogue",
            _target(province, "level3_pct"), f"{base.online_services_level34} procedures at level 3/4",
            "model facts.targets.level3_pct"),
        Kpi("Level 4 online services", "not computable: the repository has no service catalogue",
            _target(province, "level4_pct"), f"{base.online_services_level34} procedures at level 3/4",
            "model facts.targets.level4_pct"),
        Kpi("DC hosts in the model", f"{len(province.dc_hosts)} hosts, {len(province.services)} services",
            "-", f"{base.dc_physical_servers} physical servers ({base.dc_physical_servers_eol} end-of-life)",
            "model services (egov.model.Province.dc_hosts)"),
    ]


def evidence_kpis(evidence: Evidence) -> list[Kpi]:
    cases = [c for c in evidence.tests if c.control]
    if not cases:
        return [Kpi("Baseline controls passed", "no evidence in this run", "every applicable control", "-",
                    "reports/junit/*.xml (tests/baseline)")]
    passed = sum(c.status == "passed" for c in cases)
    failed = sum(c.status in ("failed", "error") for c in cases)
    hosts = len({c.host for c in cases})
    return [Kpi("Baseline controls passed", f"{passed} passed, {failed} failed of {len(cases)} checks on {hosts} "
                "hosts", "every applicable control", "-", "reports/junit/*.xml (tests/baseline)")]


def compute(province: Province, evidence: Evidence) -> list[Kpi]:
    """Every KPI of the KPI page, in display order."""
    return [*mail_kpis(province), *site_kpis(province, evidence), *service_kpis(province), *evidence_kpis(evidence)]
