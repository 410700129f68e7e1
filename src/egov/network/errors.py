"""Per-device failures, each with a kind a report (and a script) can act on."""

from __future__ import annotations

from enum import StrEnum

from egov.errors import EgovError


class ErrorKind(StrEnum):
    UNKNOWN_PLATFORM = "unknown-platform"
    TEMPLATE = "template-error"
    UNREACHABLE = "unreachable"
    AUTH = "wrong-credentials"
    REJECTED = "rejected-command"
    REVERTED = "reverted"
    TIMEOUT = "timeout"
    VERIFY = "verify-failed"
    BACKUP_MISSING = "backup-missing"
    INTERNAL = "internal-error"


# Errors worth a second try: the device may just be slow or busy.
RETRYABLE = {ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT}


class DeviceError(EgovError):
    """A failure on one device; never stops the other devices."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
