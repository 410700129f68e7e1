"""What every page reads, computed once: the model, catalogue, plan, evidence and their joins.

Page paths live here too (one place decides where a district, commune or host page is), so a
link and its target can never disagree.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from egov.model import Province, Site
from egov.model.officials import DirectoryError, build_directory
from egov.model.schema import Flow
from egov.report import controls as ctl
from egov.report.collect import DeviceConfig, Evidence, TestCase
from egov.report.markup import NO_EVIDENCE
from egov.report.plan import PlanItem


def district_page(site: Site) -> str:
    return f"district/{site.slug}.html"


def commune_page(site: Site) -> str:
    return f"commune/{site.slug}.html"


def site_page(site: Site) -> str:
    return district_page(site) if site.kind == "district" else commune_page(site)


def host_page(name: str) -> str:
    return f"host/{name}.html"


@dataclass(frozen=True)
class SiteFlow:
    """A flow the model allows from one site: which of its networks, to which service, on which ports."""

    source: str               # the flow's `from` entry (sites, site:<vlan>, site_devices)
    networks: str             # the site's subnets or addresses it covers
    to: str                   # the DC service
    listeners: tuple[str, ...]
    ports: tuple[str, ...]


@dataclass
class Context:
    province: Province
    controls: list[ctl.Control]
    plan: list[PlanItem]
    evidence: Evidence
    repo_root: Path
    environment: str = "lab"
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))

    def __post_init__(self) -> None:
        self.groups = ctl.host_groups(self.province)
        self.baseline = self.evidence.baseline()
        self.concern_of = {c.id: c.concern for c in self.controls}
        self._results: dict[str, list[ctl.ControlResult]] = {}

    # ---- hosts and controls ----------------------------------------------------------------------
    def results(self, host: str) -> list[ctl.ControlResult]:
        """The controls of a Linux host (DC host, DC firewall or site firewall) with their results."""
        if host not in self._results:
            self._results[host] = ctl.host_results(self.controls, self.groups.get(host, set()),
                                                   self.baseline.get(host, {}), self.environment)
        return self._results[host]

    @property
    def footer(self) -> str:
        """What every page says of its making: when, from what, for which environment."""
        return (f"Generated {self.generated} by `egov report` from model/province.yml, controls/catalogue.yml, "
                f"docs/plan-items.yml and the evidence in {self.evidence.root} (environment: {self.environment}).")

    def tested(self, host: str) -> bool:
        """Whether the run holds any baseline test case of this host."""
        return host in self.baseline

    # ---- sites -----------------------------------------------------------------------------------
    @functools.cached_property
    def mailboxes(self) -> dict[str, int]:
        """Unit slug -> mailboxes of its officials (the directory gives every official a mail address)."""
        try:
            directory = build_directory(self.province)
        except DirectoryError:
            return {}
        counts: dict[str, int] = {}
        for official in directory.officials:
            if official.mail:
                counts[official.unit.slug] = counts.get(official.unit.slug, 0) + 1
        return counts

    def site_flows(self, site: Site) -> list[SiteFlow]:
        """The flows of the model (resolved to ports) whose source is this site's networks or devices."""
        out = []
        for flow in self.province.source.flows:
            for source in flow.from_:
                networks = self._networks(site, source)
                if networks:
                    out.append(_site_flow(flow, source, networks))
        return out

    @staticmethod
    def _networks(site: Site, source: str) -> str:
        kind, _, arg = source.partition(":")
        if source == "sites":
            return f"every VLAN of the site ({site.block})"
        if kind == "site":
            try:
                return f"{arg} {site.vlan(arg).network}"
            except KeyError:
                return ""
        if source == "site_devices":
            return f"{site.firewall_name} {site.wan_address} (WAN)"
        return ""

    def config(self, device: str) -> DeviceConfig | None:
        return self.evidence.configs.get(device)

    def device_status(self, device: str) -> str:
        """'push: unchanged; verify: verified' from the network reports of the run, or no evidence."""
        runs = self.evidence.device_runs.get(device, [])
        return "; ".join(f"{r.operation}: {r.status}" for r in runs) or NO_EVIDENCE

    def tests_naming(self, *names: str) -> list[TestCase]:
        """The run's non-baseline test cases whose id names one of these devices (traffic matrix, ...)."""
        return [c for c in self.evidence.tests if not c.control and any(n in c.name for n in names)]


def _site_flow(flow: Flow, source: str, networks: str) -> SiteFlow:
    return SiteFlow(source=source, networks=networks, to=flow.to, listeners=tuple(flow.listeners),
                    ports=tuple(flow.ports))
