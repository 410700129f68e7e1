"""Helpers shared by the command-line groups."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from egov.model import ModelError, Province, load_province


def load_or_exit(model: str | Path) -> Province:
    """Load the province model; on problems print every one of them and exit 2."""
    try:
        return load_province(Path(model))
    except ModelError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
