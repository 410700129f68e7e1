"""`egov converge`: run a playbook, then report per host what changed and what failed.

    egov converge                                   # playbooks/site.yml on every lab host that is up
    egov converge --limit pki,dns,directory,mail,sso --twice
    egov converge --playbook playbooks/baseline.yml --limit dns-01 --expect-no-change
    egov converge --limit pki,dns --check

`--twice` runs the playbook a second time and fails when that run changes anything (idempotence);
`--expect-no-change` does the same on a single run (a converged lab). `--check` runs it once with
`--check --diff` and fails unless every host's recap says changed=0 failed=0 unreachable=0, naming the
hosts and the tasks that would change. The per-host counts come from Ansible's PLAY RECAP and are
written to reports/converge-latest.json.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from egov import settings
from egov.progress import Progress

REPO_ROOT = Path(__file__).resolve().parents[2]
LAB_INVENTORY = REPO_ROOT / "inventories" / "lab"


def __getattr__(name: str) -> Path:
    """`converge.UP_HOSTS`: <lab state>/up-hosts, read when asked ($EGOV_LAB_STATE, egov.settings)."""
    if name == "UP_HOSTS":
        return settings.lab_up_hosts()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)"
)


@dataclass
class RunResult:
    label: str
    seconds: float
    returncode: int
    log: str
    hosts: dict[str, dict[str, int]] = field(default_factory=dict)
    changed_tasks: dict[str, list[str]] = field(default_factory=dict)
    # failed host -> "task: reason" (from the output stream; what a stuck or failed host was doing)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(h for h, c in self.hosts.items() if c["failed"] or c["unreachable"])

    @property
    def changed_hosts(self) -> dict[str, int]:
        return {h: c["changed"] for h, c in sorted(self.hosts.items()) if c["changed"]}


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def strip_colours(text: str) -> str:
    """The output without ANSI colour codes (ANSIBLE_FORCE_COLOR=1, set by molecule, is inherited)."""
    return ANSI_ESCAPE.sub("", text)


def parse_recap(text: str) -> dict[str, dict[str, int]]:
    """host -> counts, from the PLAY RECAP lines of an ansible-playbook output (coloured or not)."""
    hosts: dict[str, dict[str, int]] = {}
    for line in strip_colours(text).splitlines():
        match = RECAP.match(line.strip())
        if match:
            hosts[match["host"]] = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return hosts


CHANGED_LINE = re.compile(r"^changed: \[(?P<host>[^\]\s]+)(?: -> [^\]]+)?\]")


def parse_changed_tasks(text: str) -> dict[str, list[str]]:
    """host -> names of the tasks that reported `changed` (what to look at when a re-run is not idempotent)."""
    tasks: dict[str, list[str]] = {}
    task = ""
    for line in strip_colours(text).splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif match := CHANGED_LINE.match(line):
            names = tasks.setdefault(match["host"], [])
            if task not in names:
                names.append(task)
    return tasks


STRATEGIES = ("mitogen", "linear", "free")


def strategy_env(strategy: str | None) -> dict[str, str]:
    """Environment that selects the Ansible strategy; `mitogen` (the default when the `mitogen` package is
    installed) runs modules in one persistent interpreter per host instead of one per task."""
    if strategy is None:
        strategy = os.environ.get("EGOV_ANSIBLE_STRATEGY") or ("mitogen" if _mitogen_dir() else "linear")
    if strategy not in STRATEGIES:
        raise click.BadParameter(f"{strategy!r}: expected one of {', '.join(STRATEGIES)}",
                                 param_hint="--strategy / EGOV_ANSIBLE_STRATEGY")
    if strategy != "mitogen":
        return {"ANSIBLE_STRATEGY": strategy}
    plugins = _mitogen_dir()
    if plugins is None:
        raise click.UsageError("--strategy mitogen: the `mitogen` package is not installed (pip install mitogen)")
    return {"ANSIBLE_STRATEGY_PLUGINS": str(plugins), "ANSIBLE_STRATEGY": "mitogen_linear"}


def _mitogen_dir() -> Path | None:
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "plugins" / "strategy"


def run_playbook(playbook: str, inventory: str, limit: str, extra: list[str], label: str,
                 log_dir: Path, env_extra: dict[str, str] | None = None) -> RunResult:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"converge-{label}.log"
    cmd = ["ansible-playbook", "-i", inventory, playbook, "--limit", limit, *extra]
    env = os.environ | {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"} | (env_extra or {})
    strategy = env.get("ANSIBLE_STRATEGY", "linear")
    click.echo(f"[{label}] {' '.join(cmd)}  (strategy {strategy}, log: {log})", err=True)
    started = time.monotonic()
    progress = Progress()
    lock = threading.Lock()
    stop = threading.Event()

    def tick() -> None:
        # a status line every PROGRESS_INTERVAL s even when Ansible prints nothing: a stall is visible
        while not stop.wait(progress_interval()):
            with lock:
                line = progress.status_line(label)
            click.echo(line, err=True)

    ticker = threading.Thread(target=tick, name="converge-progress", daemon=True)
    with log.open("w", encoding="utf-8") as out:
        # the output goes to the log and, line by line, to the terminal: long runs show progress
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        assert proc.stdout is not None
        ticker.start()
        try:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                with lock:
                    progress.feed(line)
                if line.startswith(("TASK [", "PLAY [", "fatal:", "failed:")):
                    click.echo(f"[{label} {time.monotonic() - started:7.0f}s] {line.rstrip()}", err=True)
            code = proc.wait()
        finally:
            stop.set()
    click.echo(progress.status_line(label), err=True)
    seconds = round(time.monotonic() - started, 1)
    text = log.read_text(encoding="utf-8")
    return RunResult(label, seconds, code, str(log), parse_recap(text), parse_changed_tasks(text),
                     {h: str(f) for h, f in sorted(progress.failures().items())})


def progress_interval() -> float:
    """Seconds between two progress lines ($EGOV_PROGRESS_INTERVAL, default 20)."""
    try:
        return max(1.0, float(os.environ.get("EGOV_PROGRESS_INTERVAL", "20")))
    except ValueError:
        return 20.0


def summary_lines(result: RunResult) -> list[str]:
    per_count = Counter(c["changed"] for c in result.hosts.values())
    lines = [f"{result.label}: {result.seconds:.1f} s, exit {result.returncode}, {len(result.hosts)} hosts, "
             f"{len(result.failed_hosts)} failed/unreachable"]
    lines.append("  changed per host: " + (", ".join(f"{n} host(s) changed={c}" for c, n in sorted(per_count.items()))
                                          or "none"))
    if result.failed_hosts:
        lines.append("  failed: " + " ".join(result.failed_hosts))
        for host in result.failed_hosts:
            if host in result.failures:
                lines.append(f"    {host}: {result.failures[host]}")
    if result.changed_hosts and len(result.changed_hosts) <= 30:
        lines.append("  changed: " + " ".join(f"{h}={c}" for h, c in result.changed_hosts.items()))
    return lines


def check_problems(result: RunResult) -> list[str]:
    """Why a `--check --diff` run of a converged lab is not clean: no recap at all, a host failed or
    unreachable (with its task and reason), a host that would change (with the tasks); empty when clean."""
    if not result.hosts:
        return [f"{result.label} run: no PLAY RECAP in its output (exit {result.returncode}; log {result.log})"]
    problems: list[str] = []
    if result.failed_hosts:
        problems.append(f"{result.label} run: {len(result.failed_hosts)} host(s) failed or unreachable: "
                        + " ".join(result.failed_hosts))
        problems.extend(f"  {host}: {result.failures[host]}" for host in result.failed_hosts
                        if host in result.failures)
    would = result.changed_hosts
    if would:
        problems.append(f"{result.label} run: {sum(would.values())} task(s) would change on {len(would)} host(s): "
                        + " ".join(would))
        for host in would:
            names = result.changed_tasks.get(host) or ["(no `changed:` line found in the output)"]
            problems.append(f"  {host}: " + "; ".join(names))
    if result.returncode != 0 and not problems:
        problems.append(f"{result.label} run failed (exit {result.returncode})")
    return problems


def lab_state_args(inventory: str) -> list[str]:
    """`-e {json}` with the lab state paths when $EGOV_LAB_STATE is not the default and the inventory is
    the lab's (its connection.yml names the default directory); nothing otherwise."""
    extra = settings.lab_state_extra_vars()
    if not extra or (REPO_ROOT / inventory).resolve() != LAB_INVENTORY.resolve():
        return []
    return ["-e", json.dumps(extra, sort_keys=True)]


