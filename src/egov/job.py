"""`egov run`: the main job — build the lab, converge, configure devices, verify, report.

Each step is a command line run from the repository root; the job stops at the first failing
step (later steps depend on earlier ones) and always writes a report (JSON + table).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click
import yaml
from rich.console import Console
from rich.table import Table

from egov import settings
from egov.model import load_province

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Step:
    name: str
    argv: list[str]
    optional_module: str = ""     # skip (with a reason) when this part of the repo is absent
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class StepResult:
    name: str
    status: str
    seconds: float
    detail: str


def _egov() -> str:
    found = shutil.which("egov")
    return found or str(Path(sys.executable).parent / "egov")


def built_services(site: Path = REPO_ROOT / "playbooks" / "site.yml") -> list[str]:
    """The model's services that playbooks/site.yml builds: the groups its plays target (a
    `{{ var | default('group') }}` pattern counts as its default). A service with no play yet (its
    hosts carry only the baseline) is not checked against its model listeners."""
    known = {h.service for h in load_province().dc_hosts}
    found: set[str] = set()
    for entry in yaml.safe_load(site.read_text(encoding="utf-8")):
        playbook = site.parent / entry["ansible.builtin.import_playbook"]
        for play in yaml.safe_load(playbook.read_text(encoding="utf-8")) or []:
            pattern = str(play.get("hosts", ""))
            default = re.search(r"default\(['\"]([^'\"]+)['\"]\)", pattern)
            found |= {g.lstrip("!&") for g in re.split(r"[:,]", default.group(1) if default else pattern)}
    return sorted(found & known)


def main_steps(only: list[str], inventory: str, idempotence: bool = True) -> list[Step]:
    egov = _egov()
    only_args = [arg for sel in only for arg in ("--only", sel)]
    limit = ["--limit", f"@{settings.lab_up_hosts()}"]
    twice = ["--twice"] if idempotence else []
    pytest = [sys.executable, "-m", "pytest", "-q", "-m", "lab", "-p", "no:cacheprovider"]
    services = built_services()
    lab_firewalls = ["--env", "lab", "--hosts-from", str(settings.lab_nodes_file()), "--only", "kind:firewall",
                     "--no-progress"]
    return [
        Step("model check", [egov, "model", "check"]),
        Step("inventories up to date", [egov, "inventory", "check"]),
        # the cloud stacks cannot be applied here (no engine, no OpenStack API): their mocked run is
        # planned and policy-checked, and its outputs go through the same hand-off as `pulumi up`'s
        Step("cloud plan (mocked stack, policy pack)", [egov, "cloud", "plan", "--stack", "prod",
                                                        "--out", "reports/cloud"], "stacks"),
        Step("cloud hand-off (stack outputs -> inventory, checked against the model)",
             [egov, "cloud", "handoff", "--outputs", "reports/cloud/outputs-prod.json",
              "--out", "reports/cloud/90-cloud-handoff.yml"], "stacks"),
        Step("lab up", [egov, "lab", "up", *only_args]),
        Step("ssh ping every host", [egov, "lab", "ping"]),
        # every role on every host that is up; --twice: a second run must change nothing
        Step("converge roles (playbooks/site.yml)" + (", then again: changed=0" if idempotence else ""),
             [egov, "converge", "-i", inventory, *limit, *twice], "playbooks/site.yml"),
        # offline: renders every switch and firewall of the province from the model (templates, policy)
        Step("render network device configs (reports/network: the audit site's digests)",
             [egov, "network", "render", "--env", "lab", "--out", "reports/network"], "src/egov/network"),
        # the lab's firewalls that are up (nodes.json): province policy, commit-confirmed; then read back.
        # Switches are not in the main job: the lab has no emulated switches (tests/network covers them).
        Step("push lab firewalls (network policy)",
             [egov, "network", "push", *lab_firewalls], "src/egov/network"),
        Step("second push of lab firewalls changes nothing",
             [egov, "network", "push", "--fail-on-change", *lab_firewalls], "src/egov/network"),
        Step("verify lab firewalls (read back)", [egov, "network", "verify", *lab_firewalls], "src/egov/network"),
        # verification of what the converge built, recorded per host and control (JUnit, read by `egov report`)
        Step("verify: OS baseline on every host that is up (testinfra, reports/junit/baseline.xml)",
             [*pytest, "-n", "4", "--dist", "loadgroup", "tests/baseline", "--junitxml=reports/junit/baseline.xml"],
             "tests/baseline", {"EGOV_BASELINE": "1"}),
        Step("verify: every DC host's sockets and host firewall against the model (reports/junit/ports.xml)",
             [*pytest, "tests/consistency/test_ports_lab.py", "--junitxml=reports/junit/ports.xml"],
             "tests/consistency", {"EGOV_LAB_CONVERGED": "1", "EGOV_LAB_SYSTEMS": ",".join(services)}),
    ]


def run_steps(steps: list[Step], report_dir: Path) -> list[StepResult]:
    console = Console(stderr=True)
    results: list[StepResult] = []
    failed = False
    for step in steps:
        if failed:
            results.append(StepResult(step.name, "not run", 0.0, "an earlier step failed"))
            continue
        if step.optional_module and not (REPO_ROOT / step.optional_module).exists():
            results.append(StepResult(step.name, "skipped", 0.0, f"{step.optional_module} is not in this checkout"))
            continue
        console.rule(f"[bold]{step.name}")
        started = time.monotonic()
        code = subprocess.call(step.argv, cwd=REPO_ROOT, env=os.environ | {"ANSIBLE_FORCE_COLOR": "1"} | step.env)
        seconds = round(time.monotonic() - started, 1)
        status = "ok" if code == 0 else "failed"
        failed = code != 0
        results.append(StepResult(step.name, status, seconds, f"exit {code}: {' '.join(step.argv)}"))
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {"started": stamp, "steps": [asdict(r) for r in results]}
    (report_dir / f"run-{stamp}.json").write_text(json.dumps(report, indent=1) + "\n")
    (report_dir / "run-latest.json").write_text(json.dumps(report, indent=1) + "\n")
    table = Table(title="main job")
    for column in ("step", "status", "seconds", "detail"):
        table.add_column(column)
    colours = {"ok": "green", "failed": "red", "skipped": "yellow", "not run": "dim"}
    for r in results:
        table.add_row(r.name, f"[{colours[r.status]}]{r.status}[/]", f"{r.seconds}", r.detail)
    console.print(table)
    console.print(f"report: {report_dir / f'run-{stamp}.json'}")
    return results


@click.command("run")
@click.option("--only", multiple=True, metavar="SELECTOR", help="run on a subset of the lab (see `lab up --only`)")
@click.option("--inventory", default="inventories/lab", show_default=True)
@click.option("--report-dir", default=str(REPO_ROOT / "reports"), show_default=True, type=click.Path(file_okay=False))
@click.option("--idempotence/--no-idempotence", default=True, show_default=True,
              help="converge a second time and fail if anything changes")
def run(only: tuple[str, ...], inventory: str, report_dir: str, idempotence: bool) -> None:
    """The main job on the lab: build it, converge every role, configure every device, verify, report."""
    results = run_steps(main_steps(list(only), inventory, idempotence), Path(report_dir))
    # the audit site last, from the record just written (a step would show the previous run's)
    Console(stderr=True).rule("[bold]audit site (egov report)")
    subprocess.call([_egov(), "report", "--evidence-dir", report_dir], cwd=REPO_ROOT)
    sys.exit(0 if all(r.status in ("ok", "skipped") for r in results) else 1)
