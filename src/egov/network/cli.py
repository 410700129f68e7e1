"""`egov network ...`: render, backup, diff, push, verify, rollback and drift for every switch and firewall."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from egov import settings
from egov.cliutil import load_or_exit
from egov.model import DEFAULT_MODEL
from egov.network import credentials as creds
from egov.network import inventory, ops
from egov.network.archive import DEFAULT_ARCHIVE, Archive
from egov.network.drivers import Options
from egov.network.paths import network_dir
from egov.network.report import DeviceResult, RunReport
from egov.network.runner import run_all


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--env", type=click.Choice(["lab", "production"]), default="lab", show_default=True,
                     help="lab: generated secrets, lab SSH key; production: vault credentials required."),
        click.option("--only", multiple=True, help="device name/glob, dc, site:<code|slug>, role:<r>, kind:<k>, "
                     "platform:<p>; repeat to add."),
        click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True),
        click.option("--retries", type=click.IntRange(0, 5), default=1, show_default=True,
                     help="extra attempts for unreachable/timed-out devices"),
        click.option("--timeout", type=float, default=10.0, show_default=True, help="per-device connect/read timeout"),
        click.option("--confirm-timeout", type=float, default=20.0, show_default=True,
                     help="firewalls revert unless the controller confirms within this many seconds"),
        click.option("--hosts-file", type=click.Path(exists=True, path_type=Path),
                     help="YAML overriding device addresses (emulated devices, harnesses)"),
        click.option("--hosts-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="only devices named in this file (JSON object/list or one name a line), e.g. the "
                     f"lab's {settings.lab_nodes_file()}: the lab devices that are up; combines with --only"),
        click.option("--credentials", "credentials_file", type=click.Path(exists=True, path_type=Path),
                     help="ansible-vault file with device credentials"),
        click.option("--vault-password-file", type=click.Path(exists=True, path_type=Path)),
        click.option("--model", type=click.Path(exists=True, path_type=Path), help="province model file"),
        click.option("--archive", type=click.Path(path_type=Path), default=DEFAULT_ARCHIVE, show_default=True,
                     help="git-versioned backup archive"),
        click.option("--json", "as_json", is_flag=True, help="print the JSON report on stdout"),
        click.option("--show-changes", is_flag=True, help="list every change/difference per device"),
        click.option("--no-progress", is_flag=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _credentials(env: str, file: Path | None, vault_pw: Path | None) -> creds.Credentials:
    if file:
        return creds.load_vault(file, vault_pw)
    default = network_dir() / "credentials" / f"{env}.vault.yml"
    if default.exists():
        return creds.load_vault(default, vault_pw)
    if env == "production":
        raise click.UsageError(f"production needs vault credentials: --credentials or {default}")
    return creds.generate()


def execute(operation: str, kw: dict[str, Any], fail_on_change: bool = False, **ctx_extra: Any) -> None:
    console = Console(stderr=True)
    province = load_or_exit(kw["model"] or DEFAULT_MODEL)
    devices = inventory.apply_hosts_file(inventory.derive(province), kw["hosts_file"])
    try:
        devices = inventory.restrict(devices, kw["hosts_from"])
        if not devices:
            raise ValueError(f"--hosts-from {kw['hosts_from']} names no device of the inventory")
        devices = inventory.select(devices, kw["only"])
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if kw["env"] == "production" and kw["hosts_file"] and any("password" in d.vars for d in devices):
        raise click.UsageError("production credentials come from the vault, not from a hosts file")
    options = Options(timeout=kw["timeout"], confirm_timeout=kw["confirm_timeout"])
    ctx = ops.Context(province=province, credentials=_credentials(kw["env"], kw["credentials_file"],
                                                                 kw["vault_password_file"]),
                      options=options, env=kw["env"], **ctx_extra)
    if operation in ("backup", "rollback"):
        ctx.archive = Archive(kw["archive"])
        ctx.archive.ensure()
    task = functools.partial(ops.TASKS[operation], ctx)
    workers = 1 if operation == "render" else kw["workers"]
    started = time.monotonic()
    results = _run_with_progress(devices, task, workers, kw["retries"], operation,
                                 show=not kw["no_progress"] and not kw["as_json"], console=console)
    report = RunReport(operation=operation, env=kw["env"], workers=workers, seconds=time.monotonic() - started,
                       results=results)
    if operation == "backup" and ctx.archive:
        ok = [r.device for r in results if not r.failed]
        report.extra["tag"] = ctx.archive.commit(ok, f"backup of {len(ok)} devices ({kw['env']})")
        report.extra["archive"] = str(ctx.archive.path)
    if kw["as_json"]:
        click.echo(report.to_json())
    else:
        report.print_table(Console(), show_changes=kw["show_changes"])
        if "tag" in report.extra:
            Console().print(f"backup tag: {report.extra['tag']} in {report.extra['archive']}")
    if report.failures:
        sys.exit(1)
    if operation == "drift" and any(r.status == "drift" for r in results):
        sys.exit(2)
    if fail_on_change and any(r.status == "changed" for r in results):
        Console(stderr=True).print("[red]--fail-on-change: devices changed: "
                                   + ", ".join(r.device for r in results if r.status == "changed"))
        sys.exit(3)


def _run_with_progress(devices: list[inventory.Device], task: Callable[[inventory.Device], DeviceResult],
                       workers: int, retries: int, label: str, show: bool, console: Console) -> list[DeviceResult]:
    if not show:
        return run_all(devices, task, workers, retries)
    columns = (TextColumn(f"{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[last]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(label, total=len(devices), last="")

        def tick(result: DeviceResult) -> None:
            mark = "FAILED " if result.failed else ""
            progress.update(bar, advance=1, last=f"{mark}{result.device}")
        return run_all(devices, task, workers, retries, progress=tick)


@click.group("network")
def network() -> None:
    """Switches and firewalls of every site: render, backup, diff, push, verify, rollback, drift."""


@network.command()
@common
@click.option("--out", type=click.Path(path_type=Path), help="write each rendered config to OUT/<platform>/<name>.cfg")
def render(out: Path | None, **kw: Any) -> None:
    """Render every device's full intended configuration (offline)."""
    execute("render", kw, render_dir=out)


