"""The whole site: the index, plan, KPI, run-evidence and search pages, then one page per district,
commune and host (:mod:`~egov.report.places`, :mod:`~egov.report.hosts`), written under ``out``.

:func:`build_pages` is pure (page path -> HTML); :func:`write_site` writes them with the stylesheet,
the search script and its index, replacing the previous site's pages.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from egov.report import assets, hosts, places
from egov.report import controls as ctl
from egov.report.context import Context, host_page, site_page
from egov.report.kpi import compute as compute_kpis
from egov.report.markup import NO_EVIDENCE, Html, dl, join, link, page, section, status, table, tag, ul
from egov.report.plan import PlanItem, item_paths

GENERATED_DIRS = ("district", "commune", "host")


@dataclass(frozen=True)
class SiteResult:
    out: Path
    pages: int
    seconds: float


# ---- index ---------------------------------------------------------------------------------------
def _evidence_summary(ctx: Context) -> Html:
    ev = ctx.evidence
    run = ev.run
    steps = Counter(s.status for s in run.steps) if run else Counter()
    return dl([
        ("main job (run-latest.json)", f"started {run.started}: " + ", ".join(f"{k} {v}" for k, v in steps.items())
         if run else NO_EVIDENCE),
        ("test results (junit/*.xml)", f"{len(ev.tests)} test cases in {len(ev.junit_files)} files"
         if ev.junit_files else NO_EVIDENCE),
        ("rendered device configs (network/)", f"{len(ev.configs)} devices" if ev.configs else NO_EVIDENCE),
        ("network reports (network/*.json)", f"{len(ev.device_runs)} devices" if ev.device_runs else NO_EVIDENCE),
        ("unreadable evidence", join(ev.problems, "; ") if ev.problems else "none"),
    ])


def index(ctx: Context) -> str:
    p = ctx.province
    pages = ul([link("plan.html", "The plan: items, what implements them, their evidence"),
                link("kpi.html", "KPIs against the plan's targets"),
                link("hosts.html", f"DC hosts ({len(p.dc_hosts)}) and the DC firewall"),
                link("run.html", "Evidence of the last run"),
                link("search.html", "Search (and an A–Z list of every page)")])
    facts = dl([("province", f"{p.name} ({p.code})"), ("districts", str(len(p.districts))),
                ("communes", str(len(p.communes))), ("DC hosts", str(len(p.dc_hosts))),
                ("officials", f"{p.total_officials:,}"), ("evidence environment", ctx.environment)])
    body = join([section("Pages", pages), section("Province", facts),
                 section("Districts", places.district_list(ctx), id_="districts"),
                 section("Evidence read", _evidence_summary(ctx))])
    return page(f"Audit site — {p.name}", "", [], body, ctx.footer)


# ---- plan ----------------------------------------------------------------------------------------
def _concern_evidence(ctx: Context, concerns: tuple[str, ...]) -> Html:
    rows = []
    for concern in concerns:
        cases = [c for c in ctx.evidence.tests if c.control and ctx.concern_of.get(c.control) == concern]
        counts = Counter(ctl.classify(c) for c in cases)
        rows.append([concern, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or NO_EVIDENCE,
                     str(len({c.host for c in cases}))])
    return table(["control concern", "results in this run", "hosts"], rows, empty="no baseline control")


def _step_evidence(ctx: Context, prefixes: tuple[str, ...]) -> Html:
    if not prefixes:
        return tag("p", "no main-job step builds this item", class_="none")
    run = ctx.evidence.run
    if run is None:
        return tag("p", f"{NO_EVIDENCE} (run-latest.json absent)", class_="none")
    rows = [[s.name, status(s.status), f"{s.seconds:g}"] for s in run.steps
            if any(s.name.startswith(prefix) for prefix in prefixes)]
    return table(["step", "status", "seconds"], rows)


def _test_evidence(ctx: Context, item: PlanItem) -> Html:
    rows = []
    for path in item.implemented_by.get("tests", ()):
        counts = Counter(c.status for c in ctx.evidence.tests_under(path))
        rows.append([path, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or NO_EVIDENCE])
    return table(["tests", "results in this run"], rows, empty="no test suite is named for this item")


def _plan_item(ctx: Context, item: PlanItem) -> Html:
    paths = [[kind, tag("code", path), "yes" if (ctx.repo_root / path).exists() else status("failed")]
             for kind, path in item_paths(item)]
    return section(f"{item.id} — {item.title}", dl([("plan section", item.section), ("systems", item.systems)]),
                   tag("h3", "Targets"), ul(item.targets, empty="no figure in the plan"),
                   tag("h3", "Implemented by"), table(["kind", "path", "exists"], paths,
                                                      empty="nothing in the repository yet"),
                   tag("h3", "Controls"), _concern_evidence(ctx, item.controls),
                   tag("h3", "Main-job steps"), _step_evidence(ctx, item.run_steps),
                   tag("h3", "Tests"), _test_evidence(ctx, item),
                   tag("h3", "Gaps"), tag("p", item.gaps or "none stated"), id_=item.anchor)


def plan(ctx: Context) -> str:
    toc = ul([link(f"plan.html#{i.anchor}", f"{i.id} — {i.title}") for i in ctx.plan], empty="no plan item")
    body = join([section("Items", toc), *(_plan_item(ctx, i) for i in ctx.plan)])
    return page("The plan and its evidence", "", [("index.html", "Index")], body, ctx.footer)


# ---- KPIs, run, search ---------------------------------------------------------------------------
def kpis(ctx: Context) -> str:
    rows = [[k.name, k.value, k.target, k.baseline, k.source] for k in compute_kpis(ctx.province, ctx.evidence)]
    body = section("What the repository can compute",
                   table(["KPI", "value", "target (plan)", "2016 (plan)", "source"], rows))
    return page("KPIs", "", [("index.html", "Index")], body, ctx.footer)


def run_page(ctx: Context) -> str:
    ev = ctx.evidence
    steps = table(["step", "status", "seconds", "detail"],
                  [[s.name, status(s.status), f"{s.seconds:g}", s.detail] for s in ev.run.steps] if ev.run else [])
    modules = Counter((c.classname, c.status) for c in ev.tests)
    tests = table(["test module", "status", "cases"], [[m, status("failed" if s == "error" else s), str(n)]
                                                        for (m, s), n in sorted(modules.items())])
    failed = table(["test", "message"], [[f"{c.classname}::{c.name}", c.message] for c in ev.tests
                                         if c.status in ("failed", "error")], empty="no failed test")
    configs = table(["device", "platform", "lines", "sha256"],
                    [[d.device, d.platform, str(d.lines), tag("code", d.sha256)] for d in ev.configs.values()])
    body = join([section("Main job steps (run-latest.json)", steps),
                 section("Tests (junit/*.xml)", tests, tag("h3", "Failures"), failed),
                 section("Rendered device configurations (network/)", configs),
                 section("Unreadable evidence", ul(ev.problems, empty="none"))])
    return page("Evidence of the last run", "", [("index.html", "Index")], body, ctx.footer)


def search_entries(ctx: Context) -> list[dict[str, str]]:
    """The search index: title (t), page (u, from the site's top) and keywords (k)."""
    p = ctx.province
    entries = [{"t": "Plan", "u": "plan.html", "k": " ".join(i.id + " " + i.title for i in ctx.plan)},
               {"t": "KPIs", "u": "kpi.html", "k": "kpi targets"},
               {"t": "DC hosts", "u": "hosts.html", "k": "dc hosts"},
               {"t": "Evidence of the last run", "u": "run.html", "k": "run steps tests junit"}]
    for s in p.sites:
        entries.append({"t": s.name, "u": site_page(s), "k": f"{s.kind} {s.gso_type} {s.code} {s.slug} "
                        f"{s.firewall_name} {s.switch_name} {s.block}"})
        entries.append({"t": f"Firewall {s.firewall_name}", "u": host_page(s.firewall_name), "k": s.name})
    for h in p.dc_hosts:
        entries.append({"t": f"DC host {h.name}", "u": host_page(h.name), "k": f"{h.service} {h.address}"})
    entries.append({"t": f"DC firewall {p.dc_firewall.name}", "u": host_page(p.dc_firewall.name), "k": "firewall"})
    return entries


def search(ctx: Context, entries: list[dict[str, str]]) -> str:
    form = Html('<form action="search.html" method="get"><label>Search <input id="q" type="search" name="q">'
                '</label> <button type="submit">Go</button></form><ol id="results"></ol>')
    listing = ul([link(e["u"], e["t"]) for e in sorted(entries, key=lambda e: e["t"].casefold())])
    body = join([form, tag("div", join([tag("h2", "Every page (A–Z)"), listing]), id="all"),
                 Html('<script src="search-index.js"></script><script src="search.js"></script>')])
    return page("Search", "", [("index.html", "Index")], body, ctx.footer)


# ---- the whole site ------------------------------------------------------------------------------
def build_pages(ctx: Context) -> dict[str, str]:
    """Every page of the site: relative path -> HTML."""
    p = ctx.province
    entries = search_entries(ctx)
    pages = {"index.html": index(ctx), "plan.html": plan(ctx), "kpi.html": kpis(ctx), "run.html": run_page(ctx),
             "hosts.html": hosts.hosts_index(ctx), "search.html": search(ctx, entries)}
    for district in p.districts:
        pages[site_page(district)] = places.district(ctx, district)
    for commune in p.communes:
        pages[site_page(commune)] = places.commune(ctx, commune)
    for host in p.dc_hosts:
        pages[host_page(host.name)] = hosts.dc_host(ctx, host)
    pages[host_page(p.dc_firewall.name)] = hosts.dc_firewall(ctx)
    for site in p.sites:
        pages[host_page(site.firewall_name)] = hosts.site_firewall(ctx, site.firewall_name)
    return pages


def write_site(ctx: Context, out: Path) -> SiteResult:
    """Write the site under out (its generated page directories are replaced, nothing else is touched)."""
    started = time.monotonic()
    pages = build_pages(ctx)
    out.mkdir(parents=True, exist_ok=True)
    for directory in GENERATED_DIRS:
        if (out / directory).is_dir():
            shutil.rmtree(out / directory)
    for relative, text in pages.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    index_json = json.dumps(search_entries(ctx), ensure_ascii=False, separators=(",", ":"))
    (out / "search-index.json").write_text(index_json + "\n", encoding="utf-8")
    (out / "search-index.js").write_text(f"window.EGOV_SEARCH_INDEX = {index_json};\n", encoding="utf-8")
    (out / "search.js").write_text(assets.SEARCH_JS, encoding="utf-8")
    (out / "style.css").write_text(assets.CSS, encoding="utf-8")
    return SiteResult(out=out, pages=len(pages), seconds=time.monotonic() - started)
