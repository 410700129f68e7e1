"""`egov`: the command line of the repository (model, inventories, lab, main job)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import yaml

from egov.cliutil import EgovGroup, load_or_exit
from egov.errors import DependencyError
from egov.model import DEFAULT_MODEL, Province, render_allocations

REPO_ROOT = Path(__file__).resolve().parents[2]


logger = logging.getLogger(__name__)


@click.group(cls=EgovGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="egov-soctrang")
@click.option("-v", "--verbose", count=True, help="diagnostic messages on stderr (-v: info, -vv: debug)")
def main(verbose: int = 0) -> None:
    """Sóc Trăng e-government infrastructure: model, inventories, lab and main job."""
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


# -- model ---------------------------------------------------------------------------------------
@main.group()
def model() -> None:
    """The province model (source of truth)."""


MODEL_OPTION = click.option("--model", "model_path", default=str(DEFAULT_MODEL), show_default=True,
                            type=click.Path(dir_okay=False), help="province model file")


@model.command("check")
@MODEL_OPTION
def model_check(model_path: str) -> None:
    """Validate the model; print every problem (file:line: key path: what is wrong)."""
    province = load_or_exit(model_path)
    unallocated = _unallocated(province, Path(model_path))
    click.echo(f"ok: {province.name}: {len(province.districts)} districts, {len(province.communes)} communes, "
               f"{len(province.departments)} departments, {len(province.dc_hosts)} DC hosts, "
               f"{province.total_officials} officials")
    if unallocated:
        click.echo(f"note: {_count(unallocated)} not yet in the ledger ({_sample(unallocated)}); run "
                   "`egov model allocate`", err=True)
    elif _ledger_outdated(province, Path(model_path)):
        click.echo("note: the ledger's comments or order are out of date; run `egov model allocate`", err=True)


def _unallocated(province: Province, model_path: Path) -> list[str]:
    """The sites (GSO codes) and DC hosts numbered by this load but not written in the ledger."""
    ledger = model_path.parent / "allocations.yml"
    data = yaml.safe_load(ledger.read_text(encoding="utf-8")) if ledger.exists() else None
    data = data if isinstance(data, dict) else {}
    written = {kind: set(data.get(kind) or {}) for kind in ("sites", "hosts")}
    return [f"site {code}" for code in province.allocations["sites"] if code not in written["sites"]] + \
        [f"host {name}" for name in province.allocations["hosts"] if name not in written["hosts"]]


def _count(items: list[str]) -> str:
    sites = sum(item.startswith("site ") for item in items)
    hosts = len(items) - sites
    return " and ".join(part for part in (f"{sites} site{'s' if sites != 1 else ''}" if sites else "",
                                          f"{hosts} DC host{'s' if hosts != 1 else ''}" if hosts else "") if part)


def _sample(items: list[str]) -> str:
    return ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")


def _ledger_outdated(province: Province, model_path: Path) -> bool:
    ledger = model_path.parent / "allocations.yml"
    return (ledger.read_text(encoding="utf-8") if ledger.exists() else "") != render_allocations(province)


@model.command("allocate")
@MODEL_OPTION
def model_allocate(model_path: str) -> None:
    """Write the allocation ledger (new sites/hosts get the next free numbers; others keep theirs)."""
    province = load_or_exit(model_path)
    ledger = Path(model_path).parent / "allocations.yml"
    text = render_allocations(province)
    if ledger.exists() and ledger.read_text(encoding="utf-8") == text:
        click.echo(f"unchanged: {ledger}")
        return
    ledger.write_text(text, encoding="utf-8")
    click.echo(f"written: {ledger}")


# -- inventories ---------------------------------------------------------------------------------
@main.group()
def inventory() -> None:
    """Ansible inventories generated from the model."""


INV_ROOT = click.option("--root", default=str(REPO_ROOT / "inventories"), show_default=True,
                        type=click.Path(file_okay=False), help="inventories directory")


@inventory.command("generate")
@MODEL_OPTION
@INV_ROOT
def inventory_generate(model_path: str, root: str) -> None:
    """Regenerate inventories/lab and inventories/production (and the ledger)."""
    from egov.inventory import write_inventories

    province = load_or_exit(model_path)
    ledger = Path(model_path).parent / "allocations.yml"
    text = render_allocations(province)
    if not ledger.exists() or ledger.read_text(encoding="utf-8") != text:
        ledger.write_text(text, encoding="utf-8")
        click.echo(f"written: {ledger}")
    changed = write_inventories(province, Path(root))
    for path in changed:
        click.echo(f"written: {path}")
    click.echo(f"{len(changed)} inventory file(s) changed")


@inventory.command("check")
@MODEL_OPTION
@INV_ROOT
def inventory_check(model_path: str, root: str) -> None:
    """Fail when the committed inventories are stale against the model."""
    from egov.inventory import stale_files

    stale = stale_files(load_or_exit(model_path), Path(root))
    if stale:
        click.echo("stale generated files (run `egov inventory generate`):\n  " + "\n  ".join(stale), err=True)
        sys.exit(1)
    click.echo("inventories are up to date")


def _unavailable(name: str, error: ImportError) -> click.Command:
    """Stand-in for a command group whose dependencies are not installed: a DependencyError (exit 2)."""

    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                   help=f"(unavailable: {error}; run `make deps`)")
    def stand_in() -> None:
        raise DependencyError(f"`egov {name}` needs packages that are not installed ({error}); run `make deps`")

    return stand_in


def _register_optional_groups() -> None:
    """Sub-command groups living in their own packages (lab, cloud, network) and the main job."""
    from egov.converge import converge
    from egov.job import run
    from egov.lab.cli import lab

    main.add_command(lab)
    main.add_command(run)
    main.add_command(converge)
    from egov.directory_cli import directory  # issue 6: the officials' directory

    main.add_command(directory)
    for module, name in (("egov.cloud.cli", "cloud"), ("egov.network.cli", "network"), ("egov.report.cli", "report")):
        try:
            imported = __import__(module, fromlist=[name])
        except ImportError as exc:
            if exc.name == module:          # that part of the repository is not there at all
                continue
            main.add_command(_unavailable(name, exc))
            continue
        main.add_command(getattr(imported, name))


_register_optional_groups()
