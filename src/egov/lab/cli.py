"""`egov lab up|down|status|ping`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from egov import settings
from egov.cliutil import load_or_exit
from egov.lab import manager
from egov.lab.topology import SelectionError, build_topology
from egov.model import DEFAULT_MODEL

REPO_ROOT = Path(__file__).resolve().parents[3]
console = Console(stderr=True)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[manager.Progress]:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[item]}"), console=console, transient=False,
                  disable=not console.is_terminal and False) as bar:
        task = bar.add_task(label, total=total, item="")

        def advance(item: str, step: int) -> None:
            bar.update(task, advance=step, item=item)

        yield advance


# read when the command runs, not at import: a changed $EGOV_LAB_STATE counts (egov.settings)
STATE_OPTION = click.option("--state", default=lambda: str(settings.lab_state_dir()),
                            show_default=f"${settings.LAB_STATE_ENV}, else {settings.DEFAULT_LAB_STATE}",
                            type=click.Path(file_okay=False), help="lab state directory")
MODEL_OPTION = click.option("--model", "model_path", default=str(DEFAULT_MODEL), show_default=True,
                            type=click.Path(dir_okay=False), help="province model file")
ONLY_OPTION = click.option("--only", multiple=True, metavar="SELECTOR",
                           help="subset: dc, district:<code|slug>, site:<code|slug>, communes:<N> (repeatable)")


@click.group()
def lab() -> None:
    """The local province: systemd-nspawn hosts in network namespaces, reached over SSH."""


@lab.command("up")
@MODEL_OPTION
@STATE_OPTION
@ONLY_OPTION
@click.option("--workers", default=6, show_default=True, type=click.IntRange(1, 32), help="hosts set up at once")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON on stdout")
def up(model_path: str, state: str, only: tuple[str, ...], workers: int, as_json: bool) -> None:
    """Build (or repair) the lab. Safe to re-run: healthy hosts are left alone."""
    province = load_or_exit(model_path)
    try:
        topo = build_topology(province, list(only))
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from None
    total = len(topo.nodes) + len(topo.containers)
    console.print(f"lab: {len(topo.containers)} hosts (systemd) + {len(topo.clients)} LAN clients")
    # a LabError (no root, missing commands) reaches egov.cli's handler: `error: ...`, exit 2
    with progress_bar(total, "lab up") as advance:
        summary = manager.lab_up(province, topo, Path(state), workers=workers, progress=advance,
                                 log=lambda m: console.print(m, markup=False))
    _write_limit_file(Path(state))
    failures = summary["failures"]
    assert isinstance(failures, dict)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
    console.print(f"lab up: {summary['containers']} hosts, {summary['clients']} clients in {summary['seconds']} s; "
                  f"{len(failures)} failed")
    for name, why in sorted(failures.items()):
        console.print(f"  FAILED {name}: {why}", markup=False)
    sys.exit(1 if failures else 0)


def _write_limit_file(state: Path) -> None:
    """<state>/up-hosts: the containers known to the lab, for `ansible --limit @file`."""
    known = manager.known_nodes(state)
    names = sorted(n for n, info in known.items() if info.get("kind") == "container")
    (state / "up-hosts").write_text("\n".join(names) + "\n")


@lab.command("status")
@STATE_OPTION
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def status(state: str, as_json: bool) -> None:
    """A table: host, kind, address, state."""
    rows = manager.lab_status(Path(state))
    if as_json:
        click.echo(json.dumps([{"host": r.name, "kind": r.kind, "address": r.address, "state": r.state}
                               for r in rows], indent=1))
        return
    table = Table(title=f"lab ({len(rows)} nodes)")
    for column in ("host", "kind", "address", "state"):
        table.add_column(column)
    colours = {"running": "green", "up": "green", "booting": "yellow", "broken": "red", "missing": "red"}
    for row in rows:
        table.add_row(row.name, row.kind, row.address, f"[{colours[row.state]}]{row.state}[/]")
    Console().print(table)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    click.echo(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "the lab is down")


@lab.command("down")
@STATE_OPTION
@click.option("--host", "hosts", multiple=True, help="only these nodes (default: everything of the lab)")
@click.option("--purge", is_flag=True, help="also delete the cached base image, apt cache and lab key")
def down(state: str, hosts: tuple[str, ...], purge: bool) -> None:
    """Remove exactly what `up` made (works after a crash too)."""
    names = list(hosts) or None
    count = len(names) if names else len(manager.discovered_names(Path(state)))
    with progress_bar(count, "lab down") as advance:   # a LabError: egov.cli's handler, exit 2
        summary = manager.lab_down(Path(state), names=names, purge=purge, progress=advance)
    left = manager.leftovers(Path(state)) if names is None else []
    console.print(f"lab down: removed {summary['removed']} nodes in {summary['seconds']} s")
    for item in left:
        console.print(f"  left over: {item}", markup=False)
    errors = summary["errors"]
    assert isinstance(errors, dict)
    for name, why in sorted(errors.items()):
        console.print(f"  FAILED {name}: {why}", markup=False)
    sys.exit(1 if errors or left else 0)


@lab.command("ping")
@STATE_OPTION
@click.option("--inventory", default=str(REPO_ROOT / "inventories" / "lab"), show_default=True)
@click.option("--forks", default=30, show_default=True)
def ping(state: str, inventory: str, forks: int) -> None:
    """`ansible -m ansible.builtin.ping` over SSH to every host that is up in the lab."""
    _write_limit_file(Path(state))
    limit = Path(state) / "up-hosts"
    if not limit.read_text().strip():
        raise manager.LabError("no lab host is up; run `egov lab up` first")
    argv = ["ansible", "all", "-i", inventory, "--limit", f"@{limit}", "-m", "ansible.builtin.ping",
            "--forks", str(forks), "-o"]
    env = os.environ | {"ANSIBLE_DEPRECATION_WARNINGS": "False"}
    sys.exit(subprocess.call(argv, cwd=REPO_ROOT, env=env))
