"""The base of the tooling's errors: a message for the operator and the exit code of `egov`.

Every error the tooling raises on purpose derives from :class:`EgovError`. The command line
(``egov.cli.main``) catches it in one place, prints ``error: <message>`` on stderr and exits with
the error's ``exit_code``. Exit codes: 1 is "it ran and found failures" (hosts failed, a policy is
violated), 2 (the default here) is "it could not do what was asked" (bad model, missing root, ...).
"""

from __future__ import annotations


class EgovError(Exception):
    """An error with a message meant for the operator and the exit code `egov` ends with."""

    exit_code: int = 2


class DependencyError(EgovError):
    """A command needs packages that are not installed (the Pulumi SDKs, a group's extras)."""