@click.command("converge", context_settings={"ignore_unknown_options": True})
@click.option("--playbook", default="playbooks/site.yml", show_default=True)
@click.option("-i", "--inventory", default="inventories/lab", show_default=True)
@click.option("--limit", help="hosts/groups (default: every lab host that is up, @<lab state>/up-hosts)")
@click.option("--twice", is_flag=True, help="run a second time; fail if that run changes anything")
@click.option("--expect-no-change", is_flag=True, help="fail if this (single) run changes anything")
@click.option("--check", "check_mode", is_flag=True,
              help="one run with --check --diff; fail unless every host has changed=0 failed=0")
@click.option("--strategy", type=click.Choice(STRATEGIES), default=None,
              help="Ansible strategy [default: $EGOV_ANSIBLE_STRATEGY, else mitogen if installed, else linear]")
@click.option("--report-dir", default=str(REPO_ROOT / "reports"), show_default=True,
              type=click.Path(file_okay=False))
@click.argument("ansible_args", nargs=-1, type=click.UNPROCESSED)
def converge(playbook: str, inventory: str, limit: str | None, twice: bool, expect_no_change: bool,
             check_mode: bool, strategy: str | None, report_dir: str, ansible_args: tuple[str, ...]) -> None:
    """Run a playbook and report per-host changed/failed counts (extra args go to ansible-playbook)."""
    if check_mode and twice:
        raise click.UsageError("--check runs once (a check run changes nothing to run again): drop --twice")
    if not (REPO_ROOT / playbook).is_file():
        raise click.BadParameter(f"{playbook}: no such playbook under {REPO_ROOT}", param_hint="--playbook")
    if not limit:
        up_hosts = settings.lab_up_hosts()
        if not up_hosts.is_file():
            raise click.UsageError(f"no --limit and no {up_hosts}: bring the lab up first (`egov lab up`)")
        limit = f"@{up_hosts}"
    # a non-default $EGOV_LAB_STATE: its key, known_hosts and directories as extra vars (egov.settings)
    ansible_args = (*lab_state_args(inventory), *ansible_args)
    reports = Path(report_dir)
    env_extra = strategy_env(strategy)
    if check_mode:
        results = [run_playbook(playbook, inventory, limit, ["--check", "--diff", *ansible_args], "check",
                                reports, env_extra)]
    else:
        results = [run_playbook(playbook, inventory, limit, list(ansible_args), "first", reports, env_extra)]
    if twice and results[0].returncode == 0:
        results.append(run_playbook(playbook, inventory, limit, list(ansible_args), "second", reports, env_extra))
    problems: list[str] = []
    for result in results:
        for line in summary_lines(result):
            click.echo(line)
        if check_mode:
            problems.extend(check_problems(result))
        elif result.returncode != 0 or result.failed_hosts:
            problems.append(f"{result.label} run failed (exit {result.returncode})")
    last = results[-1]
    if ((twice and len(results) == 2) or expect_no_change) and not check_mode and last.changed_hosts:
        problems.append(f"{last.label} run changed {sum(last.changed_hosts.values())} task(s) on "
                        f"{len(last.changed_hosts)} host(s): not idempotent")
        for host, names in list(last.changed_tasks.items())[:20]:
            problems.append(f"  {host}: " + "; ".join(names))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {"started": stamp, "playbook": playbook, "limit": limit, "strategy": env_extra["ANSIBLE_STRATEGY"],
              "check": check_mode,
              "runs": [asdict(r) for r in results],
              "problems": problems}
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "converge-latest.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(1 if problems else 0)
