"""Helpers shared by the command-line groups: the one EgovError handler and the model loader."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from egov.errors import EgovError
from egov.model import Province, load_province

logger = logging.getLogger(__name__)


class EgovGroup(click.Group):
    """A command group where an EgovError becomes `error: <message>` on stderr and its exit code.

    `egov` (egov.cli.main) uses it, and so does every group that can also run on its own
    (`python -m egov.cloud`): the same message and exit code either way.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EgovError as exc:
            logger.debug("%s", type(exc).__name__, exc_info=True)
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def load_or_exit(model: str | Path) -> Province:
    """Load the province model. On problems the ModelError (an EgovError, exit 2) carries every one of
    them to the group's handler, which prints the list: no traceback, nothing written."""
    return load_province(Path(model))
