"""`egov report`: write the static audit site from the model, the catalogue, the plan and the evidence."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from egov.cliutil import load_or_exit
from egov.model import DEFAULT_MODEL
from egov.report.collect import collect
from egov.report.context import Context
from egov.report.controls import load_catalogue
from egov.report.links import broken_links
from egov.report.plan import load_plan, missing_paths, unknown_concerns
from egov.report.site import write_site

REPO_ROOT = Path(__file__).resolve().parents[3]


@click.command("report")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="site directory  [default: EVIDENCE_DIR/site]")
@click.option("--model", "model_path", default=str(DEFAULT_MODEL), show_default=True,
              type=click.Path(dir_okay=False), help="province model file")
@click.option("--evidence-dir", type=click.Path(file_okay=False, path_type=Path), default=REPO_ROOT / "reports",
              show_default=True, help="where the run's evidence is (run-latest.json, junit/, network/)")
@click.option("--catalogue", type=click.Path(dir_okay=False, path_type=Path),
              default=REPO_ROOT / "controls" / "catalogue.yml", show_default=True, help="baseline control catalogue")
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False, path_type=Path),
              default=REPO_ROOT / "docs" / "plan-items.yml", show_default=True, help="the plan's items as data")
@click.option("--env", "environment", type=click.Choice(["lab", "production"]), default="lab", show_default=True,
              help="the environment the evidence comes from (waivers limited to an environment)")
@click.option("--check-links/--no-check-links", default=True, show_default=True,
              help="fail (exit 1) when a page links to a file the site does not have")
def report(out: Path | None, model_path: str, evidence_dir: Path, catalogue: Path, plan_path: Path,
           environment: str, check_links: bool) -> None:
    """Write the audit site (plan -> implementation -> evidence; districts, communes, DC hosts, KPIs)."""
    province = load_or_exit(model_path)
    controls = load_catalogue(catalogue)
    items = load_plan(plan_path)
    for problem in missing_paths(items, REPO_ROOT) + unknown_concerns(items, {c.concern for c in controls}):
        click.echo(f"warning: {plan_path.name}: {problem}", err=True)
    evidence = collect(evidence_dir, [c.id for c in controls])
    for problem in evidence.problems:
        click.echo(f"warning: evidence {problem}", err=True)
    ctx = Context(province=province, controls=controls, plan=items, evidence=evidence, repo_root=REPO_ROOT,
                  environment=environment)
    result = write_site(ctx, out or evidence_dir / "site")
    click.echo(f"written: {result.out}/index.html ({result.pages} pages in {result.seconds:.1f} s)")
    if check_links:
        broken = broken_links(result.out)
        if broken:
            click.echo("broken links:\n  " + "\n  ".join(broken[:50]), err=True)
            sys.exit(1)
