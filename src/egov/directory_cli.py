"""`egov directory ldif|summary|password`: the officials' directory derived from the model."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import click

from egov.cliutil import load_or_exit
from egov.model import DEFAULT_MODEL
from egov.model.officials import Directory, DirectoryError, build_directory, lab_password, render_ldif, secret_hash

MODEL_OPTION = click.option("--model", "model_path", default=str(DEFAULT_MODEL), show_default=True,
                            type=click.Path(dir_okay=False), help="province model file")
BASE_OPTION = click.option("--base-dn", default=None, help="base DN (default: from the province domain)")


def _directory(model_path: str, base_dn: str | None) -> Directory:
    # a DirectoryError (an EgovError) reaches egov.cli's handler: `error: ...`, exit 2
    return build_directory(load_or_exit(model_path), base_dn)


def _read_seed(path: str) -> str:
    seed = Path(path).read_text(encoding="utf-8").strip()
    if not seed:
        raise DirectoryError(f"--seed-file {path} is empty")
    return seed


@click.group()
def directory() -> None:
    """The directory of officials (OpenLDAP people tree) derived from the model."""


@directory.command("ldif")
@MODEL_OPTION
@BASE_OPTION
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="LDIF file to write ('-': stdout)")
@click.option("--seed-file", type=click.Path(exists=True, dir_okay=False),
              help="lab only: officials-seed file; adds deterministic {SSHA} lab passwords")
def ldif(model_path: str, base_dn: str | None, out: str, seed_file: str | None) -> None:
    """Write the LDIF of the people tree (written only when it changes; mode 0600)."""
    tree = _directory(model_path, base_dn)
    text = render_ldif(tree, _read_seed(seed_file) if seed_file else None)
    summary = f"{len(tree.units)} units, {len(tree.officials)} officials"
    if out == "-":
        click.echo(text, nl=False)
        return
    target = Path(out)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        click.echo(f"unchanged: {target} ({summary})")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    click.echo(f"written: {target} ({summary})")


@directory.command("summary")
@MODEL_OPTION
@BASE_OPTION
def summary(model_path: str, base_dn: str | None) -> None:
    """Units and officials per kind of unit."""
    tree = _directory(model_path, base_dn)
    units = Counter(u.kind for u in tree.units)
    people = Counter(o.unit.kind for o in tree.officials)
    click.echo(f"base {tree.base_dn}")
    for kind in ("department", "district", "commune"):
        click.echo(f"{kind:<11} {units[kind]:>4} units {people[kind]:>5} officials")
    click.echo(f"{'total':<11} {len(tree.units):>4} units {len(tree.officials):>5} officials")


@directory.command("password")
@click.argument("uid")
@click.option("--seed-file", required=True, type=click.Path(exists=True, dir_okay=False))
def password(uid: str, seed_file: str) -> None:
    """Print a lab official's password (lab only: derived from the officials seed)."""
    click.echo(lab_password(_read_seed(seed_file), uid))


@directory.command("ssha")
def ssha_command() -> None:
    """Read {"name": "secret", ...} (JSON) on stdin, print {"name": "{SSHA}..."}: deterministic salts."""
    try:
        secrets = json.loads(sys.stdin.read())
        if not isinstance(secrets, dict) or not all(isinstance(v, str) and v for v in secrets.values()):
            raise ValueError("expected a JSON object of non-empty strings")
    except ValueError as exc:                   # a DirectoryError: egov.cli's handler, exit 2
        raise DirectoryError(f"stdin: {exc}") from exc
    click.echo(json.dumps({name: secret_hash(name, secret) for name, secret in secrets.items()}, sort_keys=True))
