"""District and commune pages: devices, VLANs and subnets, flows, officials, controls, systems.

A district's page links every commune of it, so any commune is two clicks from the index.
"""

from __future__ import annotations

from egov.model import Site
from egov.report import controls as ctl
from egov.report.context import Context, commune_page, host_page, site_page
from egov.report.hosts import control_counts
from egov.report.markup import NO_EVIDENCE, Html, dl, join, link, page, section, status, table, tag, ul

NOT_BUILT = "not built yet"


def devices(ctx: Context, site: Site) -> Html:
    mgmt = site.vlan("management").network
    rows = []
    for name, role, address, page_href in (
            (site.firewall_name, "edge firewall", f"{site.wan_address} (WAN)", f"../{host_page(site.firewall_name)}"),
            (site.switch_name, "access switch", f"{mgmt.network_address + 2} (management VLAN)", "")):
        config = ctx.config(name)
        rows.append([link(page_href, name) if page_href else name, role, address,
                     Html(f"<code>{config.sha256}</code>") if config else NO_EVIDENCE, ctx.device_status(name)])
    return table(["device", "role", "management address", "config digest (sha256)", "last network operations"], rows)


def vlans(site: Site) -> Html:
    rows = [[v.name, str(v.vlan), str(v.network), str(v.gateway)] for v in site.vlans]
    return table(["VLAN", "id", "subnet", "gateway"], rows)


def flows(ctx: Context, site: Site) -> Html:
    hosts: dict[str, list[str]] = {}
    for h in ctx.province.dc_hosts:
        hosts.setdefault(h.service, []).append(h.name)
    rows = [[f.source, f.networks, f.to,
             join([link(f"../{host_page(n)}", n) for n in hosts.get(f.to, [])], ", "),
             ", ".join(f.listeners), ", ".join(f.ports)] for f in ctx.site_flows(site)]
    tests = ctx.tests_naming(site.firewall_name, site.switch_name, site.slug)
    result = table(["test", "status", "message"], [[t.name, status("failed" if t.status == "error" else t.status),
                                                     t.message] for t in tests])
    return join([table(["from", "site networks", "to service", "DC hosts", "listeners", "ports"], rows,
                       empty="no flow of the model starts at this site"),
                 tag("h3", "Traffic-matrix and other tests naming this site"), result])


def officials(ctx: Context, site: Site) -> Html:
    mailboxes = ctx.mailboxes.get(site.slug)
    return dl([("officials (model staffing)", str(site.officials)),
               ("mailboxes (directory)", str(mailboxes) if mailboxes is not None else "not computable"),
               ("mail domain", ctx.province.domain)])


def systems(site: Site) -> Html:
    """The video-conference endpoint and one-stop-shop tenant: planned in the model, not built yet."""
    def planned(system: str, vlan: str) -> str:
        if system not in site.systems:
            return "not planned for this site in the model"
        year = site.rollout.get(system)
        net = next((f", VLAN {v.vlan} {v.network}" for v in site.vlans if v.name == vlan), "")
        return f"{NOT_BUILT} (planned{f' for {year}' if year else ''}{net})"

    return dl([("video-conference endpoint", planned("video_conference", "video_conference")),
               ("one-stop-shop tenant", planned("one_stop_shop", "one_stop_shop")),
               ("systems planned (model)", ", ".join(site.systems))])


def site_controls(ctx: Context, site: Site) -> Html:
    name = site.firewall_name
    notable = [r for r in ctx.results(name) if r.status in ("failed", "waived")]
    rows = [[r.control.id, r.control.title, status(r.status), r.detail] for r in notable]
    return join([tag("p", join(["Baseline controls of the site firewall ", link(f"../{host_page(name)}", name),
                                " (full list on its page):"])),
                 control_counts(ctx, name),
                 table(["control", "title", "status", "detail / justification"], rows,
                       empty="no failed or waived control")])


def _body(ctx: Context, site: Site, extra: list[Html]) -> Html:
    facts = dl([("GSO code", site.code), ("type", site.gso_type), ("address block", str(site.block)),
                ("WAN address", str(site.wan_address))])
    return join([section("Site", facts), *extra,
                 section("Devices", devices(ctx, site), id_="devices"),
                 section("VLANs and subnets", vlans(site), id_="vlans"),
                 section("Flows allowed from this site", flows(ctx, site), id_="flows"),
                 section("Officials and mailboxes", officials(ctx, site), id_="officials"),
                 section("Video conference and one-stop-shop", systems(site), id_="systems"),
                 section("Controls", site_controls(ctx, site), id_="controls")])


def district(ctx: Context, site: Site) -> str:
    communes = ctx.province.communes_of(site.code)

    def row(commune: Site) -> list[str | Html]:
        counts = ctl.summary(ctx.results(commune.firewall_name))
        evidence = (f"{counts['passed']} passed, {counts['failed']} failed"
                    if ctx.tested(commune.firewall_name) else NO_EVIDENCE)
        return [link(f"../{commune_page(commune)}", commune.name), commune.gso_type, commune.code,
                str(commune.officials), evidence]

    listing = section(f"Communes ({len(communes)})",
                      table(["commune", "type", "GSO code", "officials", "firewall controls"],
                            [row(c) for c in communes], empty="no commune in the model"), id_="communes")
    return page(site.name, "../", [("index.html", "Index")], _body(ctx, site, [listing]), ctx.footer)


def commune(ctx: Context, site: Site) -> str:
    parent = ctx.province.site(site.district_code)
    return page(site.name, "../", [("index.html", "Index"), (site_page(parent), parent.name)],
                _body(ctx, site, []), ctx.footer)


def district_list(ctx: Context) -> Html:
    """The index's list of districts (one link each), with their commune counts."""
    return ul([join([link(site_page(d), d.name), f" — {d.gso_type}, {len(ctx.province.communes_of(d.code))} "
                     "communes"]) for d in ctx.province.districts], empty="no district in the model")
