"""Running system commands with clear errors."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from egov.errors import EgovError


class CommandError(EgovError, RuntimeError):
    def __init__(self, argv: Sequence[str], returncode: int, stderr: str, stdin: str | None = None) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr.strip()
        detail = f"\n--- input ---\n{stdin}" if stdin else ""
        super().__init__(f"`{' '.join(argv)}` failed (exit {returncode}): {self.stderr}{detail}")


def run(argv: Sequence[str], *, stdin: str | None = None, check: bool = True, timeout: float = 300) -> str:
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr or proc.stdout, stdin)
    return proc.stdout


def ok(argv: Sequence[str], timeout: float = 60) -> bool:
    """True when the command succeeds within `timeout` s (a command that hangs counts as a failure)."""
    try:
        return subprocess.run(list(argv), capture_output=True, check=False, timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ip_batch(commands: list[str], netns: str | None = None, *, force: bool = False) -> None:
    """Run `ip -batch -` (optionally inside a namespace); force continues after an error."""
    if not commands:
        return
    argv = ["ip", *(["-n", netns] if netns else []), *(["-force"] if force else []), "-batch", "-"]
    run(argv, stdin="\n".join(commands) + "\n", check=not force)
