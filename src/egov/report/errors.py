"""The report's own errors: its inputs from the repository (catalogue, plan items) are unusable."""

from __future__ import annotations

from egov.errors import EgovError


class ReportError(EgovError):
    """The catalogue or docs/plan-items.yml cannot be read; the message names the file and the problem."""