@network.command()
@common
def backup(**kw: Any) -> None:
    """Archive the running configurations (one git commit and tag per run)."""
    execute("backup", kw)


@network.command()
@common
def diff(**kw: Any) -> None:
    """Show intent vs running configuration per device."""
    execute("diff", kw)


@network.command()
@common
@click.option("--fail-on-change", is_flag=True, help="exit 3 when any device had to be changed (idempotence check)")
def push(fail_on_change: bool, **kw: Any) -> None:
    """Push what differs (firewalls: commit-confirmed), then read back and check."""
    execute("push", kw, fail_on_change=fail_on_change)


@network.command()
@common
def verify(**kw: Any) -> None:
    """Read back every device and fail where the running config differs from intent."""
    execute("verify", kw)


@network.command()
@common
@click.option("--to", "ref", required=True, help="backup tag (see `egov network backups`) or archive commit")
def rollback(ref: str, **kw: Any) -> None:
    """Restore the running configuration archived at a backup tag."""
    execute("rollback", kw, rollback_ref=ref)


@network.command()
@common
def drift(**kw: Any) -> None:
    """List every device whose running config differs from intent (exit 2 when any does)."""
    execute("drift", kw)


@network.command("backups")
@click.option("--archive", type=click.Path(path_type=Path), default=DEFAULT_ARCHIVE, show_default=True)
def backups(archive: Path) -> None:
    """List the backup tags of the archive."""
    for tag in Archive(archive).tags():
        click.echo(tag)


def main() -> None:
    network()


if __name__ == "__main__":
    main()
