"""Per-device results and the run report (JSON for scripts, a table for people)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

OK_STATES = {"rendered", "backed-up", "in-sync", "differs", "changed", "unchanged", "verified", "rolled-back",
             "drift"}


@dataclass
class DeviceResult:
    device: str
    platform: str
    site: str
    status: str                       # see OK_STATES, or "failed"
    error_kind: str | None = None
    message: str = ""
    changes: list[str] = field(default_factory=list)
    attempts: int = 1
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class RunReport:
    operation: str
    env: str
    workers: int
    seconds: float
    results: list[DeviceResult]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[DeviceResult]:
        return [r for r in self.results if r.failed]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_json(self) -> str:
        data = {"operation": self.operation, "env": self.env, "workers": self.workers,
                "seconds": round(self.seconds, 3), "counts": self.counts(), **self.extra,
                "results": [asdict(r) | {"seconds": round(r.seconds, 3)} for r in self.results]}
        return json.dumps(data, indent=2, ensure_ascii=False)

    def print_table(self, console: Console, show_changes: bool = False) -> None:
        table = Table(title=f"egov network {self.operation} ({self.env}, {self.workers} workers, {self.seconds:.1f} s)")
        for column in ("device", "platform", "site", "status", "changes", "error", "s"):
            table.add_column(column)
        for r in sorted(self.results, key=lambda r: (not r.failed, r.device)):
            style = "red" if r.failed else ("yellow" if r.status in ("changed", "differs", "drift") else "green")
            error = f"{r.error_kind}: {r.message}" if r.failed else r.message
            table.add_row(r.device, r.platform, r.site, f"[{style}]{r.status}[/{style}]", str(len(r.changes)),
                          error, f"{r.seconds:.1f}")
        console.print(table)
        if show_changes:
            for r in self.results:
                if r.changes:
                    console.print(f"[bold]{r.device}[/bold]")
                    for line in r.changes:
                        console.print("  " + line, markup=False, highlight=False)
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts().items()))
        console.print(f"{len(self.results)} devices - {summary}")
        for r in self.failures:
            console.print(f"[red]FAILED[/red] {r.device}: {r.error_kind}: {r.message}", highlight=False)
