"""The application's errors: a message for the operator or the official, and the exit code of ``egov-oss``."""

from __future__ import annotations


class OssError(Exception):
    """An error raised on purpose; ``egov-oss`` prints ``error: <message>`` and exits with ``exit_code``."""

    exit_code: int = 2


class ConfigError(OssError):
    """The config file (or a file it names) is missing or invalid."""


class CatalogueError(OssError):
    """The catalogue file is invalid (unknown kind, dangling parent or department, ...)."""


class MigrationError(OssError):
    """A migration failed; nothing of that migration was applied (each runs in its own transaction)."""


class DossierError(OssError):
    """An action on a dossier is not allowed (not held by the agency, wrong status, unknown procedure, ...)."""

    exit_code = 1


class NotFound(DossierError):
    """No such dossier (or not visible to the agency: RLS makes the two the same)."""


class AuthError(OssError):
    """Login through the SSO failed (bad token, wrong audience or nonce, expired, unknown agency)."""
