"""The baseline control catalogue (controls/catalogue.yml) and each host's control results.

A control's result on a host comes from the run's evidence when there is a test case for it
(passed, failed, or skipped as waived / not applicable, as tests/baseline/checks.py reports).
Without one, the catalogue still says what is expected: waived (with its justification) or not
applicable (the control's scope against the host's inventory groups); anything else is
"no evidence" — never "passed".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egov.inventory import build_inventory
from egov.model import Province
from egov.report.collect import TestCase
from egov.report.errors import ReportError

STATUSES = ("passed", "failed", "waived", "not applicable", "skipped", "no evidence")


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    concern: str
    severity: str
    cis: str
    tcvn: str
    groups: tuple[str, ...]           # scope.groups: applies only to hosts of these groups
    exclude_groups: tuple[str, ...]   # scope.exclude_groups
    waived: bool
    waiver_environments: tuple[str, ...]
    justification: str

    def waiver_applies(self, environment: str) -> bool:
        return self.waived and (not self.waiver_environments or environment in self.waiver_environments)


@dataclass(frozen=True)
class ControlResult:
    control: Control
    status: str                       # one of STATUSES
    detail: str                       # failure message, skip reason, justification
    from_run: bool                    # True: a test case of the run; False: the catalogue's expectation


def _control(entry: dict[str, Any]) -> Control:
    scope = entry.get("scope") or {}
    waiver = entry.get("waiver") or {}
    return Control(id=str(entry["id"]), title=str(entry.get("title", "")), concern=str(entry.get("concern", "")),
                   severity=str(entry.get("severity", "")), cis=str(entry.get("cis", "")),
                   tcvn=str(entry.get("tcvn", "")), groups=tuple(scope.get("groups") or ()),
                   exclude_groups=tuple(scope.get("exclude_groups") or ()), waived=bool(waiver.get("waived")),
                   waiver_environments=tuple(waiver.get("environments") or ()),
                   justification=str(waiver.get("justification", "")))


def load_catalogue(path: Path) -> list[Control]:
    """The catalogue's controls, in file order; ReportError when the file is missing or malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data["controls"]
        return [_control(entry) for entry in entries]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ReportError(f"{path}: not a control catalogue ({type(exc).__name__}: {exc})") from exc


def host_groups(province: Province) -> dict[str, set[str]]:
    """Every Linux host of the model -> the inventory groups it is in (directly or through children)."""
    inventory = build_inventory(province)
    out: dict[str, set[str]] = {}

    def walk(group: str, parents: tuple[str, ...]) -> None:
        entry = inventory.get(group) or {}
        for host in entry.get("hosts") or {}:
            out.setdefault(host, set()).update((group, *parents))
        for child in entry.get("children") or {}:
            walk(child, (*parents, group))

    walk("all", ())
    return {host: groups - {"all"} for host, groups in out.items()}


def expected(control: Control, groups: set[str], environment: str) -> tuple[str, str]:
    """What the catalogue alone says of a control on a host: (status, reason)."""
    if control.waiver_applies(environment):
        where = f" ({', '.join(control.waiver_environments)} only)" if control.waiver_environments else ""
        return "waived", f"waived{where}: {control.justification or '(no justification)'}"
    if control.groups and not groups & set(control.groups):
        return "not applicable", f"scope: only hosts in {', '.join(control.groups)}"
    if control.exclude_groups and groups & set(control.exclude_groups):
        return "not applicable", f"scope: excludes {', '.join(sorted(groups & set(control.exclude_groups)))}"
    return "no evidence", ""


def classify(case: TestCase) -> str:
    """A baseline test case's status in the report's words (skips: waived / not applicable / skipped)."""
    if case.status == "passed":
        return "passed"
    if case.status in ("failed", "error"):
        return "failed"
    message = case.message.lower()
    if message.startswith("waived"):
        return "waived"
    if "not applicable" in message:
        return "not applicable"
    return "skipped"


def host_results(controls: list[Control], groups: set[str], cases: dict[str, TestCase],
                 environment: str) -> list[ControlResult]:
    """Each control's result on one host: the run's test case when there is one, else the catalogue's."""
    results = []
    for control in controls:
        case = cases.get(control.id)
        if case is not None:
            results.append(ControlResult(control, classify(case), case.message, True))
        else:
            status, reason = expected(control, groups, environment)
            results.append(ControlResult(control, status, reason, False))
    return results


def summary(results: list[ControlResult]) -> dict[str, int]:
    """Count of results per status, every status present (zero when none)."""
    counts = Counter(r.status for r in results)
    return {status: counts.get(status, 0) for status in STATUSES}
