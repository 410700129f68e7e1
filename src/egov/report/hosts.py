"""Host pages: every DC host, the DC firewall and each site firewall (all are Linux hosts the
baseline suite tests), with their controls, waivers and justifications, and their model ports."""

from __future__ import annotations

from egov.model import DcHost
from egov.model.flows import listeners_of
from egov.report import controls as ctl
from egov.report.context import Context, host_page, site_page
from egov.report.markup import NO_EVIDENCE, Html, dl, join, link, page, section, status, table, tag, ul


def control_counts(ctx: Context, host: str) -> Html:
    """One row of counts per status for a host, with where the counts come from."""
    counts = ctl.summary(ctx.results(host))
    source = "this run's baseline tests" if ctx.tested(host) else \
        f"{NO_EVIDENCE}: catalogue expectations only (waivers, scope)"
    return join([table(list(ctl.STATUSES), [[str(counts[s]) for s in ctl.STATUSES]]),
                 tag("p", f"Source: {source}.", class_="none" if not ctx.tested(host) else "")])


def controls_table(ctx: Context, host: str) -> Html:
    rows = [[r.control.id, r.control.title, r.control.concern, r.control.severity, status(r.status), r.detail,
             "run" if r.from_run else "catalogue"] for r in ctx.results(host)]
    return table(["control", "title", "concern", "severity", "status", "detail / justification", "source"], rows)


def waivers(ctx: Context, host: str) -> Html:
    rows = [[r.control.id, r.control.title, ", ".join(r.control.waiver_environments) or "every environment",
             "yes" if r.control.waiver_applies(ctx.environment) else f"no (not in {ctx.environment})",
             r.control.justification] for r in ctx.results(host) if r.control.waived]
    return table(["control", "title", "environments", f"applies in {ctx.environment}", "justification"], rows,
                 empty="no control of the catalogue is waived")


def listening_ports(ctx: Context, host: DcHost) -> Html:
    """The host's listeners per the model, with the flows allowed to reach each of them."""
    pf = ctx.province.source
    rows = []
    for listener, ports in listeners_of(pf, host.service).items():
        sources = sorted({src for flow in pf.flows if flow.to == host.service and listener in flow.listeners
                          for src in flow.from_})
        rows.append([listener, ", ".join(ports), ", ".join(sources) or "no flow reaches it"])
    return table(["listener", "ports (model)", "allowed from (model flows)"], rows, empty="no listener in the model")


def _controls_sections(ctx: Context, name: str) -> list[Html]:
    return [section("Controls", control_counts(ctx, name), controls_table(ctx, name), id_="controls"),
            section("Waivers and their justification", waivers(ctx, name), id_="waivers")]


def dc_host(ctx: Context, host: DcHost) -> str:
    service = ctx.province.services[host.service]
    facts = dl([("service", host.service), ("description", service.description), ("segment", host.segment),
                ("VLAN", str(host.vlan)), ("address", f"{host.address} ({host.network}, gateway {host.gateway})"),
                ("HA group", host.ha_group or "none (single host)"), ("owner", service.owner),
                ("security level (Decree 85)", str(service.security_level)),
                ("size", f"{service.size.vcpu} vCPU, {service.size.ram_gb} GB RAM, {service.size.disk_gb} GB disk"),
                ("lab stand-in", service.lab_stand_in or "no")])
    body = join([section("Host", facts),
                 section("Listening ports (model)", listening_ports(ctx, host),
                         tag("p", f"Ports observed on the host: {NO_EVIDENCE}.", class_="none")),
                 *_controls_sections(ctx, host.name),
                 section("Certificates and expiry", tag("p", NO_EVIDENCE, class_="none"))])
    return page(f"DC host {host.name}", "../", [("index.html", "Index"), ("hosts.html", "DC hosts")], body,
                ctx.footer)


def dc_firewall(ctx: Context) -> str:
    fw = ctx.province.dc_firewall
    rows = [[name, str(vlan), str(address)] for name, (vlan, address) in fw.interfaces.items()]
    rows.append(["wan", str(ctx.province.source.addressing.wan.vlan), str(fw.wan_address)])
    config = ctx.config(fw.name)
    body = join([section("Interfaces (model)", table(["segment", "VLAN", "address"], rows)),
                 section("Configuration", dl([("config digest (sha256)", config.sha256 if config else NO_EVIDENCE),
                                              ("last network operations", ctx.device_status(fw.name))])),
                 *_controls_sections(ctx, fw.name)])
    return page(f"DC firewall {fw.name}", "../", [("index.html", "Index"), ("hosts.html", "DC hosts")], body,
                ctx.footer)


def site_firewall(ctx: Context, name: str) -> str:
    site = next(s for s in ctx.province.sites if s.firewall_name == name)
    facts = dl([("site", link(f"../{site_page(site)}", f"{site.name} ({site.code})")),
                ("WAN address", str(site.wan_address)),
                ("config digest (sha256)", c.sha256 if (c := ctx.config(name)) else NO_EVIDENCE),
                ("last network operations", ctx.device_status(name))])
    crumbs = [("index.html", "Index")]
    if site.kind == "commune":
        district = ctx.province.site(site.district_code)
        crumbs.append((site_page(district), district.name))
    crumbs.append((site_page(site), site.name))
    body = join([section("Firewall", facts), *_controls_sections(ctx, name)])
    return page(f"Site firewall {name}", "../", crumbs, body, ctx.footer)


def hosts_index(ctx: Context) -> str:
    """hosts.html: every DC host, the DC firewall and the core switches."""
    def row(name: str, what: str, address: str) -> list[str | Html]:
        counts = ctl.summary(ctx.results(name))
        evidence = f"{counts['passed']} passed, {counts['failed']} failed" if ctx.tested(name) else NO_EVIDENCE
        return [link(host_page(name), name), what, address, evidence]

    fw = ctx.province.dc_firewall
    rows = [row(h.name, f"{h.service} ({h.segment})", str(h.address)) for h in ctx.province.dc_hosts]
    rows.append(row(fw.name, "DC firewall", str(fw.interfaces["management"][1].ip)))
    switches = [[f"dc-sw-{i:02d}", c.sha256 if (c := ctx.config(f"dc-sw-{i:02d}")) else NO_EVIDENCE,
                 ctx.device_status(f"dc-sw-{i:02d}")]
                for i in range(1, ctx.province.source.devices.dc_core_switches + 1)]
    body = join([section("DC hosts and firewall", table(["host", "service", "address", "baseline controls"], rows)),
                 section("DC core switches", table(["switch", "config digest (sha256)", "last network operations"],
                                                   switches)),
                 section("Site firewalls", ul([tag("span", "one per district and commune, on their pages "
                                                   "(from the index, then the district)")]))])
    return page("DC hosts", "", [("index.html", "Index")], body, ctx.footer)
