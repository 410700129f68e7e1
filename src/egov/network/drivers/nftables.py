"""Linux firewalls: the province policy table, applied commit-confirmed over Netmiko (`linux`)."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

from egov.network import nftdiff
from egov.network.drivers.base import Change, Driver
from egov.network.errors import DeviceError, ErrorKind

SCRIPT = (Path(__file__).parent / "commit_confirmed.sh").read_text(encoding="utf-8")
LIST_CMD = "nft -s list table inet egov_policy"


class NftablesDriver(Driver):
    @property
    def sudo(self) -> str:
        return "" if self.login.username == "root" else "sudo -n "

    @property
    def stage(self) -> str:
        return f"/tmp/egov-net-{self.device.name}"

    @property
    def state(self) -> str:
        return str(self.device.vars.get("state_dir", f"{self.options.state_dir}/{self.device.name}"))

    def run(self, conn: Any, command: str) -> tuple[int, str]:
        out = conn.send_command(f"{command}; echo __RC=$?", read_timeout=self.options.timeout)
        match = re.search(r"__RC=(\d+)\s*$", out)
        if not match:
            raise DeviceError(ErrorKind.TIMEOUT, f"no exit status from {command!r}: {out[-200:]!r}")
        return int(match.group(1)), out[: match.start()].strip()

    def running(self, conn: Any) -> str:
        rc, out = self.run(conn, f"{self.sudo}{LIST_CMD} 2>&1")
        if rc == 0:
            return out + "\n"
        if "No such file or directory" in out:
            return ""                          # no policy table yet
        if "password is required" in out or "not allowed" in out:
            raise DeviceError(ErrorKind.AUTH, f"sudo refused for {self.login.username}: {out}")
        raise DeviceError(ErrorKind.REJECTED, f"cannot read the ruleset: {out}")

    def differences(self, intended: str, running: str) -> list[str]:
        return nftdiff.diff(intended, running)

    def upload(self, conn: Any, path: str, text: str) -> None:
        """Write a file through the shell (heredoc), then check its digest."""
        body = text.expandtabs(4)
        if "EGOV_EOF" in body:
            raise DeviceError(ErrorKind.INTERNAL, "file contains the heredoc marker")
        conn.send_command(f"cat > {path} <<'EGOV_EOF'\n{body.rstrip(chr(10))}\nEGOV_EOF",
                          cmd_verify=False, expect_string=re.escape(conn.base_prompt),
                          read_timeout=self.options.timeout)
        want = hashlib.sha256((body.rstrip("\n") + "\n").encode()).hexdigest()
        rc, out = self.run(conn, f"sha256sum {path}")
        if rc != 0 or not out.split() or out.split()[0] != want:
            raise DeviceError(ErrorKind.INTERNAL, f"upload of {path} corrupted ({out[:80]!r})")

    def stage_files(self, conn: Any, intended: str) -> None:
        rc, out = self.run(conn, f"mkdir -p {self.stage} && chmod 700 {self.stage}")
        if rc != 0:
            raise DeviceError(ErrorKind.REJECTED, f"cannot create {self.stage}: {out}")
        self.upload(conn, f"{self.stage}/candidate.nft", intended)
        self.upload(conn, f"{self.stage}/commit.sh", SCRIPT)

    def script(self, conn: Any, *args: str) -> tuple[int, str]:
        return self.run(conn, f"{self.sudo}sh {self.stage}/commit.sh {' '.join(args)} 2>&1")

    def check(self, conn: Any, intended: str) -> None:
        self.stage_files(conn, intended)
        rc, out = self.script(conn, "check", self.state, self.stage)
        if rc != 0 or "EGOV_CHECK_OK" not in out:
            raise DeviceError(ErrorKind.REJECTED, "nft -c refused the policy, nothing applied: "
                              + _nft_error(out))

    def apply(self, conn: Any, intended: str, running: str) -> Change:
        diff = self.differences(intended, running)
        if not diff:
            return Change(changed=False)
        self.check(conn, intended)
        timeout = int(self.options.confirm_timeout)
        rc, out = self.script(conn, "apply", self.state, self.stage, str(timeout))
        match = re.search(r"EGOV_APPLIED (\d+)", out)
        if rc != 0 or not match:
            raise DeviceError(ErrorKind.REJECTED, "nft refused the policy, nothing applied: " + _nft_error(out))
        token = match.group(1)
        applied_at = time.monotonic()
        conn.disconnect()
        self.confirm(token, applied_at)
        return Change(changed=True, commands=diff)

    def confirm(self, token: str, applied_at: float) -> None:
        """Reconnect with a fresh session and confirm before the device reverts by itself."""
        deadline = applied_at + self.options.confirm_timeout - 1.0
        last: DeviceError | None = None
        while time.monotonic() < deadline:
            try:
                with self.session() as conn:
                    rc, out = self.script(conn, "confirm", self.state, token)
                    if rc == 0 and "EGOV_CONFIRMED" in out:
                        return
                    raise DeviceError(ErrorKind.REVERTED, f"confirm came too late, the device reverted: {out}")
            except DeviceError as exc:
                if exc.kind == ErrorKind.REVERTED:
                    raise
                last = exc
                time.sleep(0.5)
        # We could not come back: the device reverts on its own. Wait for it and check.
        time.sleep(max(0.0, applied_at + self.options.confirm_timeout + 2.0 - time.monotonic()))
        try:
            with self.session() as conn:
                _, out = self.script(conn, "status", self.state)
        except DeviceError as exc:
            raise DeviceError(ErrorKind.UNREACHABLE, f"the new policy cut the controller off ({last}) and the "
                              f"device is still unreachable after its revert time: {exc.message}") from exc
        if "EGOV_REVERTED" in out:
            cause = last.message if last else ""
            raise DeviceError(ErrorKind.REVERTED, f"the new policy cut the controller off ({cause}); "
                              "the device reverted to the previous policy by itself")
        raise DeviceError(ErrorKind.UNREACHABLE, f"could not confirm in time ({last}); device status: {out}")


def _nft_error(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip() and not line.startswith("EGOV_")]
    errors = [line for line in lines if "Error" in line]
    return " | ".join((errors or lines)[:3])[:400]
